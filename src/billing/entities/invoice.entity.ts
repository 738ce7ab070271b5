import {
  Check,
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
import type { ActingType } from '../../access/actor';
import { sqlList } from '../../common/sql';

export const INVOICE_STATUSES = ['open', 'paid', 'void'] as const;
export type InvoiceStatus = (typeof INVOICE_STATUSES)[number];

/**
 * What a customer owes for one period of one subscription: `open` until its payments cover
 * `amount_due` (`paid`) or someone voids it (`void`). Past `due_at`, an open invoice is overdue
 * and the dunning rules act on it.
 */
@Entity({ name: 'invoices' })
// The guarantee that no period is ever invoiced twice, whatever runs at the same time.
@Unique('uq_invoices_subscription_period', ['subscriptionId', 'periodStart'])
@Index('uq_invoices_number', ['number'], { unique: true })
@Index('ix_invoices_customer_id_created_at', ['customerId', 'createdAt', 'id'])
@Index('ix_invoices_created_at_id', ['createdAt', 'id'])
// The dunning run's walk and each customer's evaluation: open invoices by customer and due date.
@Index('ix_invoices_open_customer_id_due_at', ['customerId', 'dueAt'], {
  where: `status = 'open'`,
})
@Check('ck_invoices_status', `status IN (${sqlList(INVOICE_STATUSES)})`)
// No credit balance: payments never add up to more than is due.
@Check('ck_invoices_amount_paid', `amount_paid >= 0 AND amount_paid <= amount_due`)
@Check('ck_invoices_paid_at', `(status = 'paid') = (paid_at IS NOT NULL)`)
@Check('ck_invoices_voided_at', `(status = 'void') = (voided_at IS NOT NULL)`)
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

  /**
   * From a sequence (an identity: the app's role needs no grant on it), shown as `INV-000042`
   * (see formatInvoiceNumber). Existing invoices were numbered in the order they were issued.
   */
  @Column({ type: 'bigint', generated: 'identity', generatedIdentity: 'ALWAYS' })
  number: string;

  /** Issue time (the billing run's) plus INVOICE_TERMS_DAYS. */
  @Column({ name: 'due_at', type: 'timestamptz', precision: 3 })
  dueAt: Date;

  @Column({ type: 'text', default: 'open' })
  status: InvoiceStatus;

  /** Minor units; `amount` when issued. */
  @Column({ name: 'amount_due', type: 'integer' })
  amountDue: number;

  /** The sum of its payments, kept under the invoice's row lock. */
  @Column({ name: 'amount_paid', type: 'integer', default: 0 })
  amountPaid: number;

  @Column({ name: 'paid_at', type: 'timestamptz', precision: 3, nullable: true })
  paidAt: Date | null;

  @Column({ name: 'voided_at', type: 'timestamptz', precision: 3, nullable: true })
  voidedAt: Date | null;

  @Column({ name: 'void_reason', type: 'text', nullable: true })
  voidReason: string | null;

  @Column({ name: 'voided_by_type', type: 'text', nullable: true })
  voidedByType: ActingType | null;

  @Column({ name: 'voided_by_id', type: 'uuid', nullable: true })
  voidedById: string | null;

  @Column({ name: 'voided_by_name', type: 'text', nullable: true })
  voidedByName: string | null;

  /** When it was issued: the billing run's time. */
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz', precision: 3 })
  createdAt: Date;
}

/** `INV-000042`: six digits at least, more once the sequence needs them. */
export function formatInvoiceNumber(number: string | number): string {
  return `INV-${String(number).padStart(6, '0')}`;
}
