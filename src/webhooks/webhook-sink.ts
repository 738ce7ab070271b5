import { Injectable, OnModuleInit } from '@nestjs/common';
import { EventOutbox, OutboxSink } from '../events/event-outbox';

/**
 * The webhooks' share of the outbox: in the event's own transaction, one pending delivery per
 * enabled endpoint that subscribes to its type (or to `*`), due at once. One statement for the
 * whole batch, whatever the number of endpoints, and that within the events' own INSERT.
 * `webhook.test` is never fanned out: the test call enqueues it for its one endpoint.
 */
@Injectable()
export class WebhookSink implements OutboxSink, OnModuleInit {
  constructor(private readonly outbox: EventOutbox) {}

  onModuleInit(): void {
    this.outbox.register(this);
  }

  readonly insertFromRecorded = `
    INSERT INTO webhook_deliveries (event_id, endpoint_id, next_attempt_at)
    SELECT e.id, w.id, e.created_at
      FROM recorded e
      JOIN webhook_endpoints w
        ON w.enabled AND (e.type = ANY (w.event_types) OR '*' = ANY (w.event_types))
     WHERE e.type <> 'webhook.test'`;
}
