import { once } from 'node:events';
import { createWriteStream, existsSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { basename } from 'node:path';
import type { KeyObject } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { SYSTEM_ACTOR } from '../access/actor';
import type { Query } from './audit-chain-rows';
import { AuditChainVerifier } from './audit-chain-verifier';
import { auditBatches, ndjsonLines } from './audit-export';
import { checkpointMessage, publicKeyFacts, signMessage } from '../common/signing-key';
import { appendAuditEntry } from './audit-writer';

export interface ArchiveOptions {
  /** The ndjson file to write; refused if it exists. The anchor goes beside it (.anchor.json). */
  out: string;
  /** Entries created more than this many days ago are archived. */
  retentionDays: number;
  /** At most this many entries, the oldest first (default: all that are old enough). */
  limit?: number;
  /** AUDIT_SIGNING_KEY: the anchor must be signed by the key the service verifies with. */
  signingKey: KeyObject;
}

export interface ArchiveAnchor {
  kind: 'archive';
  seq: number;
  hash: string;
  signed_at: string;
  signature: string;
  key_id: string;
  public_key: string;
}

export type ArchiveOutcome =
  | { archived: 0 }
  | { archived: number; fromSeq: number; throughSeq: number; file: string; anchor: ArchiveAnchor };

const ARCHIVE_LOCK = `hashtext('customer-access audit archive')`;

/**
 * `npm run audit:archive`: the only way an audit entry leaves the table. In one transaction, as
 * the schema's owner: takes the oldest entries older than the retention (a prefix of the chain,
 * since created_at never goes down along it), recomputes them (a broken chain is not archived),
 * writes them to `out` as the export does and flushes the file to disk, signs the last one's
 * seq and hash as an `archive` checkpoint (the anchor the remaining chain starts from), unlinks
 * the notes that pointed at them, deletes them (the append-only trigger lets the owner delete up
 * to the seq its session names, nothing else) and records `audit.archived` in the chain. Until
 * the commit nothing is deleted; a file written for a run that then failed is removed.
 */
export async function archiveAuditLog(
  dataSource: DataSource,
  options: ArchiveOptions,
): Promise<ArchiveOutcome> {
  if (existsSync(options.out)) throw new Error(`${options.out} exists: choose another file.`);
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  const query: Query = (sql, parameters) => runner.query(sql, parameters);
  const key = publicKeyFacts(options.signingKey);
  const anchorFile = `${options.out}.anchor.json`;
  let written = false;
  try {
    await runner.startTransaction();
    await query(`SELECT pg_advisory_xact_lock(${ARCHIVE_LOCK})`);
    const [range] = await query<{ first: string | null; last: string | null }>(
      `SELECT min(seq)::text AS first,
              (SELECT max(seq) FROM audit_logs
                WHERE created_at < now() - make_interval(days => $1))::text AS last
         FROM audit_logs`,
      [options.retentionDays],
    );
    if (range.first === null || range.last === null) {
      await runner.rollbackTransaction();
      return { archived: 0 };
    }
    const fromSeq = Number(range.first);
    const throughSeq =
      options.limit === undefined
        ? Number(range.last)
        : Math.min(Number(range.last), fromSeq + options.limit - 1);

    const outcome = await new AuditChainVerifier(query, key.raw).verify({
      fromSeq,
      toSeq: throughSeq,
    });
    if (!outcome.ok) {
      throw new Error(
        `The audit chain is broken at seq ${outcome.first_broken_seq} (${outcome.reason}): ` +
          `nothing was archived. ${outcome.detail}`,
      );
    }

    written = true;
    const count = await writeEntries(query, options.out, fromSeq, throughSeq);
    const [last] = await query<{ hash: string }>('SELECT hash FROM audit_logs WHERE seq = $1', [
      throughSeq,
    ]);
    const signedAt = new Date();
    const anchor: ArchiveAnchor = {
      kind: 'archive',
      seq: throughSeq,
      hash: last.hash,
      signed_at: signedAt.toISOString(),
      signature: signMessage(
        options.signingKey,
        checkpointMessage(throughSeq, last.hash, signedAt.toISOString()),
      ),
      key_id: key.keyId,
      public_key: key.raw,
    };
    await query(
      `INSERT INTO audit_checkpoints (kind, seq, hash, signed_at, signature, key_id, public_key)
       VALUES ('archive', $1, $2, $3, $4, $5, $6)`,
      [throughSeq, anchor.hash, anchor.signed_at, anchor.signature, key.keyId, key.raw],
    );
    writeFileSync(anchorFile, `${JSON.stringify(anchor, null, 2)}\n`, { flag: 'wx' });

    // Notes outlive the entries they were written with: they keep their text, not the link.
    await query(
      `UPDATE customer_notes SET audit_log_id = NULL
        WHERE audit_log_id IN (SELECT id FROM audit_logs WHERE seq <= $1)`,
      [throughSeq],
    );
    await query(`SELECT set_config('customer_access.audit_archive_through', $1, true)`, [
      String(throughSeq),
    ]);
    const [{ deleted }] = await query<{ deleted: string }>(
      `WITH gone AS (DELETE FROM audit_logs WHERE seq <= $1 RETURNING 1)
       SELECT count(*) AS deleted FROM gone`,
      [throughSeq],
    );
    if (Number(deleted) !== count) {
      throw new Error(`Wrote ${count} entries but would delete ${deleted}: nothing done.`);
    }
    await appendAuditEntry(
      runner,
      {
        action: 'audit.archived',
        target: null,
        reason: `npm run audit:archive (AUDIT_RETENTION_DAYS=${options.retentionDays})`,
        before: {},
        after: {
          from_seq: fromSeq,
          through_seq: throughSeq,
          through_hash: anchor.hash,
          entries: count,
          file: basename(options.out),
        },
      },
      { actor: SYSTEM_ACTOR, requestId: null, ip: null, userAgent: null },
    );
    await runner.commitTransaction();
    return { archived: count, fromSeq, throughSeq, file: options.out, anchor };
  } catch (error) {
    if (runner.isTransactionActive) await runner.rollbackTransaction().catch(() => undefined);
    if (written) {
      rmSync(options.out, { force: true });
      rmSync(`${options.out}.partial`, { force: true });
      rmSync(anchorFile, { force: true });
    }
    throw error;
  } finally {
    await runner.release();
  }
}

/** The entries of the range as ndjson, through a .partial file renamed once on disk. */
async function writeEntries(
  query: Query,
  out: string,
  fromSeq: number,
  throughSeq: number,
): Promise<number> {
  const partial = `${out}.partial`;
  const stream = createWriteStream(partial, { flags: 'wx' });
  let count = 0;
  for await (const rows of auditBatches(query, { fromSeq, toSeq: throughSeq })) {
    count += rows.length;
    if (!stream.write(ndjsonLines(rows))) await once(stream, 'drain');
  }
  stream.end();
  await once(stream, 'finish');
  const handle = await open(partial, 'r+');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
  renameSync(partial, out);
  return count;
}
