import {
  Check,
  Column,
  CreateDateColumn,
  Entity,
  Index,
  PrimaryGeneratedColumn,
  Unique,
  UpdateDateColumn,
  VersionColumn,
} from 'typeorm';
import { CUSTOMER_STATUSES, type CustomerStatus } from '../../access/customer-status';
import { sqlList } from '../../common/sql';

export type { CustomerStatus };

/**
 * `status`, `disabled_at`, `disabled_reason` and `billing_paused` are a projection of the
 * customer's holds (the truth), rewritten under the row lock by every use case that changes holds
 * and by the boundary scheduler; lists, filters and billing read it. Answers that must be right at
 * the instant (limits, authentication, a customer's own page) derive from the holds instead.
 */
@Entity({ name: 'customers' })
@Unique('uq_customers_email', ['email'])
@Check('ck_customers_status', `status IN (${sqlList(CUSTOMER_STATUSES)})`)
// Keyset pages walk (created_at, id); review of disabled customers walks (disabled_at, id).
@Index('ix_customers_created_at_id', ['createdAt', 'id'])
@Index('ix_customers_disabled_at_id', ['disabledAt', 'id'], { where: `status = 'disabled'` })
@Index('ix_customers_next_boundary_at', ['nextBoundaryAt'], {
  where: 'next_boundary_at IS NOT NULL',
})
export class Customer {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  /** Stored lower-cased, so that uniqueness is case-insensitive. */
  @Column({ type: 'text' })
  email: string;

  @Column({ type: 'text', nullable: true })
  name: string | null;

  @Column({ type: 'text', nullable: true })
  reference: string | null;

  @Column({ name: 'external_reference', type: 'text', nullable: true })
  externalReference: string | null;

  @Column({ type: 'text', default: 'enabled' })
  status: CustomerStatus;

  @Column({ name: 'disabled_at', type: 'timestamptz', precision: 3, nullable: true })
  disabledAt: Date | null;

  @Column({ name: 'disabled_reason', type: 'text', nullable: true })
  disabledReason: string | null;

  @Column({ name: 'billing_paused', type: 'boolean', default: false })
  billingPaused: boolean;

  /**
   * The next instant one of its holds starts or ends, when the projection above must be rewritten
   * (by the boundary scheduler); null when no hold is pending.
   */
  @Column({ name: 'next_boundary_at', type: 'timestamptz', precision: 3, nullable: true })
  nextBoundaryAt: Date | null;

  /** Never held by the dunning rules (they still warn): set by an account manager. */
  @Column({ name: 'dunning_exempt', type: 'boolean', default: false })
  dunningExempt: boolean;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz', precision: 3 })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz', precision: 3 })
  updatedAt: Date;

  @VersionColumn({ type: 'integer', default: 1 })
  version: number;
}
