import { Module } from '@nestjs/common';
import { DatabaseModule } from '../database/database.module';
import { EventFeedModule } from '../event-feed/event-feed.module';
import { AuditModule } from '../audit/audit.module';
import { EventsModule } from '../events/events.module';
import {
  EventRedeliveryController,
  WebhookEndpointsController,
} from './webhook-endpoints.controller';
import { WebhookDispatcher } from './webhook-dispatcher';
import { WebhookEndpointsService } from './webhook-endpoints.service';
import { WebhookSink } from './webhook-sink';

/**
 * Webhooks: endpoints and their secrets, the outbox sink that writes one delivery per event and
 * subscribed endpoint, and the dispatcher that sends them (signed as Standard Webhooks says).
 */
@Module({
  imports: [DatabaseModule, EventsModule, EventFeedModule, AuditModule],
  controllers: [WebhookEndpointsController, EventRedeliveryController],
  providers: [WebhookEndpointsService, WebhookSink, WebhookDispatcher],
})
export class WebhooksModule {}
