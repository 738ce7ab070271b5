import { TransactionHost } from '@nestjs-cls/transactional';
import { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { runInTransaction } from '../database/statement';
import type { AnyActor, Origin } from '../access/actor';
import type { AuditAction, AuditTargetType, StatusSnapshot } from './entities/audit-log.entity';

/** Somebody not signed in, named by what they claimed to be (the email of a failed sign-in). */
export interface AnonymousActor {
  type: 'anonymous';
  id: null;
  name: string;
}

/** An Origin whose actor may also be anonymous: what an audit entry can record. */
export interface AuditOrigin extends Omit<Origin, 'actor'> {
  actor: AnyActor | AnonymousActor;
}

/** One change to record. */
export interface AuditEntryInput {
  action: AuditAction;
  /** The customer concerned, if any. */
  customerId?: string | null;
  /** What the entry is about besides a customer: a staff user, an API key, a plan... */
  target?: { type: AuditTargetType; id: string } | null;
  holdId?: string | null;
  reason?: string | null;
  /** Never a password, a key or a secret. */
  before: StatusSnapshot;
  after: StatusSnapshot;
  effectiveAt?: Date | null;
}

/**
 * The audit log's only way in: a sink. It writes in the caller's transaction (a use case's own
 * unit of work), so an entry commits exactly with the change it records; it knows nothing of
 * customers, holds or notes.
 *
 * The database chains the entry when this transaction commits (the audit_logs_seal trigger,
 * deferred): it locks the chain's head row only then, numbers the entry (`seq`), links it to the
 * previous one, settles its created_at under the lock and hashes it. Until the commit the entry is
 * unsealed (seq, prev_hash and hash are NULL to a read in this transaction); and
 * nothing may take the head's lock earlier: a transaction holding it while it waits for a row
 * would deadlock with a committing transaction that holds the row and waits for the head.
 */
@Injectable()
export class AuditWriter {
  constructor(private readonly txHost: TransactionHost<TransactionalAdapterTypeOrm>) {}

  /**
   * Returns the entry's id (its seq and hash exist only once the transaction has committed).
   * created_at is the time of the INSERT, raised at the commit under the chain's lock where
   * needed so that it is never before the previous entry's, and strictly after the customer's
   * previous entry: a customer's entries are ordered by created_at exactly as its changes
   * committed, even two within the same millisecond.
   */
  async append(entry: AuditEntryInput, origin: AuditOrigin): Promise<string> {
    if (!this.txHost.isTransactionActive()) {
      throw new Error('An audit entry must be written in the transaction of its change');
    }
    return appendAuditEntry(this.txHost.tx, entry, origin);
  }

  /**
   * Several entries in one statement, chained in the order given: for a use case that records a
   * few changes at once (a hold placed and the customer disabled). Each entry's id is chosen
   * here, in advance, so that the caller can refer to it (a note) before the entries are
   * written: `ids` and then `write()`, which must run in the transaction of the change.
   */
  batch(): AuditBatch {
    return new AuditBatch(this.txHost);
  }
}

/**
 * The INSERT itself, on a transaction's manager or query runner: AuditWriter's, and that of the
 * tools that run without the application (`npm run admin:reset-password`, the archive), which
 * must pass one inside their own transaction.
 */
export async function appendAuditEntry(
  db: { query: (sql: string, parameters?: unknown[]) => Promise<unknown> },
  entry: AuditEntryInput,
  origin: AuditOrigin,
): Promise<string> {
  const rows = (await db.query(
    `INSERT INTO audit_logs
       (action, customer_id, target_type, target_id, hold_id, actor_type, actor_id, actor_name,
        reason, before, after, effective_at, request_id, ip, user_agent)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
     RETURNING id`,
    [
      entry.action,
      entry.customerId ?? null,
      entry.target?.type ?? null,
      entry.target?.id ?? null,
      entry.holdId ?? null,
      origin.actor.type,
      origin.actor.id,
      origin.actor.name,
      entry.reason ?? null,
      JSON.stringify(entry.before),
      JSON.stringify(entry.after),
      entry.effectiveAt?.toISOString() ?? null,
      origin.requestId,
      origin.ip,
      origin.userAgent,
    ],
  )) as { id: string }[];
  return rows[0].id;
}

/**
 * The batch's INSERT, one entry per row of its parameters (a column each, in an array),
 * numbered from `$first`: the batch's own statement, and a part of a use case's statement that
 * writes its entries with its other writes (AuditBatch.take).
 */
export function auditInsertSql(first: number): string {
  const p = (i: number) => `$${first + i}`;
  return `INSERT INTO audit_logs
           (id, action, customer_id, target_type, target_id, hold_id, actor_type, actor_id,
            actor_name, reason, before, after, effective_at, request_id, ip, user_agent)
         SELECT e.id, e.action, e.customer_id, e.target_type, e.target_id, e.hold_id, e.actor_type,
                e.actor_id, e.actor_name, e.reason, e.before, e.after, e.effective_at,
                e.request_id, e.ip, e.user_agent
           FROM unnest(${p(0)}::uuid[], ${p(1)}::text[], ${p(2)}::uuid[], ${p(3)}::text[],
                       ${p(4)}::uuid[], ${p(5)}::uuid[], ${p(6)}::text[], ${p(7)}::uuid[],
                       ${p(8)}::text[], ${p(9)}::text[], ${p(10)}::jsonb[], ${p(11)}::jsonb[],
                       ${p(12)}::timestamptz[], ${p(13)}::text[], ${p(14)}::text[],
                       ${p(15)}::text[])
                WITH ORDINALITY AS e(id, action, customer_id, target_type, target_id, hold_id,
                                     actor_type, actor_id, actor_name, reason, before, after,
                                     effective_at, request_id, ip, user_agent, n)
          ORDER BY e.n`;
}

/** How many parameters auditInsertSql takes. */
export const AUDIT_INSERT_PARAMETERS = 16;

const APPEND_ALL = { name: 'audit_append_all', text: auditInsertSql(1) };

/**
 * Entries collected during a use case and written together by `write()`, in the order they were
 * added (the seal numbers them so at commit, one after the other: nobody else's entry comes
 * between them).
 */
export class AuditBatch {
  private readonly entries: { id: string; entry: AuditEntryInput; origin: AuditOrigin }[] = [];

  constructor(private readonly txHost: TransactionHost<TransactionalAdapterTypeOrm>) {}

  get size(): number {
    return this.entries.length;
  }

  /** Adds an entry; returns the id it will have. */
  add(entry: AuditEntryInput, origin: AuditOrigin): string {
    const id = randomUUID();
    this.entries.push({ id, entry, origin });
    return id;
  }

  /** Writes the entries added since the last write, in the caller's transaction. */
  async write(): Promise<void> {
    if (this.entries.length === 0) return;
    if (!this.txHost.isTransactionActive()) {
      throw new Error('An audit entry must be written in the transaction of its change');
    }
    await runInTransaction(this.txHost.tx, APPEND_ALL, this.take());
  }

  /**
   * The entries added since the last write as auditInsertSql's parameters (empty arrays when
   * there are none), taken out of the batch: for a use case that writes them within a statement
   * of its own, which must run in the transaction of the change.
   */
  take(): unknown[] {
    const rows = this.entries.splice(0);
    const column = <T>(of: (row: (typeof rows)[number]) => T): T[] => rows.map(of);
    return [
      column((r) => r.id),
      column((r) => r.entry.action),
      column((r) => r.entry.customerId ?? null),
      column((r) => r.entry.target?.type ?? null),
      column((r) => r.entry.target?.id ?? null),
      column((r) => r.entry.holdId ?? null),
      column((r) => r.origin.actor.type),
      column((r) => r.origin.actor.id),
      column((r) => r.origin.actor.name),
      column((r) => r.entry.reason ?? null),
      column((r) => JSON.stringify(r.entry.before)),
      column((r) => JSON.stringify(r.entry.after)),
      column((r) => r.entry.effectiveAt?.toISOString() ?? null),
      column((r) => r.origin.requestId),
      column((r) => r.origin.ip),
      column((r) => r.origin.userAgent),
    ];
  }
}
