import { EventEmitter } from 'node:events';
import { TransactionHost } from '@nestjs-cls/transactional';
import { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { Clock } from '../common/clock';
import { UnitOfWork } from '../database/unit-of-work';
import type { EventType } from './entities/event.entity';

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
  enqueue(events: RecordedEvent[], manager: EntityManager): Promise<void>;
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
  }

  /** Must run inside the transaction of the change the events report. */
  async record(events: NewEvent[]): Promise<RecordedEvent[]> {
    if (events.length === 0) return [];
    if (!this.txHost.isTransactionActive()) {
      throw new Error('EventOutbox.record() must run inside the transaction of its change');
    }
    const manager = this.txHost.tx;
    const createdAt = this.clock.now();
    const recorded: RecordedEvent[] = [];
    // One statement per event, in order, so that `seq` follows the order of the causes.
    for (const event of events) {
      const [row] = await manager.query<{ id: string }[]>(
        `INSERT INTO events (type, customer_id, data, created_at) VALUES ($1, $2, $3, $4) RETURNING id`,
        [event.type, event.customerId, JSON.stringify(event.data), createdAt.toISOString()],
      );
      recorded.push({ ...event, id: row.id, createdAt });
    }
    for (const sink of this.sinks) await sink.enqueue(recorded, manager);
    this.unitOfWork.afterCommit(() => this.committed.emit('events', recorded));
    return recorded;
  }

  /** Hears this instance's committed events. Returns the unsubscribe function. */
  onCommitted(listener: (events: RecordedEvent[]) => void): () => void {
    this.committed.on('events', listener);
    return () => this.committed.off('events', listener);
  }
}
