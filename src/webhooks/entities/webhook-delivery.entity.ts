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
import { OutboxEventRow } from '../../events/entities/event.entity';
import { WebhookEndpoint } from './webhook-endpoint.entity';

export const DELIVERY_STATES = ['pending', 'delivered', 'failed'] as const;
export type DeliveryState = (typeof DELIVERY_STATES)[number];

/**
 * The work of delivering one event to one endpoint: inserted in the event's own transaction
 * (for every enabled endpoint that wants its type), claimed by any instance once
 * `next_attempt_at` has come (`locked_until` is its lease), until delivered or out of retries.
 */
@Entity({ name: 'webhook_deliveries' })
@Check('ck_webhook_deliveries_state', `state IN ('pending', 'delivered', 'failed')`)
@Index('ix_webhook_deliveries_due', ['nextAttemptAt'], { where: `state = 'pending'` })
@Index('ix_webhook_deliveries_event_id', ['eventId'])
@Index('ix_webhook_deliveries_endpoint_id', ['endpointId'])
export class WebhookDelivery {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'pk_webhook_deliveries' })
  id: string;

  @Column({ name: 'event_id', type: 'uuid' })
  eventId: string;

  @ManyToOne(() => OutboxEventRow, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'event_id', foreignKeyConstraintName: 'fk_webhook_deliveries_event' })
  event?: OutboxEventRow;

  @Column({ name: 'endpoint_id', type: 'uuid' })
  endpointId: string;

  @ManyToOne(() => WebhookEndpoint, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'endpoint_id', foreignKeyConstraintName: 'fk_webhook_deliveries_endpoint' })
  endpoint?: WebhookEndpoint;

  @Column({ type: 'text', default: 'pending' })
  state: DeliveryState;

  /** Attempts made so far. */
  @Column({ type: 'integer', default: 0 })
  attempts: number;

  /** When the next attempt is due; null once delivered or failed. */
  @Column({ name: 'next_attempt_at', type: 'timestamptz', precision: 3, nullable: true })
  nextAttemptAt: Date | null;

  /** The lease of the instance attempting it now. */
  @Column({ name: 'locked_until', type: 'timestamptz', precision: 3, nullable: true })
  lockedUntil: Date | null;

  @Column({ name: 'last_error', type: 'text', nullable: true })
  lastError: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz', precision: 3 })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz', precision: 3 })
  updatedAt: Date;
}
