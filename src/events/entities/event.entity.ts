import { Check, Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import { sqlList } from '../../common/sql';

/** Every kind of event the service publishes (webhooks, the event feed). */
export const EVENT_TYPES = [
  'customer.disabled',
  'customer.enabled',
  'hold.placed',
  'hold.lifted',
  'hold.expired',
  'invoice.overdue',
  'invoice.paid',
  'webhook.test',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** The SQL list of EVENT_TYPES, for the check constraint. */
export const EVENT_TYPES_SQL = sqlList(EVENT_TYPES);

/**
 * One published event: written in the same transaction as the change that caused it (the
 * outbox), never changed afterwards. `seq` orders the events of one transaction as they were
 * recorded (a placed hold before the transition it causes) and pages the feed.
 */
@Entity({ name: 'events' })
@Check('ck_events_type', `type IN (${EVENT_TYPES_SQL})`)
@Index('uq_events_seq', ['seq'], { unique: true })
@Index('ix_events_customer_id_seq', ['customerId', 'seq'])
@Index('ix_events_type_seq', ['type', 'seq'])
export class OutboxEventRow {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'pk_events' })
  id: string;

  @Column({ type: 'bigint', generated: 'identity', generatedIdentity: 'ALWAYS' })
  seq: string;

  @Column({ type: 'text' })
  type: EventType;

  /** The customer concerned; null for events about nobody (`webhook.test`). */
  @Column({ name: 'customer_id', type: 'uuid', nullable: true })
  customerId: string | null;

  /** `{customer, hold?, invoice?}` as published. */
  @Column({ type: 'jsonb' })
  data: Record<string, unknown>;

  @Column({ name: 'created_at', type: 'timestamptz', precision: 3 })
  createdAt: Date;
}
