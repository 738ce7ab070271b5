/**
 * `npm run bench`: the limits check, measured by the service's own CPU time per request beside
 * req/s (the load generator shares the machine's cores, so req/s alone mostly measures it).
 *
 * On the PostgreSQL server of DATABASE_URL (else the local default) it creates two throw-away
 * databases, seeds 10,000 and 1,000,000 customers (bulk SQL), starts the built service on each as
 * a separate process (as in production), and measures with autocannon, 64 connections, 10 s each
 * after a warm-up:
 *   - a bare `node:http` server answering constant JSON: the floor of CPU per request here;
 *   - GET /health (constant, through the whole Nest pipeline);
 *   - GET /api/v1/customers/{id}/limits with a platform key, a customer asked uniformly at random
 *     per request, at 10,000 and at 1,000,000 customers; at 10,000 also with LIMITS_CACHE=false
 *     (every answer read from the database);
 *   - at 1,000,000: the time from the process's start to every customer in memory, its RSS, and
 *     two runs of twice the length, the second with another platform key revoked halfway
 *     (DELETE /api-keys/{id}): throughput and CPU per request in each half.
 * It prints the figures, writes them into bench/RESULTS.md (its own section) with the command and
 * the date, then stops everything and drops the databases. BENCH_DURATION (seconds) shortens a
 * trial run; BENCH_LARGE changes the 1,000,000.
 */
import { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { generateApiKey } from '../src/api-keys/api-key-format';
import {
  createDatabase,
  DEFAULT_SERVER_URL,
  dropDatabase,
  uniqueDatabaseName,
  withDatabase,
} from '../src/database/database-admin';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from '../src/database/data-source-options';
import autocannon from 'autocannon';
import {
  adminToken,
  cpuMicros,
  createKey,
  loadAverage,
  machine,
  Measure,
  measure,
  pick,
  report,
  rssMb,
  seed,
  Seeded,
  Server,
  Service,
  startBare,
  startBareLimits,
  startService,
  stop,
  summarise,
  writeResultsSection,
} from './bench-support';
import { entities } from '../src/entities';

const SMALL = 10_000;
const LARGE = Number(process.env.BENCH_LARGE ?? 1_000_000);
const CONNECTIONS = 64;
const DURATION_S = Number(process.env.BENCH_DURATION ?? 10);
const WARMUP_S = Math.min(3, DURATION_S);
const TARGETS = {
  cpuVersusBare: 1.5,
  rssMb: 512,
  startToMemoryS: 15,
  revokeChange: 0.1,
};

interface Revoke {
  control: { before: Measure; after: Measure };
  before: Measure;
  after: Measure;
  /**
   * The revoke run's change between its halves, less the control run's, in the throughput the
   * service's CPU time per request allows.
   */
  change: number;
  controlChange: number;
  revokedChange: number;
  refusedAfter: number;
}

async function main(): Promise<void> {
  const serverUrl = process.env.DATABASE_URL ?? DEFAULT_SERVER_URL;
  const started = new Date();
  const loadBefore = loadAverage();
  const names = [uniqueDatabaseName('ca_bench_small'), uniqueDatabaseName('ca_bench_large')];
  const children: ChildProcess[] = [];
  try {
    for (const name of names) await createDatabase(serverUrl, name);
    const [smallUrl, largeUrl] = names.map((name) => withDatabase(serverUrl, name));
    console.log(`Seeding ${SMALL} customers...`);
    const small = await seed(smallUrl, SMALL);
    let seededAt = performance.now();
    console.log(`Seeding ${LARGE} customers...`);
    const large = await seed(largeUrl, LARGE);
    const seedLargeS = (performance.now() - seededAt) / 1000;
    console.log(`Seeded ${LARGE} customers in ${seedLargeS.toFixed(1)} s`);
    const revokedKey = generateApiKey();
    const revokedKeyId = await withDataSource(largeUrl, (db) =>
      createKey(db, revokedKey, 'Benchmark key revoked under load'),
    );

    const bare = await startBare(children);
    const smallService = await startService(children, smallUrl);
    const uncached = await startService(children, smallUrl, { LIMITS_CACHE: 'false' });
    await smallService.allInMemory;
    const sample = await fetch(
      `${smallService.url}/api/v1/customers/${small.customerIds[1]}/limits`,
      {
        headers: { 'x-api-key': small.key },
      },
    );
    const bareLimits = await startBareLimits(children, await sample.text());

    const seconds = { warmup: WARMUP_S, duration: DURATION_S };
    const rows = {
      bare: await measure('bare node:http, constant JSON', bare, load(bare), seconds),
      bareLimits: await measure(
        'node:http, a limits answer with the service’s headers (constant)',
        bareLimits,
        load(bareLimits),
        seconds,
      ),
      health: await measure('GET /health', smallService, load(smallService, '/health'), seconds),
      small: await measure(
        `limits, ${SMALL.toLocaleString('en')} customers`,
        smallService,
        limitsLoad(smallService, small),
        seconds,
      ),
      uncached: await measure(
        `limits, ${SMALL.toLocaleString('en')} customers, LIMITS_CACHE=false`,
        uncached,
        limitsLoad(uncached, small),
        seconds,
      ),
    };
    // Requests still in flight when a run ends would fail against a closing pool: let them land.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    await stop(uncached.process);
    await stop(smallService.process);

    seededAt = performance.now();
    const largeService = await startService(children, largeUrl);
    const startToMemoryMs = await largeService.allInMemory;
    const pid = largeService.process.pid!;
    const rssLoaded = rssMb(pid);
    console.log(
      `${LARGE} customers in memory ${(startToMemoryMs / 1000).toFixed(1)} s after the start; RSS ${rssLoaded.toFixed(0)} MB`,
    );
    const largeRow = await measure(
      `limits, ${LARGE.toLocaleString('en')} customers`,
      largeService,
      limitsLoad(largeService, large),
      seconds,
    );
    const bareAgain = await measure('bare node:http, again', bare, load(bare), seconds);
    const revoke = await revokeUnderLoad(largeService, large, revokedKey, revokedKeyId);
    const rssAfter = rssMb(pid);
    const rssPeak = peakRssMb(pid);

    const text = render({
      started,
      small,
      large,
      seedLargeS,
      rows: { ...rows, large: largeRow, bareAgain },
      startToMemoryMs,
      loadMs: largeService.loadMs ?? NaN,
      rssLoaded,
      rssAfter,
      rssPeak,
      revoke,
      loadBefore,
      loadAfter: loadAverage(),
    });
    await writeResultsSection('Limits (`npm run bench`)', text);
    console.log(`\n${text}\nWritten to bench/RESULTS.md`);
  } finally {
    for (const child of children) await stop(child);
    for (const name of names) await dropDatabase(serverUrl, name).catch(() => undefined);
  }
}

async function withDataSource<T>(url: string, work: (db: DataSource) => Promise<T>): Promise<T> {
  const db = new DataSource({
    ...dataSourceOptions({ entities, url, poolSize: 1 }),
    logging: false,
  });
  await db.initialize();
  try {
    return await work(db);
  } finally {
    await db.destroy();
  }
}

function load(server: Server, path = '/') {
  return { url: `${server.url}${path}`, connections: CONNECTIONS };
}

/** A customer asked uniformly at random per request, with the platform key. */
function limitsLoad(server: Server, seeded: Seeded) {
  return {
    url: server.url,
    connections: CONNECTIONS,
    headers: { 'x-api-key': seeded.key },
    requests: [
      {
        method: 'GET',
        setupRequest: (request: autocannon.Request) => ({
          ...request,
          path: `/api/v1/customers/${pick(seeded.customerIds)}/limits`,
        }),
      },
    ],
  };
}

/**
 * The limits load for 2 x BENCH_DURATION seconds, and at half time `halfway` (or nothing):
 * req/s and server CPU per request in each half, the first second of each left out.
 */
async function halves(
  service: Service,
  seeded: Seeded,
  name: string,
  halfway?: () => Promise<void>,
): Promise<{ before: Measure; after: Measure }> {
  const pid = service.process.pid!;
  const half = DURATION_S * 1000;
  const start = performance.now();
  const counts = { before: 0, after: 0 };
  const cpu: number[] = [];
  const windows = [
    [1000, half],
    [half + 1000, 2 * half],
  ];
  const timers = [
    setTimeout(() => cpu.push(cpuMicros(pid)), windows[0][0]),
    setTimeout(() => {
      cpu.push(cpuMicros(pid));
      void halfway?.();
    }, half),
    setTimeout(() => cpu.push(cpuMicros(pid)), windows[1][0]),
    setTimeout(() => cpu.push(cpuMicros(pid)), windows[1][1]),
  ];
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      { ...limitsLoad(service, seeded), duration: (2 * half) / 1000 + 1 },
      (error, finished) => (error ? reject(error) : resolve(finished)),
    );
    instance.on('response', () => {
      const at = performance.now() - start;
      if (at >= windows[0][0] && at < windows[0][1]) counts.before += 1;
      else if (at >= windows[1][0] && at < windows[1][1]) counts.after += 1;
    });
  });
  timers.forEach(clearTimeout);
  const whole = summarise(name, result, 0);
  const windowS = (half - 1000) / 1000;
  const part = (label: string, requests: number, cpuUsed: number): Measure => ({
    ...whole,
    name: `${name}, ${label}`,
    reqPerSec: requests / windowS,
    requests,
    cpuUs: cpuUsed / requests,
  });
  const measured = {
    before: part('first half', counts.before, cpu[1] - cpu[0]),
    after: part('second half', counts.after, cpu[3] - cpu[2]),
  };
  report(measured.before);
  report(measured.after);
  return measured;
}

