import {
  Column,
  CreateDateColumn,
  Entity,
  Index,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
} from 'typeorm';

/**
 * Where events are delivered. `secret` is the signing secret, encrypted when WEBHOOK_SECRETS_KEY
 * is set (`enc:v1:...`), else as the standard gives it (`whsec_...`); after a rotation the
 * previous one also signs until `previous_secret_expires_at`.
 */
@Entity({ name: 'webhook_endpoints' })
@Index('ix_webhook_endpoints_created_at_id', ['createdAt', 'id'])
export class WebhookEndpoint {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'pk_webhook_endpoints' })
  id: string;

  @Column({ type: 'text' })
  url: string;

  /** Event types delivered here, or `['*']` for all. */
  @Column({ name: 'event_types', type: 'text', array: true })
  eventTypes: string[];

  @Column({ type: 'text', nullable: true })
  description: string | null;

  @Column({ type: 'boolean', default: true })
  enabled: boolean;

  @Column({ type: 'text' })
  secret: string;

  @Column({ name: 'previous_secret', type: 'text', nullable: true })
  previousSecret: string | null;

  @Column({
    name: 'previous_secret_expires_at',
    type: 'timestamptz',
    precision: 3,
    nullable: true,
  })
  previousSecretExpiresAt: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz', precision: 3 })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz', precision: 3 })
  updatedAt: Date;
}
