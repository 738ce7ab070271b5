import { Readable } from 'node:stream';
import { canonicalJson } from './audit-chain-encoding';
import {
  CHAIN_COLUMNS,
  ChainRow,
  CSV_COLUMNS,
  csvLine,
  exportRecord,
  Query,
} from './audit-chain-rows';

/** Entries read per query: what the export holds in memory at a time. */
export const EXPORT_BATCH = 2000;

export interface ExportRange {
  /** Inclusive. */
  from?: string;
  /** Exclusive. */
  to?: string;
  /** Inclusive bounds on seq, for the archive. */
  fromSeq?: number;
  toSeq?: number;
}

/**
 * Every entry of the range, oldest first, in batches read by keyset on (created_at, seq), which
 * is seq order and one range of its index: each batch is one indexed query, however deep, and
 * nothing but the current batch is held. No transaction is held between batches.
 */
export async function* auditBatches(
  query: Query,
  range: ExportRange,
  batchSize = EXPORT_BATCH,
): AsyncGenerator<ChainRow[]> {
  let after: { createdAt: string; seq: string } | undefined;
  for (;;) {
    const conditions: string[] = [];
    const parameters: unknown[] = [];
    const add = (sql: string, value: unknown) => {
      parameters.push(value);
      conditions.push(sql.replace('?', `$${parameters.length}`));
    };
    if (range.from !== undefined) add('created_at >= ?', range.from);
    if (range.to !== undefined) add('created_at < ?', range.to);
    if (range.fromSeq !== undefined) add('seq >= ?', range.fromSeq);
    if (range.toSeq !== undefined) add('seq <= ?', range.toSeq);
    if (after) {
      parameters.push(after.createdAt, after.seq);
      conditions.push(
        `(created_at, seq) > ($${parameters.length - 1}::timestamptz, $${parameters.length}::bigint)`,
      );
    }
    parameters.push(batchSize);
    const rows = await query<ChainRow>(
      `SELECT ${CHAIN_COLUMNS} FROM audit_logs
        ${conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : ''}
        ORDER BY created_at, seq LIMIT $${parameters.length}`,
      parameters,
    );
    if (rows.length === 0) return;
    yield rows;
    if (rows.length < batchSize) return;
    const last = rows[rows.length - 1];
    after = { createdAt: last.created_at.toISOString(), seq: last.seq };
  }
}

/** One JSON object a line (exportRecord), `\n` after each. */
export function ndjsonLines(rows: ChainRow[]): string {
  let text = '';
  for (const row of rows) text += `${JSON.stringify(exportRecord(row))}\n`;
  return text;
}

/** A header line, then one RFC 4180 line (CRLF) an entry. */
export const CSV_HEADER = `${CSV_COLUMNS.join(',')}\r\n`;

export function csvLines(rows: ChainRow[]): string {
  let text = '';
  for (const row of rows) text += csvLine(row, canonicalJson);
  return text;
}

/**
 * The export as a stream: a batch is read only when the reader has taken the previous one
 * (Readable.from pulls the generator), so a slow client holds one batch, not the table.
 */
export function exportStream(query: Query, range: ExportRange, format: 'ndjson' | 'csv'): Readable {
  async function* lines(): AsyncGenerator<string> {
    if (format === 'csv') yield CSV_HEADER;
    for await (const rows of auditBatches(query, range)) {
      yield format === 'csv' ? csvLines(rows) : ndjsonLines(rows);
    }
  }
  return Readable.from(lines(), { objectMode: false });
}
