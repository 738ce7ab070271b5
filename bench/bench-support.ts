/**
 * What the benchmarks share: seeding a throw-away database fast with bulk SQL, starting the built
 * service (or a bare node:http server) as a process of its own, measuring a load with autocannon
 * together with the server's own CPU time per request (utime + stime from /proc/<pid>/stat before
 * and after, divided by the requests served: the load generator shares the machine's cores, so
 * req/s alone mostly measures the generator), and writing a section of bench/RESULTS.md.
 */
import { ChildProcess, execSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import autocannon from 'autocannon';
import * as prettier from 'prettier';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { displayPrefix, generateApiKey, hashApiKey } from '../src/api-keys/api-key-format';
import { dataSourceOptions } from '../src/database/data-source-options';
import { writeSection } from './results-file';
import { entities } from '../src/entities';

export const ROOT = join(__dirname, '..', '..'); // dist/bench -> the repository
const MAIN = join(__dirname, '..', 'src', 'main.js');
export const RESULTS_FILE = join(ROOT, 'bench', 'RESULTS.md');

export const ADMIN = {
  email: 'bench-admin@example.com',
  password: randomBytes(24).toString('base64url'),
};

export interface Seeded {
  customerIds: string[];
  /** A platform key, in clear. */
  key: string;
  postgres: string;
  subscriptions: number;
  holds: number;
}

/**
 * `customers` customers on 3 plans with 6 features, every one on a plan and every other one on a
 * second (limits sum over two); 1% with an active manual hold (disabled), 0.5% with one scheduled
 * for tomorrow; a platform key. Bulk SQL (`INSERT ... SELECT generate_series`): a million
 * customers take seconds, not minutes.
 */
export async function seed(url: string, customers: number): Promise<Seeded> {
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
      [customers],
    );
    await dataSource.query(
      `CREATE TEMPORARY TABLE numbered AS
       SELECT id, row_number() OVER (ORDER BY id) AS n FROM customers`,
    );
    await dataSource.query(
      `INSERT INTO subscriptions (customer_id, plan_id, started_at, current_period_start, current_period_end)
       SELECT c.id, p.id, now(), now(), now() + interval '1 month'
         FROM numbered c
         JOIN plans p ON p.code = (ARRAY['basic', 'pro', 'enterprise'])[1 + c.n % 3]
                      OR (c.n % 2 = 0 AND p.code = 'basic' AND c.n % 3 <> 0)`,
    );
    await dataSource.query(
      `INSERT INTO holds (customer_id, source, reason_code, reason, starts_at, ends_at, pause_billing,
                          placed_by_type, placed_by_name, review_at)
       SELECT id, 'manual', 'non_payment', 'Benchmark', now() - interval '1 day', NULL, false,
              'system', 'system', now() + interval '30 days'
         FROM numbered WHERE n % 100 = 0
       UNION ALL
       SELECT id, 'manual', 'customer_request', 'Benchmark', now() + interval '1 day',
              now() + interval '2 days', false, 'system', 'system', now() + interval '30 days'
         FROM numbered WHERE n % 200 = 1`,
    );
    await dataSource.query(
      `UPDATE customers c SET status = 'disabled', disabled_at = now() - interval '1 day',
              disabled_reason = 'Benchmark'
         FROM numbered x WHERE x.id = c.id AND x.n % 100 = 0`,
    );
    await dataSource.query(
      `UPDATE customers c SET next_boundary_at = now() + interval '1 day'
         FROM numbered x WHERE x.id = c.id AND x.n % 200 = 1`,
    );
    await dataSource.query('ANALYZE');
    const key = generateApiKey();
    await createKey(dataSource, key, 'Benchmark platform key');
    const rows = await dataSource.query<{ id: string }[]>('SELECT id FROM customers');
    const [{ subscriptions, holds }] = await dataSource.query<
      { subscriptions: number; holds: number }[]
    >(
      `SELECT (SELECT count(*)::int FROM subscriptions) AS subscriptions,
              (SELECT count(*)::int FROM holds) AS holds`,
    );
    const [{ version }] = await dataSource.query<{ version: string }[]>('SELECT version()');
    return {
      customerIds: rows.map((row) => row.id),
      key,
      postgres: version.split(' on ')[0],
      subscriptions,
      holds,
    };
  } finally {
    await dataSource.destroy();
  }
}

