import { TransactionHost } from '@nestjs-cls/transactional';
import { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import {
  decodeCursor,
  DEFAULT_PAGE_SIZE,
  KeysetColumn,
  keysetPage,
  Page,
  pageOfRows,
  PageQueryDto,
} from '../common/pagination';
import { hydrate } from '../database/hydrate';
import { pgPoolOf, statementName } from '../database/pg-pool';
import { AuditLogDto } from './dto/audit-log.dto';
import type { ListAuditLogsQueryDto } from './dto/list-audit-logs-query.dto';
import { AuditLog, auditActionsMatching } from './entities/audit-log.entity';

/** created_at never goes down along the chain, so this is seq order (newest first when DESC). */
const NEWEST_FIRST: KeysetColumn<AuditLog>[] = [
  { expression: 'a.created_at', cast: 'timestamptz', value: (a) => a.createdAt.toISOString() },
  { expression: 'a.seq', cast: 'bigint', value: (a) => Number(a.seq) },
];

/**
 * One customer's page, newest first, and whether the customer exists, in one statement:
 * $1 the customer, $2 the limit + 1, then the cursor's created_at and seq in the second form
 * (the order of NEWEST_FIRST).
 */
const CUSTOMER_PAGE = (after: boolean) => `
  SELECT k.customer_found, a.*
    FROM (SELECT EXISTS (SELECT 1 FROM customers WHERE id = $1) AS customer_found) k
    LEFT JOIN LATERAL (
      SELECT * FROM audit_logs a
       WHERE a.customer_id = $1
         ${after ? 'AND (a.created_at, a.seq) < ($3::timestamptz, $4::bigint)' : ''}
       ORDER BY a.created_at DESC, a.seq DESC
       LIMIT $2
    ) a ON k.customer_found`;

/** Reads the audit log (AuditWriter writes it). */
@Injectable()
export class AuditService {
  constructor(
    private readonly txHost: TransactionHost<TransactionalAdapterTypeOrm>,
    @InjectDataSource() private readonly dataSource: DataSource,
  ) {}

  /**
   * A customer's page, as `list` with `customer_id` gives it, or undefined when the customer
   * does not exist: one prepared statement through `pg`, for the page staff open most.
   */
  async customerPage(
    customerId: string,
    page: PageQueryDto,
  ): Promise<Page<AuditLogDto> | undefined> {
    const limit = page.limit ?? DEFAULT_PAGE_SIZE;
    let after: (string | number)[] | undefined;
    try {
      after = page.cursor === undefined ? undefined : decodeCursor(page.cursor, NEWEST_FIRST);
    } catch (error) {
      // An unknown customer is 404 whatever its cursor, as when existence was asked first.
      const { rowCount } = await pgPoolOf(this.dataSource).query(
        'SELECT 1 FROM customers WHERE id = $1',
        [customerId],
      );
      if (rowCount === 0) return undefined;
      throw error;
    }
    const { rows } = await pgPoolOf(this.dataSource).query<Record<string, unknown>>({
      name: statementName(
        this.dataSource,
        after ? 'audit_customer_page_after' : 'audit_customer_page',
      ),
      text: CUSTOMER_PAGE(after !== undefined),
      values: [customerId, limit + 1, ...(after ?? [])],
    });
    if (rows.length === 0 || rows[0].customer_found !== true) return undefined;
    const entries = rows
      .filter((row) => row.id !== null)
      .map((row) => hydrate(this.dataSource, AuditLog, row));
    return pageOfRows(entries, limit, NEWEST_FIRST, AuditLogDto.from);
  }

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
