import { Column, Entity, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { Invoice } from '../../billing/entities/invoice.entity';

/**
 * A warning step an invoice has reached: its primary key makes each step happen once per invoice,
 * whichever instance or request gets there first. `event_id` is the `invoice.overdue` event it
 * sent; null when a later step was reached at the same evaluation, which sent that one instead
 * (a customer is not sent two warnings at once).
 */
@Entity({ name: 'dunning_warnings' })
export class DunningWarning {
  @PrimaryColumn({
    name: 'invoice_id',
    type: 'uuid',
    primaryKeyConstraintName: 'pk_dunning_warnings',
  })
  invoiceId: string;

  @ManyToOne(() => Invoice, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'invoice_id', foreignKeyConstraintName: 'fk_dunning_warnings_invoice' })
  invoice?: Invoice;

  /** Days past due (one of DUNNING_WARN_DAYS). */
  @PrimaryColumn({ type: 'integer', primaryKeyConstraintName: 'pk_dunning_warnings' })
  step: number;

  /** Not a foreign key: events are removed after EVENT_RETENTION_DAYS, this row stays. */
  @Column({ name: 'event_id', type: 'uuid', nullable: true })
  eventId: string | null;

  @Column({ name: 'created_at', type: 'timestamptz', precision: 3 })
  createdAt: Date;
}