/** A platform key straight into the database; its id. */
export async function createKey(
  dataSource: DataSource,
  key: string,
  name: string,
): Promise<string> {
  const [{ id }] = await dataSource.query<{ id: string }[]>(
    `INSERT INTO api_keys (name, key_hash, prefix) VALUES ($1, $2, $3) RETURNING id`,
    [name, hashApiKey(key), displayPrefix(key)],
  );
  return id;
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

async function waitFor(url: string, child: ChildProcess, timeoutMs = 60_000): Promise<void> {
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

export interface Server {
  url: string;
  process: ChildProcess;
}

export async function startBare(children: ChildProcess[]): Promise<Server> {
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
  return { url, process: child };
}

/**
 * node:http answering what a limits check answers from memory, with the same headers as the
 * service's (content type, a request id, the limits route's API_HEADERS): the least CPU that
 * answer can cost in Node, whatever serves it.
 */
export async function startBareLimits(children: ChildProcess[], answer: string): Promise<Server> {
  const port = await freePort();
  const headers = join(__dirname, '..', 'src', 'common', 'security-headers.js');
  const code = `
    const { randomUUID } = require('node:crypto');
    const { API_HEADERS } = require(${JSON.stringify(headers)});
    const body = ${JSON.stringify(answer)};
    require('node:http')
      .createServer((req, res) => {
        const headers = {
          'content-type': 'application/json; charset=utf-8',
          'content-length': Buffer.byteLength(body),
          'x-request-id': randomUUID(),
        };
        for (const [name, value] of API_HEADERS) headers[name] = value;
        res.writeHead(200, headers);
        res.end(body);
      })
      .listen(${port}, '127.0.0.1');`;
  const child = spawn(process.execPath, ['-e', code], { stdio: 'inherit' });
  children.push(child);
  const url = `http://127.0.0.1:${port}`;
  await waitFor(url, child);
  return { url, process: child };
}

export interface Service extends Server {
  /** Resolves with the ms from the spawn to the log line saying every customer is in memory. */
  allInMemory: Promise<number>;
  /** The ms the load itself took, as that line says (set once it is logged). */
  loadMs?: number;
}

/**
 * The built service as in production, on `databaseUrl`; `env` adds or overrides variables,
 * `nodeArgs` go to node (`--cpu-prof`).
 */
export async function startService(
  children: ChildProcess[],
  databaseUrl: string,
  env: Record<string, string> = {},
  nodeArgs: string[] = [],
): Promise<Service> {
  const port = await freePort();
  const spawned = performance.now();
  const child = spawn(process.execPath, [...nodeArgs, MAIN], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: {
      ...process.env,
      NODE_ENV: 'production',
      DATABASE_URL: databaseUrl,
      HOST: '127.0.0.1',
      PORT: String(port),
      JWT_SECRET: randomBytes(48).toString('base64url'),
      AUDIT_SIGNING_KEY: randomBytes(32).toString('base64'),
      ADMIN_EMAIL: ADMIN.email,
      ADMIN_PASSWORD: ADMIN.password,
      // `log`, for the line that says every customer is in memory; warnings are shown.
      LOG_LEVEL: 'log',
      RUN_MIGRATIONS: 'false',
      ...env,
    },
  });
  children.push(child);
  const service: Service = {
    url: `http://127.0.0.1:${port}`,
    process: child,
    allInMemory: undefined as unknown as Promise<number>,
  };
  service.allInMemory = new Promise<number>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout });
    lines.on('line', (line) => {
      if (/customers in memory/.test(line)) {
        service.loadMs = Number(/loaded in (\d+) ms/.exec(line)?.[1] ?? NaN);
        resolve(performance.now() - spawned);
      }
      if (/\b(WARN|ERROR)\b/.test(line)) console.error(line);
    });
    child.once('exit', () => reject(new Error('The service exited')));
  });
  service.allInMemory.catch(() => undefined);
  await waitFor(`${service.url}/health/ready`, child);
  return service;
}

