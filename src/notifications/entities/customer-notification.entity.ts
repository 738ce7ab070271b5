import {
  Check,
  Column,
  CreateDateColumn,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
} from 'typeorm';
import { Customer } from '../../customers/entities/customer.entity';
import { OutboxEventRow } from '../../events/entities/event.entity';

export const NOTIFICATION_KINDS = [
  'hold_scheduled',
  'customer_disabled',
  'customer_enabled',
  'invoice_overdue',
] as const;
export type NotificationKind = (typeof NOTIFICATION_KINDS)[number];

export const NOTIFICATION_STATES = ['pending', 'sent', 'failed'] as const;
export type NotificationState = (typeof NOTIFICATION_STATES)[number];

/**
 * An email to a customer about an event: inserted in the event's own transaction, sent by any
 * instance once `next_attempt_at` has come (`locked_until` is its lease), retried until sent or
 * out of retries. At most one per event.
 */
@Entity({ name: 'customer_notifications' })
@Check(
  'ck_customer_notifications_kind',
  `kind IN ('hold_scheduled', 'customer_disabled', 'customer_enabled', 'invoice_overdue')`,
)
@Check('ck_customer_notifications_state', `state IN ('pending', 'sent', 'failed')`)
@Index('uq_customer_notifications_event_id', ['eventId'], { unique: true })
@Index('ix_customer_notifications_customer_id_created_at_id', ['customerId', 'createdAt', 'id'])
@Index('ix_customer_notifications_due', ['nextAttemptAt'], { where: `state = 'pending'` })
export class CustomerNotification {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'pk_customer_notifications' })
  id: string;

  @Column({ name: 'customer_id', type: 'uuid' })
  customerId: string;

  @ManyToOne(() => Customer, { onDelete: 'CASCADE' })
  @JoinColumn({
    name: 'customer_id',
    foreignKeyConstraintName: 'fk_customer_notifications_customer',
  })
  customer?: Customer;

  @Column({ name: 'event_id', type: 'uuid' })
  eventId: string;

  @ManyToOne(() => OutboxEventRow, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'event_id', foreignKeyConstraintName: 'fk_customer_notifications_event' })
  event?: OutboxEventRow;

  @Column({ type: 'text' })
  kind: NotificationKind;

  /** The address it was (or will be) sent to: the customer's email when the event happened. */
  @Column({ type: 'text' })
  recipient: string;

  @Column({ type: 'text' })
  subject: string;

  @Column({ type: 'text', default: 'pending' })
  state: NotificationState;

  @Column({ type: 'integer', default: 0 })
  attempts: number;

  @Column({ name: 'next_attempt_at', type: 'timestamptz', precision: 3, nullable: true })
  nextAttemptAt: Date | null;

  @Column({ name: 'locked_until', type: 'timestamptz', precision: 3, nullable: true })
  lockedUntil: Date | null;

  @Column({ name: 'last_error', type: 'text', nullable: true })
  lastError: string | null;

  @Column({ name: 'sent_at', type: 'timestamptz', precision: 3, nullable: true })
  sentAt: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz', precision: 3 })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz', precision: 3 })
  updatedAt: Date;
}
