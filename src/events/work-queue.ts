import type { DataSource } from 'typeorm';
import type { Clock } from '../common/clock';

/** A claimed item: its id and how many attempts it had before this one. */
export interface Claimed {
  id: string;
  attempts: number;
}

/** What one attempt came to. */
export type AttemptOutcome = { ok: true } | { ok: false; error: string };

/**
 * A table used as a retrying work queue: rows with `state` ('pending' until done), `attempts`,
 * `next_attempt_at`, `locked_until` and `last_error` (webhook_deliveries, customer_notifications).
 *
 * `claim()` takes due rows with FOR UPDATE SKIP LOCKED, so that instances polling together never
 * take the same one, and stamps a lease in the same autocommitted statement: nothing is held while
 * the slow part (an HTTP call, an SMTP exchange) runs. A worker that dies mid-attempt leaves the
 * lease to expire and the row is attempted again: delivery is at least once.
 */
export class WorkQueue {
  constructor(
    private readonly db: DataSource,
    private readonly clock: Clock,
    private readonly table: 'webhook_deliveries' | 'customer_notifications',
    /** The states a row reaches when done or given up. */
    private readonly states: { done: string; failed: string },
    /** Delays before each retry; after the last one the row is failed. */
    private readonly retryScheduleMs: number[],
    /** Longer than one attempt can take. */
    private readonly leaseMs: number,
  ) {}

  /** Whether anything is due: one indexed query, for the idle poll. */
  async hasDue(): Promise<boolean> {
    const now = this.clock.now().toISOString();
    const [row] = await this.db.query<{ due: boolean }[]>(
      `SELECT EXISTS (SELECT 1 FROM ${this.table}
          WHERE state = 'pending' AND next_attempt_at <= $1
            AND (locked_until IS NULL OR locked_until <= $1)) AS due`,
      [now],
    );
    return row.due;
  }

  async claim(limit: number): Promise<Claimed[]> {
    const now = this.clock.now();
    const lease = new Date(now.getTime() + this.leaseMs);
    return this.db
      .query<Claimed[]>(
        `UPDATE ${this.table} q SET locked_until = $2
        WHERE q.id IN (
          SELECT id FROM ${this.table}
           WHERE state = 'pending' AND next_attempt_at <= $1
             AND (locked_until IS NULL OR locked_until <= $1)
           ORDER BY next_attempt_at
           LIMIT $3
           FOR UPDATE SKIP LOCKED)
        RETURNING q.id, q.attempts`,
        [now.toISOString(), lease.toISOString(), limit],
      )
      .then((result) => (Array.isArray(result[0]) ? (result[0] as Claimed[]) : result));
  }

  /**
   * The state and next attempt after attempt number `attempt` (1-based) came to `outcome`:
   * done, retried after the schedule's delay, or failed when the schedule is spent.
   */
  next(attempt: number, outcome: AttemptOutcome): { state: string; nextAttemptAt: Date | null } {
    if (outcome.ok) return { state: this.states.done, nextAttemptAt: null };
    const delay = this.retryScheduleMs[attempt - 1];
    if (delay === undefined) return { state: this.states.failed, nextAttemptAt: null };
    return { state: 'pending', nextAttemptAt: new Date(this.clock.now().getTime() + delay) };
  }
}
