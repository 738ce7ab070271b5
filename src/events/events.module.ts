import { Module } from '@nestjs/common';
import { EventOutbox } from './event-outbox';
import { EventsController } from './events.controller';
import { EventsService } from './events.service';

/**
 * The outbox (EventOutbox: use cases record events in their own transaction, consumers register
 * their sinks) and the event feed, GET /events.
 */
@Module({
  controllers: [EventsController],
  providers: [EventOutbox, EventsService],
  exports: [EventOutbox, EventsService],
})
export class EventsModule {}
