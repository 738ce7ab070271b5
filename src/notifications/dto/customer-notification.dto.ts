import { ApiProperty } from '@nestjs/swagger';
import { NOTIFICATION_KINDS, NOTIFICATION_STATES } from '../entities/customer-notification.entity';
import type {
  CustomerNotification,
  NotificationKind,
  NotificationState,
} from '../entities/customer-notification.entity';

/** One email to a customer about an event, with where its sending stands. */
export class CustomerNotificationDto {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty({ format: 'uuid', description: 'The event it tells the customer about' })
  event_id: string;

  @ApiProperty({
    enum: NOTIFICATION_KINDS,
    description:
      '`hold_scheduled` (a warning before a hold starts), `customer_disabled`, `customer_enabled`, `invoice_overdue`',
  })
  kind: NotificationKind;

  @ApiProperty({ description: 'The customer’s email when the event happened' })
  recipient: string;

  @ApiProperty()
  subject: string;

  @ApiProperty({
    enum: NOTIFICATION_STATES,
    description: '`pending` until sent; `failed` once EMAIL_RETRY_SCHEDULE is spent',
  })
  state: NotificationState;

  @ApiProperty({ description: 'Attempts made so far', example: 1 })
  attempts: number;

  @ApiProperty({
    type: String,
    nullable: true,
    description: 'The error of the latest failed attempt (kept once sent)',
  })
  last_error: string | null;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  sent_at: string | null;

  @ApiProperty({
    type: String,
    format: 'date-time',
    nullable: true,
    description: 'When the next attempt is due; null once sent or failed',
  })
  next_attempt_at: string | null;

  @ApiProperty({ format: 'date-time' })
  created_at: string;

  static from(this: void, row: CustomerNotification): CustomerNotificationDto {
    return {
      id: row.id,
      event_id: row.eventId,
      kind: row.kind,
      recipient: row.recipient,
      subject: row.subject,
      state: row.state,
      attempts: row.attempts,
      last_error: row.lastError,
      sent_at: row.sentAt?.toISOString() ?? null,
      next_attempt_at: row.nextAttemptAt?.toISOString() ?? null,
      created_at: row.createdAt.toISOString(),
    };
  }
}
