import { TransactionHost } from '@nestjs-cls/transactional';
import { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { Injectable } from '@nestjs/common';
import type { Origin } from '../auth/actor';
import type { AuditAction, StatusSnapshot } from './entities/audit-log.entity';

/** One change to record. */
export interface AuditEntryInput {
  action: AuditAction;
  customerId: string;
  holdId: string | null;
  reason: string | null;
  before: StatusSnapshot;
  after: StatusSnapshot;
  effectiveAt: Date;
}

/**
 * The audit log's only way in: a sink. It writes in the caller's transaction (a use case's own
 * unit of work), so an entry commits exactly with the change it records; it knows nothing of
 * customers, holds or notes.
 */
@Injectable()
export class AuditWriter {
  constructor(private readonly txHost: TransactionHost<TransactionalAdapterTypeOrm>) {}

  /**
   * Returns the entry's id. created_at is taken when the entry is written, under the customer's
   * row lock, and kept strictly after the customer's previous entry: a customer's entries are
   * ordered by created_at exactly as its changes happened, even two within the same millisecond.
   */
  async append(entry: AuditEntryInput, origin: Origin): Promise<string> {
    if (!this.txHost.isTransactionActive()) {
      throw new Error('An audit entry must be written in the transaction of its change');
    }
    const rows = await this.txHost.tx.query<{ id: string }[]>(
      `INSERT INTO audit_logs
         (action, customer_id, hold_id, actor_type, actor_id, actor_name, reason, before, after,
          effective_at, request_id, ip, user_agent, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13,
         GREATEST(
           date_trunc('milliseconds', clock_timestamp()),
           (SELECT max(created_at) + interval '1 millisecond' FROM audit_logs WHERE customer_id = $2)
         ))
       RETURNING id`,
      [
        entry.action,
        entry.customerId,
        entry.holdId,
        origin.actor.type,
        origin.actor.id,
        origin.actor.name,
        entry.reason,
        JSON.stringify(entry.before),
        JSON.stringify(entry.after),
        entry.effectiveAt.toISOString(),
        origin.requestId,
        origin.ip,
        origin.userAgent,
      ],
    );
    return rows[0].id;
  }
}
