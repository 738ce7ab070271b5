import { TransactionHost } from '@nestjs-cls/transactional';
import { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { Injectable, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { ChangeAwareCache } from '../changes/change-aware-cache';
import { CustomerChangeFeed } from '../changes/customer-change-feed';
import { NotFoundError } from '../common/errors';
import type { AppConfig } from '../config/app-config';
import { InjectConfig } from '../config/config.module';
import type { CustomerStatus } from '../customers/entities/customer.entity';
import type { LimitsDto } from './dto/limits.dto';

const MAX_CACHED_CUSTOMERS = 200_000;

interface GrantRow {
  status: CustomerStatus;
  subscription_id: string | null;
  user_count: number | null;
  feature: string | null;
  limit: number | null;
}

/**
 * What a customer may do now, computed from its active subscriptions: features united, limits
 * and seats summed. This is the hot path (customer backends ask on every request they serve), so
 * answers are cached per customer and dropped when any instance commits a change to the
 * customer (status, subscriptions, keys) or to anything (`null`). The cache is bypassed while the
 * change feed cannot hear other instances, and a read that a change overtook is not cached (see
 * ChangeAwareCache), so no answer says "enabled" once a disable has been heard.
 */
@Injectable()
export class LimitsService implements OnModuleInit, OnModuleDestroy {
  private readonly cache: ChangeAwareCache<LimitsDto>;
  private unsubscribe: (() => void) | undefined;

  constructor(
    private readonly txHost: TransactionHost<TransactionalAdapterTypeOrm>,
    private readonly feed: CustomerChangeFeed,
    @InjectConfig() config: AppConfig,
  ) {
    this.cache = new ChangeAwareCache({
      maxEntries: MAX_CACHED_CUSTOMERS,
      usable: config.limitsCache ? () => feed.live : () => false,
    });
  }

  onModuleInit(): void {
    this.unsubscribe = this.feed.subscribe((customerId) =>
      customerId === null ? this.cache.clear() : this.cache.invalidate(customerId),
    );
  }

  onModuleDestroy(): void {
    this.unsubscribe?.();
  }

  /** The customer's limits; synchronous on a cache hit. 404 for an unknown customer. */
  limitsOf(customerId: string): LimitsDto | Promise<LimitsDto> {
    return this.cache.get(customerId, () => this.compute(customerId));
  }

  /**
   * The customer's limits if the cache holds them and may be used now, else undefined; never
   * loads. For the fast lane, which sends exactly what `limitsOf` would on a hit.
   */
  cachedLimitsOf(customerId: string): LimitsDto | undefined {
    return this.cache.peek(customerId);
  }

  /** Whether the customer is disabled, from the same cache. */
  isDisabled(customerId: string): boolean | Promise<boolean> {
    const limits = this.limitsOf(customerId);
    return limits instanceof Promise ? limits.then((found) => found.disabled) : limits.disabled;
  }

  private async compute(customerId: string): Promise<LimitsDto> {
    const rows = await this.txHost.tx.query<GrantRow[]>(
      `SELECT c.status, s.id AS subscription_id, p.user_count, f.code AS feature, pf."limit"
         FROM customers c
         LEFT JOIN subscriptions s
                ON s.customer_id = c.id AND s.status = 'active' AND c.status = 'enabled'
         LEFT JOIN plans p ON p.id = s.plan_id
         LEFT JOIN plan_features pf ON pf.plan_id = p.id
         LEFT JOIN features f ON f.id = pf.feature_id
        WHERE c.id = $1`,
      [customerId],
    );
    if (rows.length === 0) throw new NotFoundError('Customer', customerId);
    return freeze(limitsFrom(customerId, rows));
  }
}

/** Seats summed once per subscription; a feature limited by every grant gets the sum. */
function limitsFrom(customerId: string, rows: GrantRow[]): LimitsDto {
  const status = rows[0].status;
  if (status === 'disabled') {
    return {
      customer_id: customerId,
      status,
      disabled: true,
      user_count: 0,
      features: [],
      limits: {},
    };
  }
  const seats = new Map<string, number>();
  const totals = new Map<string, number | null>(); // null: some grant does not limit it
  for (const row of rows) {
    if (row.subscription_id === null) continue;
    seats.set(row.subscription_id, row.user_count ?? 0);
    if (row.feature === null) continue;
    const total = totals.get(row.feature);
    totals.set(row.feature, total === null || row.limit === null ? null : (total ?? 0) + row.limit);
  }
  const features = [...totals.keys()].sort();
  const limits: Record<string, number> = {};
  for (const code of features) {
    const total = totals.get(code);
    if (total !== null && total !== undefined) limits[code] = total;
  }
  let userCount = 0;
  for (const count of seats.values()) userCount += count;
  return {
    customer_id: customerId,
    status,
    disabled: false,
    user_count: userCount,
    features,
    limits,
  };
}

/** Cached answers are shared by every request: nothing may change them in place. */
function freeze(limits: LimitsDto): LimitsDto {
  Object.freeze(limits.features);
  Object.freeze(limits.limits);
  return Object.freeze(limits);
}
