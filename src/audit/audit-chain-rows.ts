import { HashedFields, microsecondTime } from './audit-chain-encoding';
import type { StatusSnapshot } from './entities/audit-log.entity';

/** Runs one statement: the app's transaction host, a tool's DataSource or a query runner. */
export type Query = <T>(sql: string, parameters?: unknown[]) => Promise<T[]>;

/**
 * Every field of an entry, in the order of the encoding. Plain column names (no casts, whose
 * aliases an ORDER BY would sort by): pg reads bigint and uuid as strings already.
 */
export const CHAIN_COLUMNS = `seq, prev_hash, hash, id, created_at, action, customer_id,
  target_type, target_id, hold_id, actor_type, actor_id, actor_name, reason, before, after,
  effective_at, request_id, ip, user_agent`;

/** An entry read with CHAIN_COLUMNS. */
export interface ChainRow {
  seq: string;
  prev_hash: string;
  hash: string;
  id: string;
  created_at: Date;
  action: string;
  customer_id: string | null;
  target_type: string | null;
  target_id: string | null;
  hold_id: string | null;
  actor_type: string;
  actor_id: string | null;
  actor_name: string;
  reason: string | null;
  before: StatusSnapshot;
  after: StatusSnapshot;
  effective_at: Date | null;
  request_id: string | null;
  ip: string | null;
  user_agent: string | null;
}

export function hashedFields(row: ChainRow): HashedFields {
  return {
    ...row,
    created_at: microsecondTime(row.created_at),
    effective_at: row.effective_at === null ? null : microsecondTime(row.effective_at),
  };
}

/**
 * One line of an export: every hashed field, times exactly as hashed (microseconds), so that
 * scripts/verify-audit-export.mjs recomputes each hash from the line alone.
 */
export interface ExportRecord {
  seq: number;
  prev_hash: string;
  hash: string;
  id: string;
  created_at: string;
  action: string;
  customer_id: string | null;
  target: { type: string; id: string } | null;
  hold_id: string | null;
  actor: { type: string; id: string | null; name: string };
  reason: string | null;
  before: StatusSnapshot;
  after: StatusSnapshot;
  effective_at: string | null;
  request_id: string | null;
  ip: string | null;
  user_agent: string | null;
}

export function exportRecord(row: ChainRow): ExportRecord {
  const fields = hashedFields(row);
  return {
    seq: Number(row.seq),
    prev_hash: row.prev_hash,
    hash: row.hash,
    id: row.id,
    created_at: fields.created_at,
    action: row.action,
    customer_id: row.customer_id,
    target:
      row.target_type !== null && row.target_id !== null
        ? { type: row.target_type, id: row.target_id }
        : null,
    hold_id: row.hold_id,
    actor: { type: row.actor_type, id: row.actor_id, name: row.actor_name },
    reason: row.reason,
    before: row.before,
    after: row.after,
    effective_at: fields.effective_at,
    request_id: row.request_id,
    ip: row.ip,
    user_agent: row.user_agent,
  };
}

/** The CSV's columns, in order: the hashed fields with target and actor flattened. */
export const CSV_COLUMNS = [
  'seq',
  'prev_hash',
  'hash',
  'id',
  'created_at',
  'action',
  'customer_id',
  'target_type',
  'target_id',
  'hold_id',
  'actor_type',
  'actor_id',
  'actor_name',
  'reason',
  'before',
  'after',
  'effective_at',
  'request_id',
  'ip',
  'user_agent',
] as const;

/**
 * RFC 4180: a field with a comma, a quote or a line break is quoted, quotes doubled. Null is an
 * empty field, the empty string `""`, so that the two stay apart. before/after are canonical
 * JSON. Values are written as stored, never altered (a reason starting with `=` stays so: the
 * hash covers it), so open the file in a spreadsheet with care.
 */
function csvField(value: string | null): string {
  if (value === null) return '';
  if (value === '' || /[",\r\n]/.test(value)) return `"${value.replace(/"/g, '""')}"`;
  return value;
}

export function csvLine(row: ChainRow, canonical: (value: unknown) => string): string {
  const fields = hashedFields(row);
  const values: (string | null)[] = [
    row.seq,
    row.prev_hash,
    row.hash,
    row.id,
    fields.created_at,
    row.action,
    row.customer_id,
    row.target_type,
    row.target_id,
    row.hold_id,
    row.actor_type,
    row.actor_id,
    row.actor_name,
    row.reason,
    canonical(row.before),
    canonical(row.after),
    fields.effective_at,
    row.request_id,
    row.ip,
    row.user_agent,
  ];
  return `${values.map(csvField).join(',')}\r\n`;
}
