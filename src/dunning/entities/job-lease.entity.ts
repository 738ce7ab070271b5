import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * A lease on a scheduled job, so that one instance at a time runs it. A row, not an advisory
 * lock: an advisory lock would pin a connection (and a transaction) for the whole run, and the
 * embedded engine has a single connection that the run's own transactions need.
 */
@Entity({ name: 'job_leases' })
export class JobLease {
  @PrimaryColumn({ type: 'text', primaryKeyConstraintName: 'pk_job_leases' })
  name: string;

  /** Which instance holds it (a random id per process). */
  @Column({ type: 'text' })
  holder: string;

  /** Taken until then; renewed while the job runs, released when it ends. */
  @Column({ name: 'locked_until', type: 'timestamptz', precision: 3 })
  lockedUntil: Date;
}
