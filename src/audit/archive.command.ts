/**
 * `npm run audit:archive -- --out <file.ndjson> [--limit <n>]`: exports the audit entries older
 * than AUDIT_RETENTION_DAYS to the file, signs an anchor (the last one's seq and hash, with
 * AUDIT_SIGNING_KEY, written beside it as <file>.anchor.json and kept in audit_checkpoints), then
 * removes them, all in one transaction (src/audit/audit-archive.ts). Runs as the schema's owner:
 * MIGRATION_DATABASE_URL, else DATABASE_URL, else the embedded database in DATA_DIR (stop the
 * service first then: only one process may open its files).
 */
import { DataSource } from 'typeorm';
import { loadConfig } from '../config/app-config';
import { dataSourceOptions } from '../database/data-source-options';
import { entities } from '../entities';
import { startEmbeddedPostgres } from '../database/embedded-postgres';
import { archiveAuditLog } from './audit-archive';
import { parseSigningKey } from '../common/signing-key';

const USAGE = 'Usage: npm run audit:archive -- --out <file.ndjson> [--limit <entries>]';

function parseArguments(argv: string[]): { out: string; limit?: number } | undefined {
  let out: string | undefined;
  let limit: number | undefined;
  for (let i = 0; i < argv.length; i++) {
    const [name, value] = [argv[i], argv[i + 1]];
    if (name === '--out' && value) {
      out = value;
      i++;
    } else if (name === '--limit' && value && /^[1-9]\d*$/.test(value)) {
      limit = Number(value);
      i++;
    } else {
      return undefined;
    }
  }
  return out === undefined ? undefined : { out, limit };
}

async function main(): Promise<void> {
  const args = parseArguments(process.argv.slice(2));
  if (!args) {
    console.error(USAGE);
    process.exitCode = 2;
    return;
  }
  const config = loadConfig();
  if (config.auditSigningKey === undefined) {
    console.error(
      'AUDIT_SIGNING_KEY is not set: the archive anchor must be signed by the key the service ' +
        'verifies with, or the remaining chain could not be verified. Nothing was archived.',
    );
    process.exitCode = 2;
    return;
  }
  const embedded = config.databaseUrl
    ? undefined
    : await startEmbeddedPostgres({ dataDir: `${config.dataDir}/pglite`, maxConnections: 2 });
  const url = config.migrationDatabaseUrl ?? config.databaseUrl ?? embedded!.url;
  const dataSource = new DataSource(
    dataSourceOptions({
      entities,
      url,
      poolSize: 1,
      applicationName: 'customer-access-audit-archive',
    }),
  );
  try {
    await dataSource.initialize();
    const outcome = await archiveAuditLog(dataSource, {
      out: args.out,
      limit: args.limit,
      retentionDays: config.auditRetentionDays,
      signingKey: parseSigningKey(config.auditSigningKey),
    });
    if (outcome.archived === 0) {
      console.log(
        `No audit entry is older than ${config.auditRetentionDays} days: nothing to archive.`,
      );
      return;
    }
    const { fromSeq, throughSeq, file, anchor } = outcome as Exclude<
      typeof outcome,
      { archived: 0 }
    >;
    console.log(
      `Archived ${outcome.archived} audit entries (seq ${fromSeq}..${throughSeq}) to ${file}, ` +
        `then removed them. Anchor: seq ${anchor.seq}, hash ${anchor.hash}, signed ` +
        `${anchor.signed_at} (${file}.anchor.json). Check the file with: node ` +
        `scripts/verify-audit-export.mjs ${file} --checkpoint ${file}.anchor.json ` +
        '--public-key <the public key>',
    );
  } finally {
    if (dataSource.isInitialized) await dataSource.destroy();
    await embedded?.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
