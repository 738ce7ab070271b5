import type { EntityManager } from 'typeorm';
import { runInTransaction } from '../../database/statement';
import { Hold, holdFromRow } from '../entities/hold.entity';

/**
 * "The hold still counts at or after `at`": it stops (its end, or its lift if earlier) no sooner
 * than `at`. Written as three arms so that each is a range of ix_holds_customer_id_lifted_at_ends_at
 * (customer_id, lifted_at, ends_at): unlifted without end, unlifted ending from `at`, lifted from `at`.
 */
function stopsFrom(hold: string, at: string): string {
  return `((${hold}.lifted_at IS NULL AND ${hold}.ends_at IS NULL)
        OR (${hold}.lifted_at IS NULL AND ${hold}.ends_at >= ${at})
        OR (${hold}.lifted_at >= ${at} AND (${hold}.ends_at IS NULL OR ${hold}.ends_at >= ${at})))`;
}

/**
 * The holds of customer `customer` (an SQL expression) that can matter to the access rule
 * (accessAt) at any instant from `from` (an SQL expression) on, as the rows of `SELECT h.*`
 * (unordered); a customer's lifted and expired history before that is never read.
 *
 * A hold matters at t >= from if it counts at t or later (the state, the reason, the next
 * boundary), or if it belongs to the disabled stretch around t (disabled_since walks back through
 * holds that ran into the stretch without a gap, lifted and expired ones included). The second
 * kind is found by walking back: `horizon` starts at `from`, and while a hold that stops at or
 * after the horizon started before it, the horizon moves back to that start. At the end every hold
 * that stops at or after the horizon started at or after it, so no hold stopping before the horizon
 * can touch a stretch that reaches it, and the holds that stop from the horizon on are all that
 * matter. For a customer with no stretch running into `from` that is its unlifted holds yet to
 * end and those that stopped from `from` on; each step of the walk reads index ranges only.
 */
export function holdsInPlaySql(customer: string, from: string): string {
  return `WITH RECURSIVE horizon(at) AS (
      SELECT ${from}::timestamptz
      UNION ALL
      SELECT earlier.at
        FROM horizon,
             LATERAL (SELECT min(e.starts_at) AS at FROM holds e
                       WHERE e.customer_id = ${customer} AND ${stopsFrom('e', 'horizon.at')}) earlier
       WHERE earlier.at < horizon.at
    ), since AS (SELECT min(at) AS at FROM horizon)
    SELECT h.* FROM holds h, since
     WHERE h.customer_id = ${customer} AND ${stopsFrom('h', 'since.at')}`;
}

/**
 * The use cases' read of a customer's holds under its row lock: $1 the customer, $2 the earliest
 * instant the use case looks at (see HoldsService.lock).
 */
const HOLDS_IN_PLAY = {
  name: 'holds_in_play',
  text: `${holdsInPlaySql('$1::uuid', '$2')} ORDER BY h.starts_at, h.id`,
};

/**
 * The holds of `customerId` that can matter at any instant from `from` on (holdsInPlaySql), read
 * in `manager`'s transaction, ordered by start (then id).
 */
export async function holdsInPlay(
  manager: EntityManager,
  customerId: string,
  from: Date,
): Promise<Hold[]> {
  const { rows } = await runInTransaction(manager, HOLDS_IN_PLAY, [customerId, from.toISOString()]);
  return rows.map(holdFromRow);
}
