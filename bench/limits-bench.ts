/**
 * `npm run bench`: how fast the limits check is, next to what this machine can do at all.
 *
 * On the PostgreSQL server of DATABASE_URL (else the local default) it creates a throw-away
 * database, migrates it and seeds 10,000 customers with subscriptions, starts the built service
 * on it as a separate process (as in production), and measures with autocannon, 64 connections,
 * 10 s each after a warm-up:
 *   - a bare `node:http` server answering constant JSON: the ceiling for Node here;
 *   - GET /health (constant, through the whole Nest pipeline);
 *   - GET /api/v1/customers/{random id}/limits with a platform key, with the caches on;
 *   - the same with LIMITS_CACHE=false (every request reads the key and the limits from the
 *     database).
 * It prints the figures and writes them to bench/RESULTS.md with the machine and the date, then
 * stops everything and drops the database. BENCH_ROUNDS repeats the rows, interleaved, and
 * reports medians and ranges (this machine is shared: single runs vary by 10 to 20%);
 * BENCH_DURATION (seconds) shortens a trial run.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import os from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import * as prettier from 'prettier';
import { DataSource } from 'typeorm';
import { displayPrefix, generateApiKey, hashApiKey } from '../src/api-keys/api-key-format';
import { dataSourceOptions } from '../src/database/data-source-options';
import { entities } from '../src/entities';
import {
  createDatabase,
  DEFAULT_SERVER_URL,
  dropDatabase,
  uniqueDatabaseName,
  withDatabase,
} from '../src/database/database-admin';
import { writeSection } from './results-file';

const CUSTOMERS = 10_000;
const CONNECTIONS = 64;
const DURATION_S = Number(process.env.BENCH_DURATION ?? 10);
const WARMUP_S = Math.min(3, DURATION_S);
/** BENCH_ROUNDS > 1 repeats every row, interleaved, and reports medians and ranges. */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 1);
const ROWS = {
  bare: 'bare node:http, constant JSON',
  health: 'GET /health',
  cached: 'GET /customers/{id}/limits, cache on',
  uncached: 'GET /customers/{id}/limits, LIMITS_CACHE=false',
} as const;
const ROOT = join(__dirname, '..', '..'); // dist/bench -> the repository
const MAIN = join(__dirname, '..', 'src', 'main.js');

interface Round {
  bare: Measure;
  health: Measure;
  cached: Measure;
  uncached: Measure;
}

interface Measure {
  name: string;
  reqPerSec: number;
  p50: number;
  p99: number;
  requests: number;
  failures: number;
}

async function main(): Promise<void> {
  const serverUrl = process.env.DATABASE_URL ?? DEFAULT_SERVER_URL;
  const database = uniqueDatabaseName('ca_bench_limits');
  const databaseUrl = withDatabase(serverUrl, database);
  const loadBefore = os.loadavg();
  const started = new Date();
  console.log(`Seeding ${CUSTOMERS} customers into ${database} on ${new URL(serverUrl).host}...`);
  await createDatabase(serverUrl, database);
  const children: ChildProcess[] = [];
  try {
    const { customerIds, key, postgres, subscriptions } = await seed(databaseUrl);
    // All three servers run side by side; only the one being measured gets requests.
    const bare = await startBare(children);
    const cached = await startService(children, databaseUrl, true);
    const uncached = await startService(children, databaseUrl, false);
    const rounds: Round[] = [];
    for (let round = 1; round <= ROUNDS; round += 1) {
      if (ROUNDS > 1) console.log(`Round ${round} of ${ROUNDS}`);
      rounds.push({
        bare: await measure(ROWS.bare, bare, '/'),
        health: await measure(ROWS.health, cached.url, '/health'),
        cached: await measureLimits(ROWS.cached, cached.url, key, customerIds),
        uncached: await measureLimits(ROWS.uncached, uncached.url, key, customerIds),
      });
    }
    const report = await render({
      started,
      rounds,
      postgres,
      subscriptions,
      loadBefore,
      loadAfter: os.loadavg(),
    });
    writeSection(join(ROOT, 'bench', 'RESULTS.md'), 'Limits benchmark', report);
    console.log(`\n${report}`);
    console.log('Written to bench/RESULTS.md');
  } finally {
    for (const child of children) await stop(child);
    await dropDatabase(serverUrl, database);
  }
}