/**
 * The same load twice: once as it is, once with another platform key revoked through the API
 * at half time. The revoke's effect is the change between the halves of the second run beyond
 * the change between the halves of the first (a long run slows down by itself on a busy machine).
 */
async function revokeUnderLoad(
  service: Service,
  seeded: Seeded,
  revokedKey: string,
  revokedKeyId: string,
): Promise<Revoke> {
  const token = await adminToken(service.url);
  const control = await halves(service, seeded, 'no revoke');
  let refusedAfter = NaN;
  const revoked = await halves(service, seeded, 'a platform key revoked halfway', async () => {
    const response = await fetch(`${service.url}/api/v1/api-keys/${revokedKeyId}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${token}` },
    });
    if (response.status !== 204) throw new Error(`Revoke answered ${response.status}`);
    const check = await fetch(`${service.url}/api/v1/customers`, {
      headers: { 'x-api-key': revokedKey },
    });
    refusedAfter = check.status;
  });
  // Req/s on this shared machine mostly measures the load generator and its neighbours; the
  // throughput the service can give is what its CPU time per request allows (1 s / CPU time).
  const change = (run: { before: Measure; after: Measure }) =>
    run.before.cpuUs / run.after.cpuUs - 1;
  return {
    control,
    before: revoked.before,
    after: revoked.after,
    change: change(revoked) - change(control),
    controlChange: change(control),
    revokedChange: change(revoked),
    refusedAfter,
  };
}

function peakRssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? NaN) / 1024;
}

