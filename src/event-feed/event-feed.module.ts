import { Module } from '@nestjs/common';
import { EventsController } from './events.controller';
import { EventsService } from './events.service';

/**
 * The event feed, GET /events: the outbox's events as their consumers read them. Apart from the
 * outbox (src/events), which every module that publishes depends on, because the feed's schema
 * names what the events carry (customers, holds, invoices).
 */
@Module({
  controllers: [EventsController],
  providers: [EventsService],
  exports: [EventsService],
})
export class EventFeedModule {}