export function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

let clockTicks: number | undefined;

/** CPU time (user + system) the process has used so far, in microseconds. */
export function cpuMicros(pid: number): number {
  return cpuOfStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
}

/** utime + stime of a process, in µs, from the text of its `/proc/<pid>/stat`. */
function cpuOfStat(stat: string): number {
  clockTicks ??= Number(execSync('getconf CLK_TCK').toString().trim()) || 100;
  // The command name (field 2) may hold spaces: count fields after its closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return ((utime + stime) * 1e6) / clockTicks;
}

/**
 * CPU time (user + system) of each `postgres` process of this machine so far, in µs, by pid: the
 * database's share of a run when it runs here (postgresCpuSince).
 */
export function postgresCpu(): Map<number, number> {
  const byPid = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (stat.includes('(postgres)')) byPid.set(Number(entry), cpuOfStat(stat));
    } catch {
      // Gone between the listing and the read.
    }
  }
  return byPid;
}

/**
 * The CPU time PostgreSQL's processes used since `before` (postgresCpu), in µs: those alive now,
 * a process started since counted whole. One that ended in between takes its time with it (the
 * service's pool keeps its connections, so few do).
 */
export function postgresCpuSince(before: Map<number, number>): number {
  let used = 0;
  for (const [pid, now] of postgresCpu()) used += now - (before.get(pid) ?? 0);
  return used;
}

/**
 * Does what autovacuum would, when the server has it off (this machine's PostgreSQL does; a
 * managed one never): every `everyMs`, `VACUUM` the tables autovacuum would vacuum and `ANALYZE`
 * those it would analyse, by its own thresholds as the server sets them (dead rows, rows inserted
 * and rows changed since the last time, against a base and a share of the table's rows). Without
 * it the planner keeps the statistics of the seed, so statements planned while a table was a few
 * rows scan it whole when it has grown to thousands, and every update leaves a dead version
 * behind: the database gets slower by the minute, which no deployment sees. Vacuuming every table
 * whether it needs it or not would charge the run's PostgreSQL CPU with work no deployment does.
 * Returns how to stop it, and how many times it vacuumed and analysed a table.
 */
export async function standInForAutovacuum(
  url: string,
  everyMs = 10_000,
): Promise<{ on: boolean; stop: () => Promise<void>; vacuums: number; analyses: number }> {
  const client = new Client({ connectionString: url });
  await client.connect();
  const { rows } = await client.query<{ autovacuum: string }>('SHOW autovacuum');
  if (rows[0].autovacuum === 'on') {
    await client.end();
    return { on: false, stop: () => Promise.resolve(), vacuums: 0, analyses: 0 };
  }
  // The seed's statistics, once.
  await client.query('VACUUM (ANALYZE)');
  const upkeep = { on: true, vacuums: 0, analyses: 0, stop: () => Promise.resolve() };
  const due = (threshold: string, scale: string) =>
    `current_setting('${threshold}')::float8 + current_setting('${scale}')::float8 * greatest(c.reltuples, 0)`;
  const pass = async () => {
    const tables = await client.query<{ name: string; vacuum: boolean; analyze: boolean }>(
      `SELECT format('%I.%I', s.schemaname, s.relname) AS name,
              (s.n_dead_tup > ${due('autovacuum_vacuum_threshold', 'autovacuum_vacuum_scale_factor')}
               OR s.n_ins_since_vacuum > ${due('autovacuum_vacuum_insert_threshold', 'autovacuum_vacuum_insert_scale_factor')}) AS vacuum,
              s.n_mod_since_analyze > ${due('autovacuum_analyze_threshold', 'autovacuum_analyze_scale_factor')} AS analyze
         FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid`,
    );
    for (const table of tables.rows) {
      if (table.vacuum) {
        await client.query(`VACUUM ${table.analyze ? '(ANALYZE) ' : ''}${table.name}`);
        upkeep.vacuums += 1;
      } else if (table.analyze) {
        await client.query(`ANALYZE ${table.name}`);
      }
      if (table.analyze) upkeep.analyses += 1;
    }
  };
  let running: Promise<unknown> = Promise.resolve();
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    running = pass()
      .catch(() => undefined)
      .finally(() => (busy = false));
  }, everyMs);
  upkeep.stop = async () => {
    clearInterval(timer);
    await running;
    await client.end();
  };
  return upkeep;
}

