import { randomUUID } from 'node:crypto';
import { TransactionHost } from '@nestjs-cls/transactional';
import { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { Injectable } from '@nestjs/common';
import { Clock } from '../common/clock';

/**
 * Leases on scheduled jobs (`job_leases`), so that one instance at a time runs a job. Each
 * statement commits on its own: nothing is held between them, which the embedded engine's single
 * connection needs (the job's own transactions use it). A holder that dies leaves its lease to
 * run out; a live one renews it as it goes.
 */
@Injectable()
export class JobLeases {
  /** This process. */
  readonly holder = randomUUID();

  constructor(
    private readonly txHost: TransactionHost<TransactionalAdapterTypeOrm>,
    private readonly clock: Clock,
  ) {}

  /** Takes (or renews) the lease for `ttlMs`; false when another holder has it. */
  async acquire(name: string, ttlMs: number): Promise<boolean> {
    const now = this.clock.now();
    const rows = await this.txHost.tx.query<{ name: string }[]>(
      `INSERT INTO job_leases (name, holder, locked_until) VALUES ($1, $2, $3)
       ON CONFLICT ON CONSTRAINT pk_job_leases DO UPDATE
         SET holder = EXCLUDED.holder, locked_until = EXCLUDED.locked_until
         WHERE job_leases.holder = EXCLUDED.holder OR job_leases.locked_until <= $4
       RETURNING name`,
      [name, this.holder, new Date(now.getTime() + ttlMs).toISOString(), now.toISOString()],
    );
    return rows.length > 0;
  }

  async release(name: string): Promise<void> {
    await this.txHost.tx.query(
      'UPDATE job_leases SET locked_until = $3 WHERE name = $1 AND holder = $2',
      [name, this.holder, this.clock.now().toISOString()],
    );
  }
}