export async function seed(url: string): Promise<{
  customerIds: string[];
  key: string;
  postgres: string;
  subscriptions: number;
}> {
  const dataSource = new DataSource({
    ...dataSourceOptions({ entities, url, poolSize: 2 }),
    logging: false,
  });
  await dataSource.initialize();
  try {
    await dataSource.runMigrations({ transaction: 'each' });
    await dataSource.query(
      `INSERT INTO features (code, name)
       SELECT 'feature_' || i, 'Feature ' || i FROM generate_series(1, 6) AS i`,
    );
    await dataSource.query(
      `INSERT INTO plans (code, name, amount, currency, "interval", user_count) VALUES
         ('basic', 'Basic', 900, 'EUR', 'month', 3),
         ('pro', 'Pro', 4900, 'EUR', 'month', 10),
         ('enterprise', 'Enterprise', 99000, 'EUR', 'year', 100)`,
    );
    // basic: features 1-2 limited; pro: 1-4 limited; enterprise: all, 5 and 6 unlimited.
    await dataSource.query(
      `INSERT INTO plan_features (plan_id, feature_id, "limit")
       SELECT p.id, f.id,
              CASE WHEN p.code = 'enterprise' AND f.code IN ('feature_5', 'feature_6') THEN NULL
                   ELSE 1000 * (CASE p.code WHEN 'basic' THEN 1 WHEN 'pro' THEN 10 ELSE 100 END)
              END
         FROM plans p JOIN features f
           ON (p.code = 'basic' AND f.code IN ('feature_1', 'feature_2'))
           OR (p.code = 'pro' AND f.code IN ('feature_1', 'feature_2', 'feature_3', 'feature_4'))
           OR p.code = 'enterprise'`,
    );
    await dataSource.query(
      `INSERT INTO customers (email, name)
       SELECT 'bench-' || i || '@example.com', 'Customer ' || i FROM generate_series(1, $1) AS i`,
      [CUSTOMERS],
    );
    // Every customer on one plan, every other one on a second: limits sum over two.
    await dataSource.query(
      `INSERT INTO subscriptions (customer_id, plan_id, started_at, current_period_start, current_period_end)
       SELECT c.id, p.id, now(), now(), now() + interval '1 month'
         FROM (SELECT id, row_number() OVER (ORDER BY email) AS n FROM customers) c
         JOIN plans p ON p.code = (ARRAY['basic', 'pro', 'enterprise'])[1 + c.n % 3]
                      OR (c.n % 2 = 0 AND p.code = 'basic' AND c.n % 3 <> 0)`,
    );
    await dataSource.query('ANALYZE');
    const key = generateApiKey();
    await dataSource.query(
      `INSERT INTO api_keys (name, key_hash, prefix) VALUES ('Benchmark platform key', $1, $2)`,
      [hashApiKey(key), displayPrefix(key)],
    );
    const rows = await dataSource.query<{ id: string }[]>('SELECT id FROM customers');
    const [{ count }] = await dataSource.query<{ count: number }[]>(
      'SELECT count(*)::int AS count FROM subscriptions',
    );
    const [{ version }] = await dataSource.query<{ version: string }[]>('SELECT version()');
    return {
      customerIds: rows.map((row) => row.id),
      key,
      postgres: version.split(' on ')[0],
      subscriptions: count,
    };
  } finally {
    await dataSource.destroy();
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function waitFor(url: string, child: ChildProcess, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`The process for ${url} exited`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${url} did not answer in ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export async function startBare(children: ChildProcess[]): Promise<string> {
  const port = await freePort();
  const code = `
    const body = JSON.stringify({ status: 'ok' });
    require('node:http')
      .createServer((req, res) => {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
        res.end(body);
      })
      .listen(${port}, '127.0.0.1');`;
  const child = spawn(process.execPath, ['-e', code], { stdio: 'inherit' });
  children.push(child);
  const url = `http://127.0.0.1:${port}`;
  await waitFor(url, child);
  return url;
}

export async function startService(
  children: ChildProcess[],
  databaseUrl: string,
  cache: boolean,
): Promise<{ url: string; process: ChildProcess }> {
  const port = await freePort();
  const child = spawn(process.execPath, [MAIN], {
    stdio: 'inherit',
    env: {
      ...process.env,
      NODE_ENV: 'production',
      DATABASE_URL: databaseUrl,
      HOST: '127.0.0.1',
      PORT: String(port),
      JWT_SECRET: randomBytes(48).toString('base64url'),
      // Production needs a key for the audit chain's checkpoints.
      AUDIT_SIGNING_KEY: randomBytes(32).toString('base64'),
      ADMIN_EMAIL: 'bench-admin@example.com',
      ADMIN_PASSWORD: randomBytes(24).toString('base64url'),
      LOG_LEVEL: 'warn',
      RUN_MIGRATIONS: 'false',
      LIMITS_CACHE: String(cache),
    },
  });
  children.push(child);
  const url = `http://127.0.0.1:${port}`;
  await waitFor(`${url}/health`, child);
  return { url, process: child };
}

export function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

function summarise(name: string, result: autocannon.Result): Measure {
  return {
    name,
    reqPerSec: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    requests: result.requests.total,
    failures: result.errors + result.timeouts + result.non2xx,
  };
}

export async function measure(name: string, base: string, path: string): Promise<Measure> {
  const options = { url: `${base}${path}`, connections: CONNECTIONS };
  await autocannon({ ...options, duration: WARMUP_S });
  const measured = summarise(name, await autocannon({ ...options, duration: DURATION_S }));
  report(measured);
  return measured;
}

/** A random customer per request, with the platform key. */
export async function measureLimits(
  name: string,
  base: string,
  key: string,
  customerIds: string[],
): Promise<Measure> {
  const options = {
    url: base,
    connections: CONNECTIONS,
    headers: { 'x-api-key': key },
    requests: [
      {
        method: 'GET',
        setupRequest: (request: { path?: string }) => {
          const id = customerIds[Math.floor(Math.random() * customerIds.length)];
          return { ...request, path: `/api/v1/customers/${id}/limits` };
        },
      },
    ],
  };
  await autocannon({ ...options, duration: WARMUP_S });
  const measured = summarise(name, await autocannon({ ...options, duration: DURATION_S }));
  report(measured);
  return measured;
}

function report(m: Measure): void {
  console.log(
    `${m.name}: ${Math.round(m.reqPerSec)} req/s, p50 ${m.p50} ms, p99 ${m.p99} ms` +
      (m.failures > 0 ? `, ${m.failures} FAILED` : ''),
  );
}

async function render(run: {
  started: Date;
  rounds: Round[];
  postgres: string;
  subscriptions: number;
  loadBefore: number[];
  loadAfter: number[];
}): Promise<string> {
  const median = (values: number[]) => {
    const sorted = [...values].sort((a, b) => a - b);
    const middle = Math.floor(sorted.length / 2);
    return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
  };
  const of = (row: keyof Round, value: (m: Measure) => number) =>
    run.rounds.map((round) => value(round[row]));
  const figure = (values: number[], digits = 0) => {
    const shown = (v: number) => v.toFixed(digits);
    return values.length === 1
      ? shown(values[0])
      : `${shown(median(values))} (${shown(Math.min(...values))} to ${shown(Math.max(...values))})`;
  };
  const row = (key: keyof Round) =>
    `| ${ROWS[key]} | ${figure(of(key, (m) => m.reqPerSec))} | ${figure(of(key, (m) => m.p50))} | ${figure(of(key, (m) => m.p99))} | ${of(key, (m) => m.failures).reduce((a, b) => a + b, 0)} |`;
  const ratios = (a: keyof Round, b: keyof Round) =>
    run.rounds.map((round) => round[a].reqPerSec / round[b].reqPerSec);
  const verdict = (values: number[], ok: (v: number) => boolean) =>
    ok(median(values)) ? 'met' : 'NOT met';
  const limitsHealth = ratios('cached', 'health');
  const limitsBare = ratios('cached', 'bare');
  const p99 = of('cached', (m) => m.p99);
  const bareValues = of('bare', (m) => m.reqPerSec);
  const spread = (Math.max(...bareValues) - Math.min(...bareValues)) / median(bareValues);
  const cpus = os.cpus();
  const load = (values: number[]) => values.map((v) => v.toFixed(2)).join(' / ');
  const text = `# Limits benchmark

Measured by \`${ROUNDS > 1 ? `BENCH_ROUNDS=${ROUNDS} ` : ''}npm run bench\` on ${run.started.toISOString()}.

- Machine: ${cpus[0]?.model ?? 'unknown CPU'}, ${cpus.length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB RAM, ${os.type()} ${os.release()}
- Node ${process.version}; ${run.postgres} on the same machine
- Data: ${CUSTOMERS} customers, ${run.subscriptions} subscriptions on 3 plans with 6 features
- Load: autocannon, ${CONNECTIONS} connections, ${DURATION_S} s per row after a ${WARMUP_S} s warm-up${ROUNDS > 1 ? `, ${ROUNDS} rounds with the rows interleaved (medians, and the range in brackets)` : ''}; the
  service and the bare server run as their own processes, autocannon in the benchmark's; limits ask
  for a random customer on every request, with a platform key
- Load average (1/5/15 min) before: ${load(run.loadBefore)}, after: ${load(run.loadAfter)}${ROUNDS > 1 ? `; the bare server varied by ${(spread * 100).toFixed(0)}% across rounds` : ''}

| what | req/s | p50 ms | p99 ms | errors + non-2xx |
| --- | --- | --- | --- | --- |
${(['bare', 'health', 'cached', 'uncached'] as const).map(row).join('\n')}

| ratio | cache on | LIMITS_CACHE=false | target |
| --- | --- | --- | --- |
| limits / health | ${figure(limitsHealth, 2)}: ${verdict(limitsHealth, (v) => v >= 0.8)} | ${figure(ratios('uncached', 'health'), 2)} | at least 0.8 |
| limits / bare | ${figure(limitsBare, 2)}: ${verdict(limitsBare, (v) => v >= 0.5)} | ${figure(ratios('uncached', 'bare'), 2)} | at least 0.5 |
| limits p99 | ${figure(p99)} ms: ${verdict(p99, (v) => v <= 10)} | ${figure(of('uncached', (m) => m.p99))} ms | at most 10 ms |

Latencies are autocannon's, in whole milliseconds. Compare figures within one run only: this
machine is shared, and runs differ.
`;
  return prettier.format(text, { parser: 'markdown', proseWrap: 'preserve' });
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
