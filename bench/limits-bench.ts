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
 *     a platform key revoked under load (DELETE /api-keys/{id}): one uninterrupted load cut into
 *     pairs of windows of BENCH_DURATION / 2 seconds, BENCH_REVOKE_PAIRS (6) pairs with another
 *     platform key revoked between their two windows alternating with as many without (the
 *     control): the CPU per request of each window, and the revoke's effect as the revoke pairs'
 *     change between their windows less the control pairs', with the control's spread.
 * It prints the figures, writes them into bench/RESULTS.md (its own section) with the command and
 * the date, then stops everything and drops the databases. BENCH_DURATION (seconds) shortens a
 * trial run; BENCH_LARGE changes the 1,000,000; BENCH_ROUNDS (3) sets how many rounds of bare and
 * limits, back to back, the ratios' median is taken over.
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
  writeResultsSection,
} from './bench-support';
import { entities } from '../src/entities';

const SMALL = 10_000;
const LARGE = Number(process.env.BENCH_LARGE ?? 1_000_000);
const CONNECTIONS = 64;
const DURATION_S = Number(process.env.BENCH_DURATION ?? 10);
const WARMUP_S = Math.min(3, DURATION_S);
/** Pairs of windows with a revoke between them; as many without, alternating. */
const REVOKE_PAIRS = Number(process.env.BENCH_REVOKE_PAIRS ?? 6);
const REVOKE_WINDOW_S = Math.max(1, DURATION_S / 2);
/**
 * Rounds of bare node:http and limits measured back to back, at each size: the verdict takes the
 * median of the rounds' ratios, as the machine's speed drifts between rows (bare node:http has
 * taken from 14 to 48 µs per request here on one day).
 */
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 3));
const TARGETS = {
  cpuVersusBare: 1.5,
  rssMb: 512,
  startToMemoryS: 15,
  revokeChange: 0.1,
};

/** Two consecutive windows of one load, and the change of the service's CPU per request. */
interface Pair {
  revoked: boolean;
  before: Measure;
  after: Measure;
  /** before / after - 1 of the CPU per request: the change in the throughput it allows. */
  change: number;
}

/** One round: bare node:http and the limits check, measured one right after the other. */
interface Round {
  bare: Measure;
  /** node:http sending the limits answer with the route's headers: the floor of any server. */
  floor: Measure;
  limits: Measure;
}

interface Revoke {
  pairs: Pair[];
  /** Mean change of the revoke pairs less that of the control pairs. */
  effect: number;
  /** Two standard errors of `effect`, from the spread of both kinds of pairs. */
  uncertainty: number;
  control: { mean: number; min: number; max: number };
  revokes: { mean: number; min: number; max: number };
  /** The status each revoked key got right after its revoke (401 each). */
  refusedAfter: number[];
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
    const revokedKeys = await withDataSource(largeUrl, async (db) => {
      const keys: { key: string; id: string }[] = [];
      for (let i = 0; i < REVOKE_PAIRS; i += 1) {
        const key = generateApiKey();
        keys.push({ key, id: await createKey(db, key, `Benchmark key revoked under load ${i}`) });
      }
      return keys;
    });

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
        'node:http, a limits answer with the limits route’s headers (constant)',
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
    const floorRound = (round: number) =>
      measure(
        `node:http with the route's headers, round ${round}`,
        bareLimits,
        load(bareLimits),
        seconds,
      );
    const smallRounds: Round[] = [{ bare: rows.bare, floor: rows.bareLimits, limits: rows.small }];
    for (let round = 2; round <= ROUNDS; round += 1) {
      smallRounds.push({
        bare: await measure(`bare node:http, round ${round}`, bare, load(bare), seconds),
        floor: await floorRound(round),
        limits: await measure(
          `limits, ${SMALL.toLocaleString('en')} customers, round ${round}`,
          smallService,
          limitsLoad(smallService, small),
          seconds,
        ),
      });
    }
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
    const largeRounds: Round[] = [
      { bare: bareAgain, floor: await floorRound(1), limits: largeRow },
    ];
    for (let round = 2; round <= ROUNDS; round += 1) {
      const limits = await measure(
        `limits, ${LARGE.toLocaleString('en')} customers, round ${round}`,
        largeService,
        limitsLoad(largeService, large),
        seconds,
      );
      largeRounds.push({
        bare: await measure(`bare node:http, round ${round}`, bare, load(bare), seconds),
        floor: await floorRound(round),
        limits,
      });
    }
    const revoke = await revokeUnderLoad(largeService, large, revokedKeys);
    const rssAfter = rssMb(pid);
    const rssPeak = peakRssMb(pid);

