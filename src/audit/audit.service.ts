import { TransactionHost } from '@nestjs-cls/transactional';
import { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { Injectable } from '@nestjs/common';
import { KeysetColumn, keysetPage, Page } from '../common/pagination';
import { AuditLogDto } from './dto/audit-log.dto';
import type { ListAuditLogsQueryDto } from './dto/list-audit-logs-query.dto';
import { AuditLog } from './entities/audit-log.entity';

const NEWEST_FIRST: KeysetColumn<AuditLog>[] = [
  { expression: 'a.created_at', cast: 'timestamptz', value: (a) => a.createdAt.toISOString() },
  { expression: 'a.id', cast: 'uuid', value: (a) => a.id },
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
    if (query.action) qb.andWhere('a.action = :action', { action: query.action });
    if (query.from) qb.andWhere('a.created_at >= :from', { from: query.from });
    if (query.to) qb.andWhere('a.created_at < :to', { to: query.to });
    return keysetPage(qb, NEWEST_FIRST, 'DESC', query, AuditLogDto.from);
  }
}
