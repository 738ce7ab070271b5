import { Injectable, OnModuleInit } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { emailsEnabled } from '../config/app-config';
import type { AppConfig } from '../config/app-config';
import { InjectConfig } from '../config/config.module';
import { EventOutbox, OutboxSink, RecordedEvent } from '../events/event-outbox';
import { notificationKindOf, renderNotification } from './customer-emails';

/**
 * Writes the customer's email about an event in the event's own transaction (the outbox): an
 * email exists exactly when its event does, at most one per event, and is sent later by the
 * NotificationDispatcher of any instance. Only when SMTP_URL and EMAIL_FROM are set.
 */
@Injectable()
export class CustomerNotificationSink implements OutboxSink, OnModuleInit {
  constructor(
    private readonly outbox: EventOutbox,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    if (emailsEnabled(this.config)) this.outbox.register(this);
  }

  async enqueue(events: RecordedEvent[], manager: EntityManager): Promise<void> {
    for (const event of events) {
      const kind = notificationKindOf(event);
      if (kind === null || event.customerId === null) continue;
      const recipient = (event.data as { customer: { email: string } }).customer.email;
      // The subject as it is listed; the body is rendered again from the event when sent.
      const { subject } = renderNotification(kind, event.data, this.config.holdReasonCustomerTexts);
      const at = event.createdAt.toISOString();
      await manager.query(
        `INSERT INTO customer_notifications
           (customer_id, event_id, kind, recipient, subject, next_attempt_at, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $6, $6)`,
        [event.customerId, event.id, kind, recipient, subject, at],
      );
    }
  }
}
