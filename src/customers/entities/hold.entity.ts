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
import { Customer } from './customer.entity';
import type { ActingType } from '../../access/actor';
import { sqlList } from '../../common/sql';

export const HOLD_SOURCES = ['manual', 'overdue'] as const;
export type HoldSource = (typeof HOLD_SOURCES)[number];

export const HOLD_STATES = ['scheduled', 'active', 'lifted', 'expired'] as const;
export type HoldState = (typeof HOLD_STATES)[number];

export type HoldActorType = ActingType;

/**
 * One reason a customer is disabled, from `starts_at` until `ends_at` (none: until lifted). The
 * truth of "is this customer disabled" (see access/customer-access.ts); its state is derived from
 * the times, never stored. Rows are never deleted: a lift stamps `lifted_*`.
 */
@Entity({ name: 'holds' })
@Check('ck_holds_source', `source IN (${sqlList(HOLD_SOURCES)})`)
@Check('ck_holds_ends_after_starts', `ends_at IS NULL OR ends_at > starts_at`)
@Index('ix_holds_customer_id_placed_at_id', ['customerId', 'placedAt', 'id'])
@Index('ix_holds_placed_at_id', ['placedAt', 'id'])
// The holds that can matter to a customer's access (holds-in-play.ts): unlifted ones by end,
// lifted ones by lift, never its whole history.
@Index('ix_holds_customer_id_lifted_at_ends_at', ['customerId', 'liftedAt', 'endsAt'])
@Index('ix_holds_review_at', ['reviewAt'], { where: 'lifted_at IS NULL' })
// The dunning run's walk: customers with an unlifted hold of the rules.
@Index('ix_holds_overdue_customer_id', ['customerId'], {
  where: `source = 'overdue' AND lifted_at IS NULL`,
})
export class Hold {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'pk_holds' })
  id: string;

  @Column({ name: 'customer_id', type: 'uuid' })
  customerId: string;

  @ManyToOne(() => Customer, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'customer_id', foreignKeyConstraintName: 'fk_holds_customer' })
  customer?: Customer;

  @Column({ type: 'text' })
  source: HoldSource;

  @Column({ name: 'reason_code', type: 'text' })
  reasonCode: string;

  @Column({ type: 'text', nullable: true })
  reason: string | null;

  @Column({ name: 'starts_at', type: 'timestamptz', precision: 3 })
  startsAt: Date;

  @Column({ name: 'ends_at', type: 'timestamptz', precision: 3, nullable: true })
  endsAt: Date | null;

  @Column({ name: 'pause_billing', type: 'boolean' })
  pauseBilling: boolean;

  /** Kept for the notifications of the next issue; nothing reads it yet. */
  @Column({ name: 'notify_customer', type: 'boolean', default: true })
  notifyCustomer: boolean;

  @Column({ name: 'placed_by_type', type: 'text' })
  placedByType: HoldActorType;

  @Column({ name: 'placed_by_id', type: 'uuid', nullable: true })
  placedById: string | null;

  @Column({ name: 'placed_by_name', type: 'text' })
  placedByName: string;

  @Column({ name: 'placed_at', type: 'timestamptz', precision: 3, default: () => 'now()' })
  placedAt: Date;

  @Column({ name: 'lifted_by_type', type: 'text', nullable: true })
  liftedByType: HoldActorType | null;

  @Column({ name: 'lifted_by_id', type: 'uuid', nullable: true })
  liftedById: string | null;

  @Column({ name: 'lifted_by_name', type: 'text', nullable: true })
  liftedByName: string | null;

  @Column({ name: 'lifted_at', type: 'timestamptz', precision: 3, nullable: true })
  liftedAt: Date | null;

  @Column({ name: 'lift_reason', type: 'text', nullable: true })
  liftReason: string | null;

  @Column({ name: 'review_at', type: 'timestamptz', precision: 3, nullable: true })
  reviewAt: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz', precision: 3 })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz', precision: 3 })
  updatedAt: Date;
}

/** A time as `pg` gives it (a Date) or as `json_agg` does (ISO text). */
function timeOf(value: unknown): Date | null {
  if (value === null || value === undefined) return null;
  return value instanceof Date ? value : new Date(value as string);
}

/**
 * A hold from a row of `SELECT * FROM holds` read straight through `pg`, or from a row of
 * `json_agg(h)`: every column mapped by hand, for the hot reads that read a customer's holds
 * (their number grows with the customer's history, and the metadata-driven hydration costs
 * several times this per row).
 */
export function holdFromRow(row: Record<string, unknown>): Hold {
  // Typed as every column of the entity, so that a column added to it must be added here.
  const columns: Required<Omit<Hold, 'customer'>> = {
    id: row.id as string,
    customerId: row.customer_id as string,
    source: row.source as HoldSource,
    reasonCode: row.reason_code as string,
    reason: row.reason as string | null,
    startsAt: timeOf(row.starts_at)!,
    endsAt: timeOf(row.ends_at),
    pauseBilling: row.pause_billing as boolean,
    notifyCustomer: row.notify_customer as boolean,
    placedByType: row.placed_by_type as HoldActorType,
    placedById: row.placed_by_id as string | null,
    placedByName: row.placed_by_name as string,
    placedAt: timeOf(row.placed_at)!,
    liftedByType: row.lifted_by_type as HoldActorType | null,
    liftedById: row.lifted_by_id as string | null,
    liftedByName: row.lifted_by_name as string | null,
    liftedAt: timeOf(row.lifted_at),
    liftReason: row.lift_reason as string | null,
    reviewAt: timeOf(row.review_at),
    createdAt: timeOf(row.created_at)!,
    updatedAt: timeOf(row.updated_at)!,
  };
  return Object.assign(new Hold(), columns);
}
