import { TransactionHost } from '@nestjs-cls/transactional';
import { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { Injectable } from '@nestjs/common';
import type { Actor } from '../auth/actor';
import { KeysetColumn, keysetPage, Page, PageQueryDto } from '../common/pagination';
import { CustomersService } from '../customers/customers.service';
import { NotesService } from '../notes/notes.service';
import type { StatusChange } from './audit-trail';
import { AuditLogDto } from './dto/audit-log.dto';
import type { ListAuditLogsQueryDto } from './dto/list-audit-logs-query.dto';
import { AuditLog } from './entities/audit-log.entity';

/** Who made a request and from where, as the audit log records it. */
export interface RequestOrigin {
  actor: Actor;
  requestId: string | null;
  ip: string | null;
  userAgent: string | null;
}

const NEWEST_FIRST: KeysetColumn<AuditLog>[] = [
  { expression: 'a.created_at', cast: 'timestamptz', value: (a) => a.createdAt.toISOString() },
  { expression: 'a.id', cast: 'uuid', value: (a) => a.id },
];

@Injectable()
export class AuditService {
  constructor(
    private readonly txHost: TransactionHost<TransactionalAdapterTypeOrm>,
    private readonly notes: NotesService,
    private readonly customers: CustomersService,
  ) {}

  /**
   * Writes one entry per change, and a change's reason as a note linked to its entry, in the
   * current transaction: if any of it fails, the change it records rolls back with it.
   */
  async write(changes: StatusChange[], origin: RequestOrigin): Promise<void> {
    for (const change of changes) {
      const id = await this.insert(change, origin);
      if (change.reason !== null) {
        await this.notes.addForAuditEntry(change.customerId, origin.actor, change.reason, id);
      }
    }
  }

  /**
   * created_at is taken when the entry is written, under the customer's row lock, and kept
   * strictly after the customer's previous entry: a customer's entries are ordered by
   * created_at exactly as its changes happened, even two within the same millisecond.
   */
  private async insert(change: StatusChange, origin: RequestOrigin): Promise<string> {
    const rows = await this.txHost.tx.query<{ id: string }[]>(
      `INSERT INTO audit_logs
         (action, customer_id, actor_type, actor_id, actor_name, reason, before, after,
          request_id, ip, user_agent, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11,
         GREATEST(
           date_trunc('milliseconds', clock_timestamp()),
           (SELECT max(created_at) + interval '1 millisecond' FROM audit_logs WHERE customer_id = $2)
         ))
       RETURNING id`,
      [
        change.action,
        change.customerId,
        origin.actor.type,
        origin.actor.id,
        origin.actor.name,
        change.reason,
        JSON.stringify(change.before),
        JSON.stringify(change.after),
        origin.requestId,
        origin.ip,
        origin.userAgent,
      ],
    );
    return rows[0].id;
  }

  list(query: ListAuditLogsQueryDto): Promise<Page<AuditLogDto>> {
    const qb = this.txHost.tx.getRepository(AuditLog).createQueryBuilder('a');
    if (query.customer_id)
      qb.andWhere('a.customer_id = :customerId', { customerId: query.customer_id });
    if (query.actor_id) qb.andWhere('a.actor_id = :actorId', { actorId: query.actor_id });
    if (query.action) qb.andWhere('a.action = :action', { action: query.action });
    if (query.from) qb.andWhere('a.created_at >= :from', { from: query.from });
    if (query.to) qb.andWhere('a.created_at < :to', { to: query.to });
    return keysetPage(qb, NEWEST_FIRST, 'DESC', query, AuditLogDto.from);
  }

  /** A customer's entries, newest first; 404 for an unknown customer. */
  async listForCustomer(customerId: string, page: PageQueryDto): Promise<Page<AuditLogDto>> {
    await this.customers.findOrFail(customerId);
    return this.list({ ...page, customer_id: customerId });
  }
}
