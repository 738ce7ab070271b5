/**
 * `npm run bench:client`: the client library (packages/client) against the built service.
 *
 * On the PostgreSQL server of DATABASE_URL (else the local default) it creates a throw-away
 * database, migrates it, seeds CUSTOMERS customers subscribed to a plan granting one feature, and
 * starts two instances of the built service on it as separate processes (as in production). An
 * AccessClient (failMode closed) is connected to instance A. Then:
 *   - cached checks: every customer loaded into the client, then `isAllowed(id, feature)` over
 *     them in a tight loop on this process's one thread, ROUNDS rounds of ROUND_MS: checks per
 *     second (median and range); also `limits(id)` and `check(id, feature)`;
 *   - from a disable to the client answering "disabled": DISABLES customers, one after the
 *     other, are disabled through instance B (POST /customers/{id}/disable with a platform key);
 *     from B's answer (the commit is before it) the client is asked every millisecond until it
 *     says false: p50, p99 and max over them.
 * It prints the figures and writes them to bench/RESULTS.md under "Client library" (replacing
 * that section, keeping the rest of the file), then stops everything and drops the database.
 */
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import * as prettier from 'prettier';
import { DataSource } from 'typeorm';
import { AccessClient } from '../packages/client/src';
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
import { startService, stop } from './bench-support';
import { writeSection } from './results-file';

const CUSTOMERS = Number(process.env.BENCH_CUSTOMERS ?? 10_000);
const DISABLES = 100;
const ROUNDS = 5;
/** Well under the client's staleAfterMs (3000) less a heartbeat period (1000). */
const ROUND_MS = 1000;
const FEATURE = 'api_calls';
const ROOT = join(__dirname, '..', '..'); // dist/bench -> the repository
const RESULTS = join(ROOT, 'bench', 'RESULTS.md');
const HEADING = 'Client library';
const TARGET_CHECKS_PER_S = 5_000_000;
const TARGET_P99_MS = 100;

async function main(): Promise<void> {
  const serverUrl = process.env.DATABASE_URL ?? DEFAULT_SERVER_URL;
  const database = uniqueDatabaseName('ca_bench_client');
  const databaseUrl = withDatabase(serverUrl, database);
  const started = new Date();
  const loadBefore = os.loadavg();
  console.log(`Seeding ${CUSTOMERS} customers into ${database} on ${new URL(serverUrl).host}...`);
  await createDatabase(serverUrl, database);
  const children: ChildProcess[] = [];
  let client: AccessClient | undefined;
  try {
    const { customerIds, key, postgres } = await seed(databaseUrl);
    const a = (await startService(children, databaseUrl)).url;
    const b = (await startService(children, databaseUrl)).url;
    client = new AccessClient({ baseUrl: a, apiKey: key, failMode: 'closed' });
    await client.ready();

    console.log(`Loading ${customerIds.length} customers into the client...`);
    await loadAll(client, customerIds);
    const checks = await measureChecks(client, customerIds);
    console.log(
      `isAllowed, cached: ${fmtRate(median(checks.isAllowed))} per CPU second ` +
        `(${checks.isAllowed.map(fmtRate).join(', ')}); ` +
        `${fmtRate(median(checks.wall.isAllowed))} per wall second`,
    );

    console.log(`Disabling ${DISABLES} customers through instance B...`);
    const latency = await measureDisables(client, b, key, customerIds.slice(0, DISABLES));
    console.log(
      `disable -> client says disabled: p50 ${latency.p50.toFixed(1)} ms, ` +
        `p99 ${latency.p99.toFixed(1)} ms, max ${latency.max.toFixed(1)} ms`,
    );
    const stats = client.stats();
    const section = await render({
      started,
      postgres,
      checks,
      latency,
      stats,
      loadBefore,
      loadAfter: os.loadavg(),
    });
    writeSection(RESULTS, HEADING, section);
    console.log(`\n${section}`);
    console.log('Written to bench/RESULTS.md');
  } finally {
    await client?.close();
    for (const child of children) await stop(child);
    await dropDatabase(serverUrl, database);
  }
}

