import { Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { Invoice } from '../../billing/entities/invoice.entity';
import { Hold } from '../../customers/entities/hold.entity';

/**
 * Which invoices an `overdue` hold was placed for. When a person lifts such a hold, its invoices
 * are theirs to decide: the rules never hold the customer again for those invoices alone.
 */
@Entity({ name: 'hold_invoices' })
@Index('ix_hold_invoices_invoice_id', ['invoiceId'])
export class HoldInvoice {
  @PrimaryColumn({ name: 'hold_id', type: 'uuid', primaryKeyConstraintName: 'pk_hold_invoices' })
  holdId: string;

  @ManyToOne(() => Hold, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'hold_id', foreignKeyConstraintName: 'fk_hold_invoices_hold' })
  hold?: Hold;

  @PrimaryColumn({ name: 'invoice_id', type: 'uuid', primaryKeyConstraintName: 'pk_hold_invoices' })
  invoiceId: string;

  @ManyToOne(() => Invoice, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'invoice_id', foreignKeyConstraintName: 'fk_hold_invoices_invoice' })
  invoice?: Invoice;
}
