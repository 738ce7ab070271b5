import {
  Column,
  CreateDateColumn,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryGeneratedColumn,
  Unique,
} from 'typeorm';
import { Customer } from '../../customers/entities/customer.entity';
import { Plan } from '../../plans/entities/plan.entity';
import { Subscription } from '../../subscriptions/entities/subscription.entity';
import { BillingRun } from './billing-run.entity';

/** What a customer owes for one period of one subscription. */
@Entity({ name: 'invoices' })
// The guarantee that no period is ever invoiced twice, whatever runs at the same time.
@Unique('uq_invoices_subscription_period', ['subscriptionId', 'periodStart'])
@Index('ix_invoices_customer_id_created_at', ['customerId', 'createdAt', 'id'])
export class Invoice {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'pk_invoices' })
  id: string;

  @Column({ name: 'subscription_id', type: 'uuid' })
  subscriptionId: string;

  @ManyToOne(() => Subscription, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'subscription_id', foreignKeyConstraintName: 'fk_invoices_subscription' })
  subscription?: Subscription;

  @Column({ name: 'customer_id', type: 'uuid' })
  customerId: string;

  @ManyToOne(() => Customer, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'customer_id', foreignKeyConstraintName: 'fk_invoices_customer' })
  customer?: Customer;

  @Column({ name: 'plan_id', type: 'uuid' })
  planId: string;

  @ManyToOne(() => Plan, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'plan_id', foreignKeyConstraintName: 'fk_invoices_plan' })
  plan?: Plan;

  @Column({ name: 'billing_run_id', type: 'uuid' })
  billingRunId: string;

  @ManyToOne(() => BillingRun, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'billing_run_id', foreignKeyConstraintName: 'fk_invoices_billing_run' })
  billingRun?: BillingRun;

  /** Minor units, the plan's price when invoiced. */
  @Column({ type: 'integer' })
  amount: number;

  @Column({ type: 'text' })
  currency: string;

  @Column({ name: 'period_start', type: 'timestamptz', precision: 3 })
  periodStart: Date;

  @Column({ name: 'period_end', type: 'timestamptz', precision: 3 })
  periodEnd: Date;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz', precision: 3 })
  createdAt: Date;
}