async function seed(
  url: string,
): Promise<{ customerIds: string[]; key: string; postgres: string }> {
  const dataSource = new DataSource({
    ...dataSourceOptions({ entities, url, poolSize: 2 }),
    logging: false,
  });
  await dataSource.initialize();
  try {
    await dataSource.runMigrations({ transaction: 'each' });
    await dataSource.query(`INSERT INTO features (code, name) VALUES ($1, 'API calls')`, [FEATURE]);
    await dataSource.query(
      `INSERT INTO plans (code, name, amount, currency, "interval", user_count)
       VALUES ('pro', 'Pro', 4900, 'EUR', 'month', 10)`,
    );
    await dataSource.query(
      `INSERT INTO plan_features (plan_id, feature_id, "limit")
       SELECT p.id, f.id, 10000 FROM plans p, features f`,
    );
    await dataSource.query(
      `INSERT INTO customers (email, name)
       SELECT 'client-bench-' || i || '@example.com', 'Customer ' || i
         FROM generate_series(1, $1) AS i`,
      [CUSTOMERS],
    );
    await dataSource.query(
      `INSERT INTO subscriptions (customer_id, plan_id, started_at, current_period_start, current_period_end)
       SELECT c.id, p.id, now(), now(), now() + interval '1 month' FROM customers c, plans p`,
    );
    await dataSource.query('ANALYZE');
    const key = generateApiKey();
    await dataSource.query(
      `INSERT INTO api_keys (name, key_hash, prefix) VALUES ('Client benchmark key', $1, $2)`,
      [hashApiKey(key), displayPrefix(key)],
    );
    const rows = await dataSource.query<{ id: string }[]>('SELECT id FROM customers ORDER BY id');
    const [{ version }] = await dataSource.query<{ version: string }[]>('SELECT version()');
    return { customerIds: rows.map((row) => row.id), key, postgres: version.split(' on ')[0] };
  } finally {
    await dataSource.destroy();
  }
}

/** Loads every customer, 32 at a time, and checks each is then answered from memory. */
async function loadAll(client: AccessClient, ids: string[]): Promise<void> {
  for (let i = 0; i < ids.length; i += 32) {
    await Promise.all(ids.slice(i, i + 32).map(async (id) => client.limits(id)));
  }
  const missing = ids.filter((id) => typeof client.isAllowed(id, FEATURE) !== 'boolean');
  if (missing.length > 0) throw new Error(`${missing.length} customers are not cached`);
}

/** Per method, per round: calls per second of the main thread's CPU time, and of wall time. */
interface Checks {
  isAllowed: number[];
  check: number[];
  limits: number[];
  wall: { isAllowed: number[]; check: number[]; limits: number[] };
  /** Where the CPU time came from. */
  cpuClock: string;
}

const SCHEDSTAT = `/proc/self/task/${process.pid}/schedstat`;

/**
 * CPU time of this process's main thread, in ns: the kernel's schedstat (its first field), which
 * counts only the time this thread ran on a core, so other processes on the machine do not
 * lower the figure; process.cpuUsage() (every thread of the process) where there is none.
 */
function threadCpuNs(): number {
  try {
    return Number(readFileSync(SCHEDSTAT, 'utf8').split(' ')[0]);
  } catch {
    const { user, system } = process.cpuUsage();
    return (user + system) * 1000;
  }
}

function cpuClockName(): string {
  try {
    readFileSync(SCHEDSTAT, 'utf8');
    return "the main thread's CPU time (`/proc/self/task/<pid>/schedstat`)";
  } catch {
    return "the process's CPU time (`process.cpuUsage()`)";
  }
}

/**
 * Calls per second of each cached lookup, ROUNDS rounds of ROUND_MS on this one thread. Between
 * rounds the event loop runs until a fresh heartbeat came: a round blocks it, and a client that
 * heard no heartbeat for staleAfterMs stops answering from memory (and every call of a round must
 * be a hit, or the round does not count).
 */
