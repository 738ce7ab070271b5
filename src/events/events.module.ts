import { Module } from '@nestjs/common';
import { DatabaseModule } from '../database/database.module';
import { EventOutbox } from './event-outbox';
import { EventRetention } from './event-retention';

/**
 * The outbox (EventOutbox: use cases record events in their own transaction, consumers register
 * their sinks) and its retention. It knows nothing of what events are about: the feed that
 * publishes them (GET /events) is src/event-feed.
 */
@Module({
  imports: [DatabaseModule],
  providers: [EventOutbox, EventRetention],
  exports: [EventOutbox],
})
export class EventsModule {}
