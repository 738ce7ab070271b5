import { Module } from '@nestjs/common';
import { EventOutbox } from './event-outbox';
import { EventRetention } from './event-retention';
import { EventsController } from './events.controller';
import { EventsService } from './events.service';

/**
 * The outbox (EventOutbox: use cases record events in their own transaction, consumers register
 * their sinks), the event feed (GET /events) and its retention.
 */
@Module({
  controllers: [EventsController],
  providers: [EventOutbox, EventsService, EventRetention],
  exports: [EventOutbox, EventsService],
})
export class EventsModule {}
