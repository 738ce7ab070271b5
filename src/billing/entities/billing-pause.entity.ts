import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { Customer } from '../../customers/entities/customer.entity';

/**
 * A time during which a customer's billing was paused. Written by a trigger on
 * `customers.billing_paused` (see the migration), so that whoever pauses or resumes billing,
 * the interval is recorded in the same transaction; the billing run reads it to skip the
 * periods it overlaps.
 */
@Entity({ name: 'billing_pauses' })
@Index('ix_billing_pauses_customer_id', ['customerId'])
export class BillingPause {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'pk_billing_pauses' })
  id: string;

  @Column({ name: 'customer_id', type: 'uuid' })
  customerId: string;

  @ManyToOne(() => Customer, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'customer_id', foreignKeyConstraintName: 'fk_billing_pauses_customer' })
  customer?: Customer;

  @Column({ name: 'paused_at', type: 'timestamptz', precision: 3 })
  pausedAt: Date;

  /** null while still paused. */
  @Column({ name: 'resumed_at', type: 'timestamptz', precision: 3, nullable: true })
  resumedAt: Date | null;
}