async function measureChecks(client: AccessClient, ids: string[]): Promise<Checks> {
  const n = ids.length;
  // One loop per method, so that each call site sees one function.
  const loops = {
    isAllowed: (calls: number) => {
      let yes = 0;
      for (let i = 0; i < 10_000; i += 1)
        if (client.isAllowed(ids[(calls + i) % n], FEATURE) === true) yes += 1;
      return yes;
    },
    check: (calls: number) => {
      let yes = 0;
      for (let i = 0; i < 10_000; i += 1)
        if (client.check(ids[(calls + i) % n], FEATURE) !== undefined) yes += 1;
      return yes;
    },
    limits: (calls: number) => {
      let yes = 0;
      for (let i = 0; i < 10_000; i += 1)
        if (client.limits(ids[(calls + i) % n]) !== undefined) yes += 1;
      return yes;
    },
  };
  const round = async (name: keyof typeof loops): Promise<{ cpu: number; wall: number }> => {
    while (client.stats().sinceHeartbeatMs > 100) await new Promise((r) => setTimeout(r, 5));
    const hitsBefore = client.stats().hits;
    const loop = loops[name];
    let calls = 0;
    let yes = 0;
    const cpuBefore = threadCpuNs();
    const started = performance.now();
    let now = started;
    while (now - started < ROUND_MS) {
      yes += loop(calls); // 10,000 calls between clock reads: the clock is not what is measured
      calls += 10_000;
      now = performance.now();
    }
    const cpuNs = threadCpuNs() - cpuBefore;
    const hits = client.stats().hits - hitsBefore;
    if (hits !== calls || yes !== calls) {
      throw new Error(`${name}: ${hits} hits and ${yes} answers "yes" of ${calls} calls`);
    }
    return { cpu: (calls / cpuNs) * 1e9, wall: (calls / (now - started)) * 1000 };
  };
  const result: Checks = {
    isAllowed: [],
    check: [],
    limits: [],
    wall: { isAllowed: [], check: [], limits: [] },
    cpuClock: cpuClockName(),
  };
  const record = async (name: keyof typeof loops) => {
    const { cpu, wall } = await round(name);
    result[name].push(cpu);
    result.wall[name].push(wall);
  };
  await round('isAllowed'); // warm-up: optimised before measured
  await round('check');
  await round('limits');
  for (let i = 0; i < ROUNDS; i += 1) {
    await record('isAllowed');
    await record('check');
    await record('limits');
  }
  return result;
}

interface Latency {
  samples: number[];
  p50: number;
  p99: number;
  max: number;
  /** From sending the disable to the client saying disabled (the request's own time included). */
  fromSent: { p50: number; p99: number; max: number };
  /** Already disabled in the client when B's answer arrived. */
  beforeAnswer: number;
}

