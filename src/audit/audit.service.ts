import { TransactionHost } from '@nestjs-cls/transactional';
import { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { Injectable } from '@nestjs/common';
import { KeysetColumn, keysetPage, Page } from '../common/pagination';
import { AuditLogDto } from './dto/audit-log.dto';
import type { ListAuditLogsQueryDto } from './dto/list-audit-logs-query.dto';
import { AuditLog, auditActionsMatching } from './entities/audit-log.entity';

/** created_at never goes down along the chain, so this is seq order (newest first when DESC). */
const NEWEST_FIRST: KeysetColumn<AuditLog>[] = [
  { expression: 'a.created_at', cast: 'timestamptz', value: (a) => a.createdAt.toISOString() },
  { expression: 'a.seq', cast: 'bigint', value: (a) => Number(a.seq) },
];

/** Reads the audit log (AuditWriter writes it). */
@Injectable()
export class AuditService {
  constructor(private readonly txHost: TransactionHost<TransactionalAdapterTypeOrm>) {}

  list(query: ListAuditLogsQueryDto): Promise<Page<AuditLogDto>> {
    const qb = this.txHost.tx.getRepository(AuditLog).createQueryBuilder('a');
    if (query.customer_id)
      qb.andWhere('a.customer_id = :customerId', { customerId: query.customer_id });
    if (query.actor_id) qb.andWhere('a.actor_id = :actorId', { actorId: query.actor_id });
    if (query.action) {
      // A prefix stands for the known actions it starts: an IN list each index serves.
      qb.andWhere('a.action IN (:...actions)', { actions: auditActionsMatching(query.action) });
    }
    if (query.from) qb.andWhere('a.created_at >= :from', { from: query.from });
    if (query.to) qb.andWhere('a.created_at < :to', { to: query.to });
    return keysetPage(qb, NEWEST_FIRST, 'DESC', query, AuditLogDto.from);
  }
}
