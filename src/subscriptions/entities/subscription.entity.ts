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
import { Plan } from '../../plans/entities/plan.entity';

export type SubscriptionStatus = 'active' | 'cancelled';

@Entity({ name: 'subscriptions' })
@Check('ck_subscriptions_status', `status IN ('active', 'cancelled')`)
@Check('ck_subscriptions_period', `current_period_end > current_period_start`)
// A customer's subscriptions, newest first; the billing run walks active ones by period end.
@Index('ix_subscriptions_customer_id_created_at', ['customerId', 'createdAt', 'id'])
@Index('ix_subscriptions_active_period_end', ['currentPeriodEnd'], {
  where: `status = 'active'`,
})
export class Subscription {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'pk_subscriptions' })
  id: string;

  @Column({ name: 'customer_id', type: 'uuid' })
  customerId: string;

  @ManyToOne(() => Customer, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'customer_id', foreignKeyConstraintName: 'fk_subscriptions_customer' })
  customer?: Customer;

  @Column({ name: 'plan_id', type: 'uuid' })
  planId: string;

  @ManyToOne(() => Plan, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'plan_id', foreignKeyConstraintName: 'fk_subscriptions_plan' })
  plan?: Plan;

  @Column({ type: 'text', default: 'active' })
  status: SubscriptionStatus;

  /** The billing anchor: every period ends on this day of the month (or of the year). */
  @Column({ name: 'started_at', type: 'timestamptz', precision: 3 })
  startedAt: Date;

  @Column({ name: 'current_period_start', type: 'timestamptz', precision: 3 })
  currentPeriodStart: Date;

  @Column({ name: 'current_period_end', type: 'timestamptz', precision: 3 })
  currentPeriodEnd: Date;

  @Column({ name: 'cancelled_at', type: 'timestamptz', precision: 3, nullable: true })
  cancelledAt: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz', precision: 3 })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz', precision: 3 })
  updatedAt: Date;
}