async function measureDisables(
  client: AccessClient,
  instanceB: string,
  key: string,
  ids: string[],
): Promise<Latency> {
  const samples: number[] = [];
  const fromSent: number[] = [];
  let beforeAnswer = 0;
  for (const id of ids) {
    if ((await client.isAllowed(id, FEATURE)) !== true) throw new Error(`${id} is not enabled`);
    const sent = performance.now();
    const response = await fetch(`${instanceB}/api/v1/customers/${id}/disable`, {
      method: 'POST',
      headers: { 'x-api-key': key, 'content-type': 'application/json' },
      body: JSON.stringify({ reason: 'Client benchmark' }),
    });
    const answered = performance.now();
    if (response.status !== 200) throw new Error(`Disable answered ${response.status}`);
    await response.arrayBuffer();
    let first = true;
    for (;;) {
      const allowed = await client.isAllowed(id, FEATURE);
      if (!allowed) break;
      if (performance.now() - answered > 10_000) throw new Error(`${id} still allowed after 10 s`);
      first = false;
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    if (first) beforeAnswer += 1;
    const saidDisabled = performance.now();
    samples.push(first ? 0 : saidDisabled - answered);
    fromSent.push(saidDisabled - sent);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const quantiles = (values: number[]) => {
    const sorted = [...values].sort((x, y) => x - y);
    const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
    return { p50: at(0.5), p99: at(0.99), max: sorted[sorted.length - 1] };
  };
  return { samples, ...quantiles(samples), fromSent: quantiles(fromSent), beforeAnswer };
}

function median(values: number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

const fmtRate = (perSecond: number) => `${(perSecond / 1e6).toFixed(1)} M`;

async function render(run: {
  started: Date;
  postgres: string;
  checks: Checks;
  latency: Latency;
  stats: ReturnType<AccessClient['stats']>;
  loadBefore: number[];
  loadAfter: number[];
}): Promise<string> {
  const { checks, latency } = run;
  const range = (values: number[]) =>
    `${fmtRate(median(values))} (${fmtRate(Math.min(...values))} to ${fmtRate(Math.max(...values))})`;
  const cpus = os.cpus();
  const load = (values: number[]) => values.map((v) => v.toFixed(2)).join(' / ');
  const checksMet = median(checks.isAllowed) >= TARGET_CHECKS_PER_S;
  const latencyMet = latency.p99 <= TARGET_P99_MS;
  const text = `# ${HEADING}

Measured by \`npm run bench:client\` on ${run.started.toISOString()}.

- Machine: ${cpus[0]?.model ?? 'unknown CPU'}, ${cpus.length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB RAM, ${os.type()} ${os.release()}
- Node ${process.version}; ${run.postgres} on the same machine
- Two instances of the built service on one database, as their own processes; an \`AccessClient\`
  (\`failMode: 'closed'\`, \`staleAfterMs\` 3000) in the benchmark's process, its stream on instance A
- Cached checks: ${CUSTOMERS} customers loaded into the client, then each call asks for the next
  customer in turn, in a tight loop on one thread, ${ROUNDS} rounds of ${ROUND_MS / 1000} s (median, and the range in brackets), each
  started just after a heartbeat (a round blocks the event loop); every call of a round was a cache hit;
  a round's calls are divided by ${checks.cpuClock}, so that the two cores' other work (the
  service instances, PostgreSQL, other jobs) does not count
- Disable to "disabled": ${DISABLES} customers, one after the other, disabled through instance B
  with a platform key; from B's answer (its commit comes before it), the client is asked every
  millisecond until it says false (${latency.beforeAnswer} already said so when the answer came: counted as 0 ms)
- Load average (1/5/15 min) before: ${load(run.loadBefore)}, after: ${load(run.loadAfter)}

| what | figure | target |
| --- | --- | --- |
| \`isAllowed(id, feature)\`, cached, per second of one core's time | ${range(checks.isAllowed)} | at least 5 M: ${checksMet ? 'met' : 'NOT met'} |
| \`check(id, feature)\`, cached, per second of one core's time | ${range(checks.check)} | |
| \`limits(id)\`, cached, per second of one core's time | ${range(checks.limits)} | |
| the same three per second of wall time (lower while other processes take the core) | ${fmtRate(median(checks.wall.isAllowed))}, ${fmtRate(median(checks.wall.check))}, ${fmtRate(median(checks.wall.limits))} | |
| disable through B to the client saying disabled, p50 | ${latency.p50.toFixed(1)} ms | |
| the same, p99 | ${latency.p99.toFixed(1)} ms | at most 100 ms: ${latencyMet ? 'met' : 'NOT met'} |
| the same, max | ${latency.max.toFixed(1)} ms | |
| from sending the disable to B (its own time included), p50 / p99 / max | ${latency.fromSent.p50.toFixed(1)} / ${latency.fromSent.p99.toFixed(1)} / ${latency.fromSent.max.toFixed(1)} ms | |

The client meanwhile: ${run.stats.changed} \`changed\` events, ${run.stats.resets} resets, ${run.stats.heartbeats} heartbeats, ${run.stats.reconnects} reconnects, ${run.stats.requests} limits requests, ${run.stats.staleAsked} checks made while stale.
`;
  return prettier.format(text, { parser: 'markdown', proseWrap: 'preserve' });
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
