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
  pageJson,
  pageOfRows,
  PageQueryDto,
} from '../common/pagination';
import { pgPoolOf, statementName } from '../database/pg-pool';
import { AuditLogDto } from './dto/audit-log.dto';
import type { ListAuditLogsQueryDto } from './dto/list-audit-logs-query.dto';
import { AuditLog, auditActionsMatching } from './entities/audit-log.entity';

/** created_at never goes down along the chain, so this is seq order (newest first when DESC). */
const NEWEST_FIRST: KeysetColumn<AuditLog>[] = [
  { expression: 'a.created_at', cast: 'timestamptz', value: (a) => a.createdAt.toISOString() },
  { expression: 'a.seq', cast: 'bigint', value: (a) => Number(a.seq) },
];

/** An instant as `Date.prototype.toISOString()` writes it (timestamps are kept to the ms). */
const isoTime = (column: string) =>
  `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/**
 * An entry as AuditLogDto.from answers it (same fields, same order, same values), written as
 * JSON by PostgreSQL: the customer page sends these texts as they come, where parsing each row's
 * times and JSON, building the entity and the DTO and serialising them again cost the service
 * more than the rest of the request. The audit e2e tests hold the two to the same answers.
 */
const ENTRY_JSON = `json_build_object(
    'id', a.id, 'seq', a.seq, 'prev_hash', a.prev_hash, 'hash', a.hash, 'action', a.action,
    'customer_id', a.customer_id,
    'target', CASE WHEN a.target_type IS NOT NULL AND a.target_id IS NOT NULL
                   THEN json_build_object('type', a.target_type, 'id', a.target_id) END,
    'actor', json_build_object('type', a.actor_type, 'id', a.actor_id, 'name', a.actor_name),
    'reason', a.reason, 'before', a.before, 'after', a.after, 'hold_id', a.hold_id,
    'effective_at', ${isoTime('a.effective_at')}, 'request_id', a.request_id, 'ip', a.ip,
    'user_agent', a.user_agent, 'created_at', ${isoTime('a.created_at')})::text`;

/**
 * One customer's page, newest first, and whether the customer exists, in one statement:
 * $1 the customer, $2 the limit + 1, then the cursor's created_at and seq in the second form
 * (the order of NEWEST_FIRST). Each row is an entry as JSON text with its keyset values.
 */
const CUSTOMER_PAGE = (after: boolean) => `
  SELECT k.customer_found, a.entry, a.created_at, a.seq
    FROM (SELECT EXISTS (SELECT 1 FROM customers WHERE id = $1) AS customer_found) k
    LEFT JOIN LATERAL (
      SELECT ${ENTRY_JSON} AS entry, ${isoTime('a.created_at')} AS created_at, a.seq
        FROM audit_logs a
       WHERE a.customer_id = $1
         ${after ? 'AND (a.created_at, a.seq) < ($3::timestamptz, $4::bigint)' : ''}
       ORDER BY a.created_at DESC, a.seq DESC
       LIMIT $2
    ) a ON k.customer_found`;

/** A row of CUSTOMER_PAGE that holds an entry. */
interface EntryRow {
  entry: string;
  created_at: string;
  seq: string;
}

/** NEWEST_FIRST's values, read from an entry's row as they are read from its entity. */
const NEWEST_FIRST_ROWS: KeysetColumn<EntryRow>[] = [
  { expression: 'a.created_at', cast: 'timestamptz', value: (row) => row.created_at },
  { expression: 'a.seq', cast: 'bigint', value: (row) => Number(row.seq) },
];

/** Reads the audit log (AuditWriter writes it). */
@Injectable()
export class AuditService {
  constructor(
    private readonly txHost: TransactionHost<TransactionalAdapterTypeOrm>,
    @InjectDataSource() private readonly dataSource: DataSource,
  ) {}

  /**
   * A customer's page, as `list` with `customer_id` gives it, already as the JSON of the page
   * (`{data, next_cursor}`), or undefined when the customer does not exist: one prepared
   * statement through `pg`, for the page staff open most.
   */
  async customerPage(customerId: string, page: PageQueryDto): Promise<string | undefined> {
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
    const { rows } = await pgPoolOf(this.dataSource).query<
      { customer_found: boolean } & (EntryRow | { entry: null })
    >({
      name: statementName(
        this.dataSource,
        after ? 'audit_customer_page_json_after' : 'audit_customer_page_json',
      ),
      text: CUSTOMER_PAGE(after !== undefined),
      values: [customerId, limit + 1, ...(after ?? [])],
    });
    if (rows.length === 0 || rows[0].customer_found !== true) return undefined;
    const entries = rows.filter((row): row is EntryRow & { customer_found: boolean } => {
      return row.entry !== null;
    });
    return pageJson(pageOfRows(entries, limit, NEWEST_FIRST_ROWS, (row) => row.entry));
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