/** Resident memory of the process, in MB. */
export function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
  return kb / 1024;
}

export interface Measure {
  name: string;
  reqPerSec: number;
  p50: number;
  p99: number;
  requests: number;
  failures: number;
  non2xx: number;
  /** The server's CPU time per request served, in microseconds. */
  cpuUs: number;
  /** PostgreSQL's CPU time (all its processes on this machine) per request served, µs. */
  postgresCpuUs?: number;
}

export interface Load {
  url: string;
  connections: number;
  headers?: Record<string, string>;
  requests?: autocannon.Request[];
}

export function summarise(
  name: string,
  result: autocannon.Result,
  cpuUsed: number,
  postgresCpuUsed = NaN,
): Measure {
  const requests = result.requests.total;
  return {
    name,
    reqPerSec: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    requests,
    failures: result.errors + result.timeouts + result.non2xx,
    non2xx: result.non2xx,
    cpuUs: requests > 0 ? cpuUsed / requests : NaN,
    postgresCpuUs: requests > 0 ? postgresCpuUsed / requests : NaN,
  };
}

export function run(options: autocannon.Options): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    autocannon(options, (error, result) => (error ? reject(error) : resolve(result)));
  });
}

/** A warm-up, then the measured run with the server's CPU read around it. */
export async function measure(
  name: string,
  server: Server,
  load: Load,
  seconds: { warmup: number; duration: number },
): Promise<Measure> {
  if (seconds.warmup > 0) await run({ ...load, duration: seconds.warmup });
  const pid = server.process.pid!;
  const before = cpuMicros(pid);
  const postgresBefore = postgresCpu();
  const result = await run({ ...load, duration: seconds.duration });
  const measured = summarise(
    name,
    result,
    cpuMicros(pid) - before,
    postgresCpuSince(postgresBefore),
  );
  report(measured);
  return measured;
}

export function report(m: Measure): void {
  console.log(
    `${m.name}: ${Math.round(m.reqPerSec)} req/s, server CPU ${m.cpuUs.toFixed(1)} us/request` +
      (m.postgresCpuUs === undefined || Number.isNaN(m.postgresCpuUs)
        ? ''
        : `, PostgreSQL CPU ${m.postgresCpuUs.toFixed(1)} us/request`) +
      `, p50 ${m.p50} ms, p99 ${m.p99} ms` +
      (m.failures > 0 ? `, ${m.failures} FAILED (${m.non2xx} non-2xx)` : ''),
  );
}

/** A random element per request. */
export function pick<T>(values: readonly T[]): T {
  return values[Math.floor(Math.random() * values.length)];
}

/** A staff bearer token for the bootstrapped admin. */
export async function adminToken(base: string): Promise<string> {
  const response = await fetch(`${base}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(ADMIN),
  });
  if (!response.ok) throw new Error(`Login failed: ${response.status} ${await response.text()}`);
  return ((await response.json()) as { access_token: string }).access_token;
}

export function machine(): string {
  const cpus = os.cpus();
  return (
    `${cpus[0]?.model ?? 'unknown CPU'}, ${cpus.length} cores, ` +
    `${Math.round(os.totalmem() / 2 ** 30)} GiB RAM, ${os.type()} ${os.release()}; Node ${process.version}`
  );
}

export function loadAverage(): string {
  return os
    .loadavg()
    .map((v) => v.toFixed(2))
    .join(' / ');
}

/**
 * Writes a benchmark's section (`# <title>` and its body) into bench/RESULTS.md, keeping every
 * other benchmark's section (bench/results-file.ts).
 */
export async function writeResultsSection(title: string, body: string): Promise<void> {
  const text = await prettier.format(`# ${title}\n\n${body.trim()}\n`, {
    parser: 'markdown',
    proseWrap: 'preserve',
  });
  writeSection(RESULTS_FILE, title, text);
}
