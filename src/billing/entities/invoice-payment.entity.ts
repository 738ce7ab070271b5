import {
  Check,
  Column,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryGeneratedColumn,
} from 'typeorm';
import { Invoice } from './invoice.entity';
import { ACTING_TYPES, type ActingType } from '../../access/actor';
import { sqlList } from '../../common/sql';

/**
 * One payment recorded against an invoice, by whoever recorded it. Payments add up to the
 * invoice's `amount_paid` and never beyond its `amount_due`: there is no credit balance.
 */
@Entity({ name: 'invoice_payments' })
@Check('ck_invoice_payments_amount', `amount > 0`)
@Check('ck_invoice_payments_recorded_by_type', `recorded_by_type IN (${sqlList(ACTING_TYPES)})`)
@Index('ix_invoice_payments_invoice_id_created_at', ['invoiceId', 'createdAt'])
export class InvoicePayment {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'pk_invoice_payments' })
  id: string;

  @Column({ name: 'invoice_id', type: 'uuid' })
  invoiceId: string;

  @ManyToOne(() => Invoice, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'invoice_id', foreignKeyConstraintName: 'fk_invoice_payments_invoice' })
  invoice?: Invoice;

  /** Minor units, more than zero. */
  @Column({ type: 'integer' })
  amount: number;

  /** The payer's or the bank's reference, as given. */
  @Column({ type: 'text', nullable: true })
  reference: string | null;

  @Column({ name: 'recorded_by_type', type: 'text' })
  recordedByType: ActingType;

  @Column({ name: 'recorded_by_id', type: 'uuid', nullable: true })
  recordedById: string | null;

  @Column({ name: 'recorded_by_name', type: 'text' })
  recordedByName: string;

  /** The clock's time when it was recorded. */
  @Column({ name: 'created_at', type: 'timestamptz', precision: 3 })
  createdAt: Date;
}
