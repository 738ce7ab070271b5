/**
 * GET /audit-logs with a million entries: seeds 1,000,000 audit rows into a throw-away database
 * on the local PostgreSQL server, runs EXPLAIN (ANALYZE, BUFFERS) on the exact SQL the service
 * sends for each filter's first page and for deep pages, writes bench/AUDIT-EXPLAIN.md, and drops
 * the database.
 *
 *   npx ts-node --transpile-only bench/audit-seed.ts
 *
 * BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres) names the server;
 * BENCH_AUDIT_ROWS changes the row count.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as prettier from 'prettier';
import { DataSource, SelectQueryBuilder } from 'typeorm';
import { AuditService } from '../src/audit/audit.service';
import { ListAuditLogsQueryDto } from '../src/audit/dto/list-audit-logs-query.dto';
import { encodeCursor } from '../src/common/pagination';
import { dataSourceOptions } from '../src/database/data-source-options';
import { entities } from '../src/entities';
import {
  createDatabase,
  DEFAULT_SERVER_URL,
  dropDatabase,
  uniqueDatabaseName,
  withDatabase,
} from '../src/database/database-admin';

const ROWS = Number(process.env.BENCH_AUDIT_ROWS ?? 1_000_000);
const CUSTOMERS = 20_000;
const ACTORS = 200; // the last 20 are API keys
const RUNS = 5;

interface Case {
  name: string;
  query: Partial<ListAuditLogsQueryDto>;
}

interface Result {
  name: string;
  params: string;
  rows: number;
  medianMs: number;
  minMs: number;
  maxMs: number;
  plan: string;
}

async function main(): Promise<void> {
  const serverUrl = process.env.BENCH_DATABASE_URL ?? DEFAULT_SERVER_URL;
  const name = uniqueDatabaseName('ca_bench_audit');
  await createDatabase(serverUrl, name);
  const dataSource = new DataSource({
    ...dataSourceOptions({ entities, url: withDatabase(serverUrl, name), poolSize: 2 }),
    logging: false,
  });
  try {
    await dataSource.initialize();
    await dataSource.runMigrations({ transaction: 'each' });
    const seedMs = await seed(dataSource);
    const results = await explainAll(dataSource);
    const sizes = await dataSource.query<{ relation: string; size: string }[]>(`
      SELECT c.relname AS relation, pg_size_pretty(pg_relation_size(c.oid)) AS size
      FROM pg_class c
      WHERE c.relname = 'audit_logs' OR c.relname LIKE 'ix_audit_logs_%' OR c.relname = 'pk_audit_logs'
      ORDER BY c.relname`);
    const [{ version }] = await dataSource.query<{ version: string }[]>('SELECT version()');
    await writeReport({ seedMs, results, sizes, version });
    for (const r of results) {
      console.log(`${r.name.padEnd(48)} ${r.medianMs.toFixed(3).padStart(8)} ms  (${r.rows} rows)`);
    }
  } finally {
    if (dataSource.isInitialized) await dataSource.destroy();
    await dropDatabase(serverUrl, name);
  }
}

/** Customers, then ROWS audit entries in one INSERT ... SELECT generate_series, then ANALYZE. */
async function seed(db: DataSource): Promise<number> {
  const started = Date.now();
  await db.query(
    `INSERT INTO customers (email, name, status)
     SELECT 'bench-' || g || '@example.com', 'Bench customer ' || g, 'enabled'
     FROM generate_series(1, $1) g`,
    [CUSTOMERS],
  );
  // One entry a minute from 2024 on; actors rotate; one "hot" customer (the first) has every
  // 20th entry (50,000 of a million), the others about 47 each.
  // INSERT is what the append-only triggers allow, so the seed goes through them untouched.
  await db.query(
    `WITH c AS (SELECT array_agg(id ORDER BY created_at, id) AS ids FROM customers),
          a AS (SELECT array_agg(gen_random_uuid()) AS ids FROM generate_series(1, $2))
     INSERT INTO audit_logs
       (action, customer_id, actor_type, actor_id, actor_name, reason, before, after,
        request_id, ip, user_agent, created_at)
     SELECT
       CASE WHEN (g / $3) % 2 = 0 THEN 'customer.disabled' ELSE 'customer.enabled' END,
       CASE WHEN g % 20 = 0 THEN c.ids[1] ELSE c.ids[1 + g % $3] END,
       CASE WHEN g % $2 >= $2 - 20 THEN 'api_key' ELSE 'user' END,
       a.ids[1 + g % $2],
       'Actor ' || (g % $2),
       CASE WHEN g % 3 = 0 THEN 'Bench reason ' || g END,
       CASE WHEN (g / $3) % 2 = 0 THEN '{"status":"enabled"}' ELSE '{"status":"disabled"}' END::jsonb,
       CASE WHEN (g / $3) % 2 = 0 THEN '{"status":"disabled"}' ELSE '{"status":"enabled"}' END::jsonb,
       'bench-' || g,
       '10.0.' || (g % 250) || '.' || (g % 200),
       'bench/1.0',
       timestamptz '2024-01-01 00:00:00Z' + g * interval '1 minute'
     FROM generate_series(1, $1) g, c, a`,
    [ROWS, ACTORS, CUSTOMERS],
  );
  await db.query('ANALYZE customers');
  await db.query('ANALYZE audit_logs');
  return Date.now() - started;
}

