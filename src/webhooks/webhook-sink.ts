import { Injectable, OnModuleInit } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { EventOutbox, OutboxSink, RecordedEvent } from '../events/event-outbox';

/**
 * The webhooks' share of the outbox: in the event's own transaction, one pending delivery per
 * enabled endpoint that subscribes to its type (or to `*`), due at once. One statement for the
 * whole batch, whatever the number of endpoints. `webhook.test` is never fanned out: the test
 * call enqueues it for its one endpoint.
 */
@Injectable()
export class WebhookSink implements OutboxSink, OnModuleInit {
  constructor(private readonly outbox: EventOutbox) {}

  onModuleInit(): void {
    this.outbox.register(this);
  }

  async enqueue(events: RecordedEvent[], manager: EntityManager): Promise<void> {
    const published = events.filter((e) => e.type !== 'webhook.test');
    if (published.length === 0) return;
    await manager.query(
      `INSERT INTO webhook_deliveries (event_id, endpoint_id, next_attempt_at)
       SELECT e.id, w.id, e.created_at
         FROM unnest($1::uuid[], $2::text[], $3::timestamptz[]) AS e(id, type, created_at)
         JOIN webhook_endpoints w
           ON w.enabled AND (e.type = ANY (w.event_types) OR '*' = ANY (w.event_types))`,
      [
        published.map((e) => e.id),
        published.map((e) => e.type),
        published.map((e) => e.createdAt.toISOString()),
      ],
    );
  }
}
