import { TransactionHost } from '@nestjs-cls/transactional';
import { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { Injectable } from '@nestjs/common';
import { ChangeAwareCache } from '../changes/change-aware-cache';
import { CustomerChangeFeed } from '../changes/customer-change-feed';
import { Clock } from '../common/clock';
import { CustomerAccess, CustomerAccessReader } from '../customers/access/customer-access-reader';
import type { LimitsDto } from './dto/limits.dto';

const MAX_CACHED_CUSTOMERS = 200_000;

/** An answer, and the instant it stops being true by itself (a hold's start or end). */
interface CachedLimits {
  answer: LimitsDto;
  validUntil: number | null;
}

interface GrantRow {
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
 * ChangeAwareCache), so no answer says "enabled" once a disable has been heard. An answer is
 * also kept only until the customer's next hold boundary, so none cached before a hold starts or
 * ends outlives that instant.
 */
@Injectable()
export class LimitsService {
  private readonly cache: ChangeAwareCache<CachedLimits>;

  constructor(
    private readonly txHost: TransactionHost<TransactionalAdapterTypeOrm>,
    feed: CustomerChangeFeed,
    private readonly access: CustomerAccessReader,
    clock: Clock,
  ) {
    this.cache = feed.cache({
      maxEntries: MAX_CACHED_CUSTOMERS,
      validUntil: (cached) => cached.validUntil,
      now: () => clock.now().getTime(),
    });
  }

  /** The customer's limits; synchronous on a cache hit. 404 for an unknown customer. */
  limitsOf(customerId: string): LimitsDto | Promise<LimitsDto> {
    const cached = this.cache.get(customerId, () => this.compute(customerId));
    return cached instanceof Promise ? cached.then((c) => c.answer) : cached.answer;
  }

  /**
   * The customer's limits if the cache holds them and may be used now, else undefined; never
   * loads. For the fast lane, which sends exactly what `limitsOf` would on a hit.
   */
  cachedLimitsOf(customerId: string): LimitsDto | undefined {
    return this.cache.peek(customerId)?.answer;
  }

  /** Status from the holds at the clock's now (CustomerAccessReader); grants only when enabled. */
  private async compute(customerId: string): Promise<CachedLimits> {
    const access = await this.access.read(customerId);
    const rows = access.disabled
      ? []
      : await this.txHost.tx.query<GrantRow[]>(
          `SELECT s.id AS subscription_id, p.user_count, f.code AS feature, pf."limit"
             FROM subscriptions s
             JOIN plans p ON p.id = s.plan_id
             LEFT JOIN plan_features pf ON pf.plan_id = p.id
             LEFT JOIN features f ON f.id = pf.feature_id
            WHERE s.customer_id = $1 AND s.status = 'active'`,
          [customerId],
        );
    return {
      answer: freeze(limitsFrom(customerId, access, rows)),
      validUntil: access.nextBoundary?.getTime() ?? null,
    };
  }
}

/** Seats summed once per subscription; a feature limited by every grant gets the sum. */
function limitsFrom(customerId: string, access: CustomerAccess, rows: GrantRow[]): LimitsDto {
  const holds = access.activeHolds.map((hold) =>
    Object.freeze({
      id: hold.id,
      source: hold.source,
      reason_code: hold.reasonCode,
      since: hold.startsAt.toISOString(),
      until: hold.endsAt?.toISOString() ?? null,
    }),
  );
  const asOf = access.asOf.toISOString();
  if (access.disabled) {
    return {
      customer_id: customerId,
      status: 'disabled',
      disabled: true,
      holds,
      user_count: 0,
      features: [],
      limits: {},
      as_of: asOf,
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
    status: 'enabled',
    disabled: false,
    holds,
    user_count: userCount,
    features,
    limits,
    as_of: asOf,
  };
}

/** Cached answers are shared by every request: nothing may change them in place. */
function freeze(limits: LimitsDto): LimitsDto {
  Object.freeze(limits.features);
  Object.freeze(limits.limits);
  Object.freeze(limits.holds);
  return Object.freeze(limits);
}