/**
 * The SQL of AuditService.list itself, captured where it would run: getMany is replaced for the
 * duration by a function that records the query and its parameters.
 */
async function sqlOf(
  db: DataSource,
  query: Partial<ListAuditLogsQueryDto>,
): Promise<[string, unknown[]]> {
  const service = new AuditService(
    { tx: db.manager } as unknown as ConstructorParameters<typeof AuditService>[0],
    db,
  );
  const prototype = SelectQueryBuilder.prototype as { getMany: () => Promise<unknown[]> };
  const original = prototype.getMany;
  let captured: [string, unknown[]] | undefined;
  prototype.getMany = function (this: SelectQueryBuilder<object>) {
    captured = this.getQueryAndParameters();
    return Promise.resolve([]);
  };
  try {
    await service.list(Object.assign(new ListAuditLogsQueryDto(), query));
  } finally {
    prototype.getMany = original;
  }
  if (!captured) throw new Error('AuditService.list ran no query');
  return captured;
}

/** A cursor pointing `offset` entries down the newest-first order of `where`. */
async function cursorAt(db: DataSource, where: string, offset: number): Promise<string> {
  const rows = await db.query<{ created_at: Date; id: string }[]>(
    `SELECT created_at, id FROM audit_logs ${where}
     ORDER BY created_at DESC, id DESC OFFSET ${offset} LIMIT 1`,
  );
  if (rows.length === 0) throw new Error(`nothing at offset ${offset} of ${where}`);
  return encodeCursor([rows[0].created_at.toISOString(), rows[0].id]);
}

