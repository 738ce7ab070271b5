import { createHash, randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { TransactionHost } from '@nestjs-cls/transactional';
import { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { Clock } from '../common/clock';
import { runInTransaction, Statement } from '../database/statement';
import { UnitOfWork } from '../database/unit-of-work';
import type { EventType } from './entities/event.entity';

/**
 * Every event of a change, and the sinks' work, as the common table expressions of one
 * statement (`recorded AS (...), sink_0 AS (...)`, parameters numbered from `$first`) and the
 * select list that counts what each wrote. The events are inserted in the order given (ORDER BY
 * the ordinality), so that `seq` follows the order of the causes; the sinks' own INSERTs read
 * them from `recorded` in the same statement. Ids are chosen here, so that no RETURNING has to
 * be matched back to its event.
 */
function eventsSql(sinkStatements: string[], first: number): { ctes: string; counts: string } {
  const p = (i: number) => `$${first + i}`;
  const ctes = `recorded AS (
      INSERT INTO events (id, type, customer_id, data, created_at)
      SELECT e.id, e.type, e.customer_id, e.data, ${p(4)}::timestamptz
        FROM unnest(${p(0)}::uuid[], ${p(1)}::text[], ${p(2)}::uuid[], ${p(3)}::jsonb[])
             WITH ORDINALITY AS e(id, type, customer_id, data, n)
       ORDER BY e.n
      RETURNING id, type, customer_id, created_at
    )${sinkStatements.map((sql, i) => `,\n    sink_${i} AS (${sql} RETURNING 1)`).join('')}`;
  const counts = [
    '(SELECT count(*)::int FROM recorded) AS recorded',
    ...sinkStatements.map((_, i) => `(SELECT count(*)::int FROM sink_${i}) AS sink_${i}`),
  ].join(', ');
  return { ctes, counts };
}

/** How many parameters the events' part of a statement takes (EventOutbox.within). */
export const EVENTS_PARAMETERS = 5;

/** A statement named after its text: one that differs (other sinks) is another, never a clash. */
export function namedByText(prefix: string, text: string): Statement {
  return { name: `${prefix}_${createHash('sha1').update(text).digest('hex').slice(0, 12)}`, text };
}

/**
 * Events about to be written within a caller's own statement (EventOutbox.within): its part of
 * the statement, and what `written` needs once the statement has run.
 */
export interface EventsWithin {
  recorded: RecordedEvent[];
  /** The common table expressions, to follow `WITH` or a comma; parameters from `$first`. */
  ctes: string;
  /** Select-list items: what the events and each sink wrote, as `recorded` and `sink_<i>`. */
  counts: string;
  /** The parameters, EVENTS_PARAMETERS of them. */
  values: unknown[];
  sinks: OutboxSink[];
}

/** What each sink that writes in SQL wrote, from the counts of the statement's row. */
function writtenBy(within: EventsWithin, row: Record<string, unknown>): Map<OutboxSink, number> {
  const written = new Map<OutboxSink, number>();
  within.sinks.forEach((sink, i) => written.set(sink, Number(row[`sink_${i}`])));
  return written;
}

/** An event to publish, as its cause knows it. */
export interface NewEvent {
  type: EventType;
  customerId: string | null;
  /** `{customer, hold?, invoice?}` as the feed and the webhooks show it. */
  data: Record<string, unknown>;
  /**
   * Whether the customer may be emailed about it (a hold's `notify_customer`); never published.
   * Default true.
   */
  notifyCustomer?: boolean;
}

/** An event as written: what every sink receives, in the writing transaction. */
export interface RecordedEvent extends NewEvent {
  id: string;
  createdAt: Date;
}

/**
 * A consumer of the outbox (webhook deliveries, customer emails): in the event's own transaction
 * it writes the work the events mean for it, so that the work exists exactly when the events do.
 * Only writes: the work itself is done later by its worker, never inside the change.
 */
export interface OutboxSink {
  /**
   * Its work as one INSERT ... SELECT from `recorded` (the events just written: id, type,
   * customer_id, created_at), without RETURNING, run within the events' own INSERT: no round trip
   * of its own; how many rows it wrote is told to onCommitted's listeners.
   */
  readonly insertFromRecorded?: string;
  /** Its work written from the events in JS, after them, when SQL alone cannot say it. */
  enqueue?(events: RecordedEvent[], manager: EntityManager): Promise<void>;
}

/**
 * The transactional outbox. `record()` writes events in the caller's transaction (a rolled-back
 * change publishes nothing; a committed one cannot lose its events, whatever happens after the
 * commit) and hands them to every registered sink in that same transaction. After the commit it
 * tells this instance's workers, so that the first attempt does not wait for their next poll.
 */
@Injectable()
export class EventOutbox {
  private readonly sinks: OutboxSink[] = [];
  private readonly committed = new EventEmitter();
  private insert: Statement | undefined;

  constructor(
    private readonly txHost: TransactionHost<TransactionalAdapterTypeOrm>,
    private readonly unitOfWork: UnitOfWork,
    private readonly clock: Clock,
  ) {
    this.committed.setMaxListeners(0);
  }

  /** Called by each consumer's module at init. */
  register(sink: OutboxSink): void {
    this.sinks.push(sink);
    this.insert = undefined;
  }

  /** Must run inside the transaction of the change the events report. */
  async record(events: NewEvent[]): Promise<RecordedEvent[]> {
    if (events.length === 0) return [];
    if (!this.txHost.isTransactionActive()) {
      throw new Error('EventOutbox.record() must run inside the transaction of its change');
    }
    const within = this.within(events, 1);
    this.insert ??= namedByText(
      'events_insert',
      `WITH ${within.ctes}\n    SELECT ${within.counts}`,
    );
    const { rows } = await runInTransaction<Record<string, number>>(
      this.txHost.tx,
      this.insert,
      within.values,
    );
    return this.written(within, rows[0]);
  }

  /**
   * The events as a part of the caller's own statement (parameters numbered from `$first`),
   * for a use case that writes them with its other writes in one round trip. The caller runs
   * the statement in the transaction of the change, then calls `written` with its row.
   */
  within(events: NewEvent[], first: number): EventsWithin {
    const createdAt = this.clock.now();
    const recorded: RecordedEvent[] = events.map((event) => ({
      ...event,
      id: randomUUID(),
      createdAt,
    }));
    const sinks = this.sinks.filter((sink) => sink.insertFromRecorded !== undefined);
    const { ctes, counts } = eventsSql(
      sinks.map((sink) => sink.insertFromRecorded!),
      first,
    );
    return {
      recorded,
      ctes,
      counts,
      sinks,
      values: [
        recorded.map((e) => e.id),
        recorded.map((e) => e.type),
        recorded.map((e) => e.customerId),
        recorded.map((e) => JSON.stringify(e.data)),
        createdAt.toISOString(),
      ],
    };
  }

  /**
   * After the statement that wrote `within`'s events (`row`: its counts): the sinks that write
   * in JS write theirs, in the same transaction, and this instance's workers are told after
   * the commit.
   */
  async written(within: EventsWithin, row: Record<string, unknown>): Promise<RecordedEvent[]> {
    const { recorded } = within;
    if (recorded.length === 0) return recorded;
    const manager = this.txHost.tx;
    for (const sink of this.sinks) await sink.enqueue?.(recorded, manager);
    const written = writtenBy(within, row);
    this.unitOfWork.afterCommit(() => this.committed.emit('events', recorded, written));
    return recorded;
  }

  /**
   * For a statement with `within`'s events that the caller sends with the commit
   * (UnitOfWork.sendWithCommit) rather than awaits: what to hand its row to once answered. The
   * workers are told after the commit, in the order of the caller's afterCommit callbacks, as
   * `written` would. Undefined when a sink writes in JS (`enqueue`): its statements must follow
   * the events in the transaction, so the caller awaits the statement and calls `written`.
   */
  writtenOnAnswer(within: EventsWithin): ((row: Record<string, unknown>) => void) | undefined {
    const { recorded } = within;
    if (recorded.length === 0) return () => undefined;
    if (this.sinks.some((sink) => sink.enqueue !== undefined)) return undefined;
    let written: Map<OutboxSink, number> | undefined;
    this.unitOfWork.afterCommit(() => this.committed.emit('events', recorded, written));
    return (row) => {
      written = writtenBy(within, row);
    };
  }

  /**
   * Hears this instance's committed events, with the rows each sink that writes in SQL
   * (`insertFromRecorded`) wrote for them. Returns the unsubscribe function.
   */
  onCommitted(
    listener: (events: RecordedEvent[], written: ReadonlyMap<OutboxSink, number>) => void,
  ): () => void {
    this.committed.on('events', listener);
    return () => this.committed.off('events', listener);
  }
}
