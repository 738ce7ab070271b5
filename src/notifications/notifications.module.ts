import { Module } from '@nestjs/common';
import { CustomersModule } from '../customers/customers.module';
import { EventsModule } from '../events/events.module';
import { CustomerNotificationSink } from './customer-notification-sink';
import { NotificationDispatcher } from './notification-dispatcher';
import { NotificationsController } from './notifications.controller';
import { NotificationsService } from './notifications.service';

/**
 * Telling the customer: emails written from the outbox in the events' own transaction
 * (CustomerNotificationSink), sent through SMTP by any instance (NotificationDispatcher), and
 * listed per customer.
 */
@Module({
  imports: [EventsModule, CustomersModule],
  controllers: [NotificationsController],
  providers: [CustomerNotificationSink, NotificationDispatcher, NotificationsService],
})
export class NotificationsModule {}
