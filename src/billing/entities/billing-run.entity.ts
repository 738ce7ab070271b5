import { Check, Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

export type BillingRunTrigger = 'manual' | 'scheduled';

/** One billing run: when, why, and what it did. */
@Entity({ name: 'billing_runs' })
@Check('ck_billing_runs_trigger', `"trigger" IN ('manual', 'scheduled')`)
export class BillingRun {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'pk_billing_runs' })
  id: string;

  @Column({ type: 'text' })
  trigger: BillingRunTrigger;

  /** Periods that ended by this time are invoiced. */
  @Column({ name: 'started_at', type: 'timestamptz', precision: 3 })
  startedAt: Date;

  @Column({ name: 'finished_at', type: 'timestamptz', precision: 3, nullable: true })
  finishedAt: Date | null;

  @Column({ type: 'integer', default: 0 })
  invoiced: number;

  @Column({ type: 'integer', default: 0 })
  skipped: number;
}
