import { TransactionHost } from '@nestjs-cls/transactional';
import { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { Injectable } from '@nestjs/common';
import { ChangeAwareCache } from '../../changes/change-aware-cache';
import { CustomerChangeFeed } from '../../changes/customer-change-feed';
import { Clock } from '../../common/clock';
import { NotFoundError } from '../../common/errors';
import { Hold, holdFromRow as holdFromColumns } from '../entities/hold.entity';
import { Access, accessAt } from './customer-access';
import { holdsInPlaySql } from './holds-in-play';

const MAX_CACHED_CUSTOMERS = 200_000;

/** A customer's access at the instant it was read, with the holds that decide it. */
export interface CustomerAccess extends Access<Hold> {
  /** Holds not lifted whose end has not come: the active ones and the scheduled ones. */
  pendingHolds: Hold[];
  asOf: Date;
}

/**
 * The one place that answers "is this customer disabled now", from its holds and the clock (never
 * from the projection alone, so an answer is right at a boundary before the scheduler ran). Used
 * by authentication (customer keys), limits and the subscriptions' rule. Answers are cached per
 * customer until a change is announced or the customer's next boundary comes.
 */
@Injectable()
export class CustomerAccessReader {
  private readonly cache: ChangeAwareCache<CustomerAccess>;

  constructor(
    private readonly txHost: TransactionHost<TransactionalAdapterTypeOrm>,
    feed: CustomerChangeFeed,
    private readonly clock: Clock,
  ) {
    this.cache = feed.cache({
      maxEntries: MAX_CACHED_CUSTOMERS,
      validUntil: (access) => access.nextBoundary?.getTime() ?? null,
      now: () => clock.now().getTime(),
    });
  }

  /** Synchronous on a cache hit. 404 for an unknown customer. */
  accessOf(customerId: string): CustomerAccess | Promise<CustomerAccess> {
    return this.cache.get(customerId, () => this.read(customerId));
  }

  isDisabledNow(customerId: string): boolean | Promise<boolean> {
    const access = this.accessOf(customerId);
    return access instanceof Promise ? access.then((a) => a.disabled) : access.disabled;
  }

  /**
   * Reads the holds, in the current transaction if there is one (the subscriptions' rule reads
   * under the customer's row lock), and derives the access at the clock's now.
   */
  async read(customerId: string): Promise<CustomerAccess> {
    const now = this.clock.now();
    // One query for the customer and the holds that matter now: this runs on every cache miss of
    // the hot path, and a customer's lifted and expired history is not read.
    const rows = await this.txHost.tx.query<HoldRow[]>(
      `SELECT h.id, h.customer_id, h.source, h.reason_code, h.reason, h.starts_at, h.ends_at,
              h.lifted_at, h.pause_billing
         FROM customers c
         LEFT JOIN (${holdsInPlaySql('$1::uuid', '$2')}) h ON true
        WHERE c.id = $1`,
      [customerId, now.toISOString()],
    );
    if (rows.length === 0) throw new NotFoundError('Customer', customerId);
    const holds = rows.filter((row) => row.id !== null).map(holdFromRow);
    return accessFrom(holds, now);
  }

  /**
   * The holds of these customers that can matter to their access from `at` on (holdsInPlaySql):
   * unlifted ones yet to end, and those of the disabled stretch `at` is in. Ordered by customer,
   * then start.
   */
  async holdsOf(customerIds: string[], at: Date): Promise<Hold[]> {
    if (customerIds.length === 0) return [];
    const rows = await this.txHost.tx.query<Record<string, unknown>[]>(
      `SELECT h.* FROM unnest($1::uuid[]) AS c(id),
              LATERAL (${holdsInPlaySql('c.id', '$2')}) h
        ORDER BY h.customer_id, h.starts_at, h.id`,
      [customerIds, at.toISOString()],
    );
    return rows.map(holdFromColumns);
  }
}

interface HoldRow {
  id: string | null;
  customer_id: string;
  source: Hold['source'];
  reason_code: string;
  reason: string | null;
  starts_at: Date;
  ends_at: Date | null;
  lifted_at: Date | null;
  pause_billing: boolean;
}

/** What the access rule and its answers read of a hold; the rest stays unset. */
function holdFromRow(row: HoldRow): Hold {
  return Object.assign(new Hold(), {
    id: row.id,
    customerId: row.customer_id,
    source: row.source,
    reasonCode: row.reason_code,
    reason: row.reason,
    startsAt: row.starts_at,
    endsAt: row.ends_at,
    liftedAt: row.lifted_at,
    pauseBilling: row.pause_billing,
  });
}

/** Access at `now` with the pending holds (active and scheduled). */
export function accessFrom(holds: Hold[], now: Date): CustomerAccess {
  const access = accessAt(holds, now);
  const at = now.getTime();
  return {
    ...access,
    pendingHolds: holds.filter(
      (hold) => hold.liftedAt === null && (hold.endsAt === null || hold.endsAt.getTime() > at),
    ),
    asOf: now,
  };
}