    const text = render({
      started,
      small,
      large,
      seedLargeS,
      rows: { ...rows, large: largeRow, bareAgain },
      smallRounds,
      largeRounds,
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
 * A platform key revoked under load. One uninterrupted limits load (so no ramp-up inside it)
 * cut into 2 x REVOKE_PAIRS pairs of windows, the service's CPU time and the answers counted at
 * each window's edge; pairs with a revoke between their two windows (each of another key)
 * alternate with pairs without, so that the machine's drift, which moves both kinds alike, is
 * measured by the control pairs and taken out. The window after a revoke holds the revoke's
 * whole aftermath (its request, the change feed's notice, the cache's work).
 */
async function revokeUnderLoad(
  service: Service,
  seeded: Seeded,
  keys: { key: string; id: string }[],
): Promise<Revoke> {
  const token = await adminToken(service.url);
  const pid = service.process.pid!;
  const windowMs = REVOKE_WINDOW_S * 1000;
  // The first windows after a start were the noisiest (the heap of a million customers settling,
  // the code still being optimised): 10 s of the same load before the first edge.
  const warmupMs = 10_000;
  const windows = 4 * keys.length;
  // The edge before window i, and the answers and CPU time then.
  const edges: { answers: number; cpu: number; at: number }[] = [];
  const revokes: Promise<number>[] = [];
  let answers = 0;
  let failures = 0;
  const revoke = async ({ key, id }: { key: string; id: string }): Promise<number> => {
    const response = await fetch(`${service.url}/api/v1/api-keys/${id}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${token}` },
    });
    if (response.status !== 204) throw new Error(`Revoke answered ${response.status}`);
    const check = await fetch(`${service.url}/api/v1/customers`, { headers: { 'x-api-key': key } });
    return check.status;
  };
  const start = performance.now();
  const timers: NodeJS.Timeout[] = [];
  for (let edge = 0; edge <= windows; edge += 1) {
    timers.push(
      setTimeout(
        () => {
          edges.push({ answers, cpu: cpuMicros(pid), at: performance.now() - start });
          // Pair p is windows 2p and 2p + 1; odd pairs are the revoke pairs.
          if (edge % 2 === 1 && edge < windows && ((edge - 1) / 2) % 2 === 1) {
            revokes.push(revoke(keys[(edge - 3) / 4]));
          }
        },
        warmupMs + edge * windowMs,
      ),
    );
  }
  await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      { ...limitsLoad(service, seeded), duration: (warmupMs + windows * windowMs) / 1000 + 1 },
      (error, finished) => (error ? reject(error) : resolve(finished)),
    );
    instance.on('response', (_client, status: number) => {
      answers += 1;
      if (status < 200 || status >= 300) failures += 1;
    });
  });
  timers.forEach(clearTimeout);
  const refusedAfter = await Promise.all(revokes);
  if (edges.length !== windows + 1) throw new Error(`${edges.length} window edges measured`);
  const window = (i: number, name: string): Measure => {
    const requests = edges[i + 1].answers - edges[i].answers;
    const seconds = (edges[i + 1].at - edges[i].at) / 1000;
    const measured: Measure = {
      name,
      reqPerSec: requests / seconds,
      p50: NaN,
      p99: NaN,
      requests,
      failures: 0,
      non2xx: 0,
      cpuUs: (edges[i + 1].cpu - edges[i].cpu) / requests,
    };
    return measured;
  };
  const pairs: Pair[] = [];
  for (let p = 0; 2 * p + 1 < windows; p += 1) {
    const revoked = p % 2 === 1;
    const label = revoked ? 'a key revoked between' : 'no revoke';
    const before = window(2 * p, `pair ${p + 1} (${label}), first window`);
    const after = window(2 * p + 1, `pair ${p + 1} (${label}), second window`);
    report(before);
    report(after);
    pairs.push({ revoked, before, after, change: before.cpuUs / after.cpuUs - 1 });
  }
  if (failures > 0) console.error(`${failures} answers of the revoke run were not 2xx`);
  const stats = (values: number[]) => {
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    const variance = values.reduce((a, b) => a + (b - mean) ** 2, 0) / (values.length - 1);
    return { mean, min: Math.min(...values), max: Math.max(...values), variance };
  };
  const control = stats(pairs.filter((p) => !p.revoked).map((p) => p.change));
  const revoked = stats(pairs.filter((p) => p.revoked).map((p) => p.change));
  const n = keys.length;
  return {
    pairs,
    effect: revoked.mean - control.mean,
    uncertainty: 2 * Math.sqrt(control.variance / n + revoked.variance / n),
    control,
    revokes: revoked,
    refusedAfter,
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
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
  smallRounds: Round[];
  largeRounds: Round[];
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
  const pctPoints = (value: number) => `${value >= 0 ? '+' : ''}${(value * 100).toFixed(1)}`;
  // Met only when the effect, and its uncertainty, stay inside the target; not met only when
  // the effect is outside it beyond its uncertainty; else the run cannot tell.
  const revokeVerdict =
    Math.abs(revoke.effect) + revoke.uncertainty < TARGETS.revokeChange
      ? 'met'
      : Math.abs(revoke.effect) - revoke.uncertainty >= TARGETS.revokeChange
        ? '**NOT met**'
        : '**cannot tell** (the pairs spread more than the target)';
  const pairRow = (pair: Pair, at: number) =>
    `| ${at + 1} | ${pair.revoked ? 'yes' : 'no'} | ${pair.before.cpuUs.toFixed(1)} | ${pair.after.cpuUs.toFixed(1)} | ${pct(pair.change)} | ${Math.round(pair.before.reqPerSec)} | ${Math.round(pair.after.reqPerSec)} |`;
  const ratios = (rounds: Round[]) => rounds.map((r) => r.limits.cpuUs / r.bare.cpuUs);
  const floorRatio = (rounds: Round[]) =>
    median(rounds.map((r) => r.floor.cpuUs / r.bare.cpuUs)).toFixed(2);
  const smallRatio = median(ratios(run.smallRounds));
  const largeRatio = median(ratios(run.largeRounds));
  const roundRows = (size: number, rounds: Round[]) =>
    rounds
      .map(
        (r, i) =>
          `| ${size.toLocaleString('en')} | ${i + 1} | ${r.bare.cpuUs.toFixed(1)} | ${r.floor.cpuUs.toFixed(1)} (${(r.floor.cpuUs / r.bare.cpuUs).toFixed(2)}x) | ${r.limits.cpuUs.toFixed(1)} | ${(r.limits.cpuUs / r.bare.cpuUs).toFixed(2)} |`,
      )
      .join('\n');
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

(The ${LARGE.toLocaleString('en')} rows compare with the second bare run, measured right after them.)

The ratio to bare, in ${run.smallRounds.length} rounds at each size (bare node:http, the floor and the limits check
measured back to back; the first round at ${SMALL.toLocaleString('en')} is the rows above): the targets below take the median.
The floor is the second row's server, measured in every round: what the headers alone cost, on this machine, that day.

| customers | round | bare node:http µs/request | floor µs/request (× bare) | limits µs/request | × bare |
| --- | --- | --- | --- | --- | --- |
${roundRows(SMALL, run.smallRounds)}
${roundRows(LARGE, run.largeRounds)}

A platform key revoked under load, at ${LARGE.toLocaleString('en')} customers: one uninterrupted limits
load, cut into pairs of ${REVOKE_WINDOW_S} s windows; in every other pair another platform key is revoked
between its two windows (DELETE /api-keys/{id}), the pairs between are the control. Change: the
throughput the service's CPU time per request allows, second window against the first.

| pair | revoke between | CPU µs/request, first window | second window | change | req/s, first | second |
| --- | --- | --- | --- | --- | --- | --- |
${revoke.pairs.map(pairRow).join('\n')}

The second row is the floor: any Node server that sends this answer with the headers every answer
of the limits route carries (its API_HEADERS, a request id) spends that much. The limits rows'
hits are answered by the fast lane ahead of Fastify; it adds to that floor the key's, the access
rule's and the customer's look-ups, building the answer and one histogram observation, and the
service's process adds what it carries besides (the timers of its background work; Node's async
hooks only while a transaction is open, as UnitOfWork disables the CLS storage between them).