async function explainAll(db: DataSource): Promise<Result[]> {
  const [{ customer_id: customerId }] = await db.query<{ customer_id: string }[]>(
    'SELECT customer_id FROM audit_logs ORDER BY created_at DESC LIMIT 1 OFFSET 12345',
  );
  const [{ id: hotId }] = await db.query<{ id: string }[]>(
    'SELECT id FROM customers ORDER BY created_at, id LIMIT 1',
  );
  const [{ actor_id: actorId }] = await db.query<{ actor_id: string }[]>(
    `SELECT actor_id FROM audit_logs WHERE actor_type = 'user' LIMIT 1`,
  );
  const [{ actor_id: keyId }] = await db.query<{ actor_id: string }[]>(
    `SELECT actor_id FROM audit_logs WHERE actor_type = 'api_key' LIMIT 1`,
  );
  const deep = Math.floor(ROWS * 0.9);
  const cases: Case[] = [
    { name: 'first page, unfiltered', query: {} },
    { name: 'first page, customer_id', query: { customer_id: customerId } },
    { name: 'first page, actor_id (staff user)', query: { actor_id: actorId } },
    { name: 'first page, actor_id (API key)', query: { actor_id: keyId } },
    {
      name: 'first page, action + from/to (one month)',
      query: {
        action: 'customer.disabled',
        from: '2024-06-01T00:00:00Z',
        to: '2024-07-01T00:00:00Z',
      },
    },
    {
      name: 'first page, from/to (one day)',
      query: { from: '2024-03-10T00:00:00Z', to: '2024-03-11T00:00:00Z' },
    },
    { name: 'first page, action', query: { action: 'customer.enabled' } },
    {
      name: 'first page, customer_id + action',
      query: { customer_id: customerId, action: 'customer.disabled' },
    },
    {
      name: 'first page, actor_id + from/to (one month)',
      query: { actor_id: actorId, from: '2024-06-01T00:00:00Z', to: '2024-07-01T00:00:00Z' },
    },
    { name: 'first page, customer_id of the hot customer', query: { customer_id: hotId } },
    { name: 'first page, limit=200, unfiltered', query: { limit: 200 } },
    {
      name: `deep page, unfiltered (cursor at ${deep.toLocaleString('en')})`,
      query: { cursor: await cursorAt(db, '', deep) },
    },
    {
      name: 'deep page, action (cursor at 400,000)',
      query: {
        action: 'customer.enabled',
        cursor: await cursorAt(db, `WHERE action = 'customer.enabled'`, Math.floor(ROWS * 0.4)),
      },
    },
    {
      name: 'deep page, actor_id (cursor at 4,000)',
      query: {
        actor_id: actorId,
        cursor: await cursorAt(
          db,
          `WHERE actor_id = '${actorId}'`,
          Math.floor(ROWS / ACTORS) - 1000,
        ),
      },
    },
    {
      name: 'deep page, customer_id (cursor at 40)',
      query: {
        customer_id: customerId,
        cursor: await cursorAt(
          db,
          `WHERE customer_id = '${customerId}'`,
          Math.floor(ROWS / CUSTOMERS) - 10,
        ),
      },
    },
    {
      name: 'deep page, customer_id of the hot customer (cursor at 40,000)',
      query: {
        customer_id: hotId,
        cursor: await cursorAt(db, `WHERE customer_id = '${hotId}'`, Math.floor(ROWS / 25)),
      },
    },
  ];

  const results: Result[] = [];
  for (const c of cases) {
    const [sql, parameters] = await sqlOf(db, c.query);
    const times: number[] = [];
    let plan = '';
    let rows = 0;
    for (let run = 0; run < RUNS; run++) {
      const lines = await db.query<{ 'QUERY PLAN': string }[]>(
        `EXPLAIN (ANALYZE, BUFFERS) ${sql}`,
        parameters,
      );
      plan = lines.map((l) => l['QUERY PLAN']).join('\n');
      const execution = /Execution Time: ([\d.]+) ms/.exec(plan);
      if (!execution) throw new Error(`no execution time in:\n${plan}`);
      times.push(Number(execution[1]));
      rows = Number(/\(actual time=[\d.]+\.\.[\d.]+ rows=(\d+)/.exec(plan)?.[1] ?? 0);
    }
    times.sort((x, y) => x - y);
    results.push({
      name: c.name,
      params: JSON.stringify(c.query),
      rows,
      medianMs: times[Math.floor(times.length / 2)],
      minMs: times[0],
      maxMs: times[times.length - 1],
      plan,
    });
  }
  return results;
}

async function writeReport(report: {
  seedMs: number;
  results: Result[];
  sizes: { relation: string; size: string }[];
  version: string;
}): Promise<void> {
  const lines = [
    '# GET /audit-logs with 1,000,000 entries: EXPLAIN (ANALYZE, BUFFERS)',
    '',
    'Written by `npx ts-node --transpile-only bench/audit-seed.ts`, which',
    `seeds ${ROWS.toLocaleString('en')} audit rows (${CUSTOMERS.toLocaleString('en')} customers, ${ACTORS} actors of which 20 API keys,`,
    'one entry a minute from 2024-01-01; one "hot" customer holds 50,000 of them) into a throw-away',
    'database, ANALYZEs it, and explains the SQL',
    '`AuditService.list` itself builds (captured from its query builder), page size 50 unless said.',
    `Each query ran ${RUNS} times; times are PostgreSQL's Execution Time (median, min-max), warm cache.`,
    '',
    `Server: ${report.version.split(',')[0]}. Seed (INSERT ... SELECT generate_series + ANALYZE): ${(report.seedMs / 1000).toFixed(1)} s.`,
    '',
    '| page | rows | median ms | min-max ms |',
    '| --- | ---: | ---: | ---: |',
    ...report.results.map(
      (r) =>
        `| ${r.name} | ${r.rows} | ${r.medianMs.toFixed(3)} | ${r.minMs.toFixed(3)}-${r.maxMs.toFixed(3)} |`,
    ),
    '',
    '## Sizes',
    '',
    '| relation | size |',
    '| --- | ---: |',
    ...report.sizes.map((s) => `| ${s.relation} | ${s.size} |`),
    '',
    '## Plans (last run of each)',
    '',
    ...report.results.flatMap((r) => [
      `### ${r.name}`,
      '',
      `Query: \`${r.params}\``,
      '',
      '```',
      r.plan,
      '```',
      '',
    ]),
  ];
  // Formatted like the rest of the repository, so that `npm run format:check` stays green.
  const file = join(__dirname, 'AUDIT-EXPLAIN.md');
  const options = (await prettier.resolveConfig(file)) ?? {};
  writeFileSync(file, await prettier.format(lines.join('\n'), { ...options, filepath: file }));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