function render(run: {
  started: Date;
  small: Seeded;
  large: Seeded;
  seedLargeS: number;
  rows: Record<
    'bare' | 'bareLimits' | 'health' | 'small' | 'uncached' | 'large' | 'bareAgain',
    Measure
  >;
  startToMemoryMs: number;
  loadMs: number;
  rssLoaded: number;
  rssAfter: number;
  rssPeak: number;
  revoke: Revoke;
  loadBefore: string;
  loadAfter: string;
}): string {
  const { rows, revoke } = run;
  const verdict = (ok: boolean) => (ok ? 'met' : '**NOT met**');
  const line = (m: Measure, versus: Measure) =>
    `| ${m.name} | ${m.cpuUs.toFixed(1)} | ${(m.cpuUs / versus.cpuUs).toFixed(2)} | ${Math.round(m.reqPerSec)} | ${m.p50} | ${m.p99} | ${m.failures} |`;
  const pct = (value: number) => `${value >= 0 ? '+' : ''}${(value * 100).toFixed(1)}%`;
  const smallRatio = rows.small.cpuUs / rows.bare.cpuUs;
  const largeRatio = rows.large.cpuUs / rows.bareAgain.cpuUs;
  const command = `${process.env.BENCH_DURATION ? `BENCH_DURATION=${DURATION_S} ` : ''}${process.env.BENCH_LARGE ? `BENCH_LARGE=${LARGE} ` : ''}npm run bench`;
  return `Measured by \`${command}\` on ${run.started.toISOString()}.

- Machine: ${machine()}; ${run.large.postgres} on the same machine
- Data: ${SMALL.toLocaleString('en')} and ${LARGE.toLocaleString('en')} customers on 3 plans with 6 features (${run.large.subscriptions.toLocaleString('en')} subscriptions and ${run.large.holds.toLocaleString('en')} holds at ${LARGE.toLocaleString('en')}: 1% of the customers disabled by a hold, 0.5% with one scheduled); seeding ${LARGE.toLocaleString('en')} took ${run.seedLargeS.toFixed(0)} s
- Load: autocannon, ${CONNECTIONS} connections, ${DURATION_S} s per row after a ${WARMUP_S} s warm-up, in the benchmark's process; the service and the bare server run as their own processes. Limits ask for a customer chosen uniformly at random per request, with a platform key.
- Server CPU per request: the server process's utime + stime (\`/proc/<pid>/stat\`) over the run, divided by the requests it answered. The load generator shares the ${os.cpus().length} cores, so req/s mostly measures it; CPU per request is the figure to compare.
- Load average (1/5/15 min) before: ${run.loadBefore}, after: ${run.loadAfter}

| what | server CPU µs/request | × bare | req/s | p50 ms | p99 ms | errors + non-2xx |
| --- | --- | --- | --- | --- | --- | --- |
${line(rows.bare, rows.bare)}
${line(rows.bareLimits, rows.bare)}
${line(rows.health, rows.bare)}
${line(rows.small, rows.bare)}
${line(rows.uncached, rows.bare)}
${line(rows.bareAgain, rows.bareAgain)}
${line(rows.large, rows.bareAgain)}
${line(revoke.control.before, rows.bareAgain)}
${line(revoke.control.after, rows.bareAgain)}
${line(revoke.before, rows.bareAgain)}
${line(revoke.after, rows.bareAgain)}

(The ${LARGE.toLocaleString('en')} rows compare with the second bare run, measured right after them.)
The second row is the floor: any Node server that sends this answer with the headers every answer
of the service carries (the security headers, a request id) spends that much. The limits rows'
hits are answered by the fast lane ahead of Fastify; it adds to that floor the key's, the access
rule's and the customer's look-ups, building the answer and one histogram observation, and the
service's process adds what it carries besides (AsyncLocalStorage's async hooks on every socket
write and tick, the timers of its background work).

| target | measured | verdict |
| --- | --- | --- |
| limits CPU per request at ${SMALL.toLocaleString('en')} customers <= ${TARGETS.cpuVersusBare}x bare | ${smallRatio.toFixed(2)}x (${rows.small.cpuUs.toFixed(1)} vs ${rows.bare.cpuUs.toFixed(1)} µs) | ${verdict(smallRatio <= TARGETS.cpuVersusBare)} |
| limits CPU per request at ${LARGE.toLocaleString('en')} customers <= ${TARGETS.cpuVersusBare}x bare | ${largeRatio.toFixed(2)}x (${rows.large.cpuUs.toFixed(1)} vs ${rows.bareAgain.cpuUs.toFixed(1)} µs) | ${verdict(largeRatio <= TARGETS.cpuVersusBare)} |
| RSS at ${LARGE.toLocaleString('en')} customers <= ${TARGETS.rssMb} MB | ${run.rssLoaded.toFixed(0)} MB loaded, ${run.rssAfter.toFixed(0)} MB after the runs (peak ${run.rssPeak.toFixed(0)} MB) | ${verdict(Math.max(run.rssLoaded, run.rssAfter) <= TARGETS.rssMb)} |
| process start to all ${LARGE.toLocaleString('en')} in memory <= ${TARGETS.startToMemoryS} s | ${(run.startToMemoryMs / 1000).toFixed(1)} s (the load itself ${(run.loadMs / 1000).toFixed(1)} s of it) | ${verdict(run.startToMemoryMs / 1000 <= TARGETS.startToMemoryS)} |
| a platform key revoked under load changes limits throughput by < ${TARGETS.revokeChange * 100}% | ${(revoke.change * 100).toFixed(1)} points: the throughput the service's CPU allows changed ${pct(revoke.revokedChange)} between the halves of the run with the revoke (CPU ${revoke.before.cpuUs.toFixed(1)} -> ${revoke.after.cpuUs.toFixed(1)} µs/request; measured ${Math.round(revoke.before.reqPerSec)} -> ${Math.round(revoke.after.reqPerSec)} req/s), ${pct(revoke.controlChange)} in the run without it; the revoked key then got ${revoke.refusedAfter} | ${verdict(Math.abs(revoke.change) < TARGETS.revokeChange)} |

Latencies are autocannon's, in whole milliseconds. Compare figures within one run only: this
machine is shared, and runs differ.`;
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