| target | measured | verdict |
| --- | --- | --- |
| limits CPU per request at ${SMALL.toLocaleString('en')} customers <= ${TARGETS.cpuVersusBare}x bare | ${smallRatio.toFixed(2)}x, the median of ${ratios(
    run.smallRounds,
  )
    .map((r) => r.toFixed(2))
    .join(
      ', ',
    )} (the floor: ${floorRatio(run.smallRounds)}x) | ${verdict(smallRatio <= TARGETS.cpuVersusBare)} |
| limits CPU per request at ${LARGE.toLocaleString('en')} customers <= ${TARGETS.cpuVersusBare}x bare | ${largeRatio.toFixed(2)}x, the median of ${ratios(
    run.largeRounds,
  )
    .map((r) => r.toFixed(2))
    .join(
      ', ',
    )} (the floor: ${floorRatio(run.largeRounds)}x) | ${verdict(largeRatio <= TARGETS.cpuVersusBare)} |
| RSS at ${LARGE.toLocaleString('en')} customers <= ${TARGETS.rssMb} MB | ${run.rssLoaded.toFixed(0)} MB loaded, ${run.rssAfter.toFixed(0)} MB after the runs (peak ${run.rssPeak.toFixed(0)} MB) | ${verdict(Math.max(run.rssLoaded, run.rssAfter) <= TARGETS.rssMb)} |
| process start to all ${LARGE.toLocaleString('en')} in memory <= ${TARGETS.startToMemoryS} s | ${(run.startToMemoryMs / 1000).toFixed(1)} s (the load itself ${(run.loadMs / 1000).toFixed(1)} s of it) | ${verdict(run.startToMemoryMs / 1000 <= TARGETS.startToMemoryS)} |
| a platform key revoked under load changes limits throughput by < ${TARGETS.revokeChange * 100}% | ${pctPoints(revoke.effect)} ± ${(revoke.uncertainty * 100).toFixed(1)} points: the throughput the service's CPU allows changed ${pct(revoke.revokes.mean)} on average across a revoke (${pct(revoke.revokes.min)} to ${pct(revoke.revokes.max)}), ${pct(revoke.control.mean)} across the control pairs' edge (${pct(revoke.control.min)} to ${pct(revoke.control.max)}); each revoked key then got ${[...new Set(revoke.refusedAfter)].join(', ')} | ${revokeVerdict} |

Latencies are autocannon's, in whole milliseconds. Compare figures within one run only: this
machine is shared, and runs differ.`;
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
