/**
 * `npm run bench:mixed`: the service under a mixed load, as a business runs it. 500 customers,
 * 32 connections, 3 minutes (BENCH_DURATION seconds for a shorter run), each request drawn at
 * random:
 *   - 80% limits checks (GET /customers/{id}/limits, a platform key: the customers' backends);
 *   - 6% disables and enables (POST /customers/{id}/disable or /enable, a customer_support
 *     member);
 *   - 8% customer reads by staff (GET /customers/{id}, a `user`);
 *   - 6% audit pages (GET /customers/{id}/audit-logs, a `user`).
 * It prints req/s, latencies, non-2xx and 5xx answers, the service's CPU time per request and its
 * RSS every 10 s, and writes them into bench/RESULTS.md (its own section). Then each kind of
 * request alone for BENCH_KIND_DURATION seconds (default 8; 0 skips): its own CPU per request,
 * which says where the mix's CPU goes. BENCH_CPU_PROF=<dir> runs the service under
 * `node --cpu-prof` and leaves the profile there; BENCH_NODE_ARGS (space-separated) passes other
 * flags to its node, e.g. `--perf-basic-prof` for `perf record`. BENCH_ONLY=<kind> (limits, statusChanges,
 * customerReads or auditPages) skips the mix and measures that kind alone, for a profile of it;
 * it writes nothing to bench/RESULTS.md.
 */
import { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpus } from 'node:os';
import autocannon from 'autocannon';
import { Client } from 'pg';
import {
  createDatabase,
  DEFAULT_SERVER_URL,
  dropDatabase,
  uniqueDatabaseName,
  withDatabase,
} from '../src/database/database-admin';
import {
  adminToken,
  cpuMicros,
  loadAverage,
  machine,
  postgresCpu,
  postgresCpuSince,
  measure,
  pick,
  rssMb,
  run,
  seed,
  standInForAutovacuum,
  startService,
  stop,
  writeResultsSection,
} from './bench-support';

const CUSTOMERS = 500;
const CONNECTIONS = 32;
const DURATION_S = Number(process.env.BENCH_DURATION ?? 180);
const WARMUP_S = Math.min(10, Math.max(2, Math.round(DURATION_S / 10)));
const TARGETS = { reqPerSec: 5000, p99Ms: 25 };
const MIX = { limits: 0.8, statusChanges: 0.06, customerReads: 0.08, auditPages: 0.06 };
const KIND_DURATION_S = Number(process.env.BENCH_KIND_DURATION ?? 8);
const KIND_CONNECTIONS = 16;
const ONLY = process.env.BENCH_ONLY as Kind | undefined;
/** With BENCH_ONLY=auditPages: entries per customer, so that the first page is a full one. */
const AUDIT_ENTRIES_PER_CUSTOMER = 60;

type Kind = 'limits' | 'statusChanges' | 'customerReads' | 'auditPages';
const KIND_NAMES: Record<Kind, string> = {
  limits: 'limits check',
  statusChanges: 'disable or enable',
  customerReads: 'customer read',
  auditPages: 'audit page',
};
const KINDS = Object.keys(KIND_NAMES) as Kind[];
/** What the benchmark reads of an autocannon connection (`response` events): its request's context. */
interface AutocannonClient {
  requestIterator: { context: Record<string, unknown> };
}
if (ONLY !== undefined && !(ONLY in KIND_NAMES)) {
  throw new Error(`BENCH_ONLY must be one of ${Object.keys(KIND_NAMES).join(', ')}`);
}

async function main(): Promise<void> {
  const serverUrl = process.env.DATABASE_URL ?? DEFAULT_SERVER_URL;
  const name = uniqueDatabaseName('ca_bench_mixed');
  const started = new Date();
  const loadBefore = loadAverage();
  const children: ChildProcess[] = [];
  let autovacuum: Awaited<ReturnType<typeof standInForAutovacuum>> | undefined;
  await createDatabase(serverUrl, name);
  try {
    const url = withDatabase(serverUrl, name);
    const seeded = await seed(url, CUSTOMERS);
    // Alone, the audit pages would be empty: the mix fills them through its disables and enables.
    if (ONLY === 'auditPages') await seedAuditEntries(url, AUDIT_ENTRIES_PER_CUSTOMER);
    autovacuum = await standInForAutovacuum(url);
    const profileDir = process.env.BENCH_CPU_PROF;
    const service = await startService(
      children,
      url,
      {},
      profileDir
        ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`]
        : (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean),
    );
    await service.allInMemory;
    const admin = await adminToken(service.url);
    const support = await staff(service.url, admin, 'customer_support');
    const reader = await staff(service.url, admin, 'user');

    const requestOf = (kind: Kind, request: autocannon.Request): autocannon.Request => {
      const id = pick(seeded.customerIds);
      switch (kind) {
        case 'limits':
          return {
            ...request,
            method: 'GET',
            body: undefined,
            path: `/api/v1/customers/${id}/limits`,
            headers: { 'x-api-key': seeded.key },
          };
        case 'statusChanges':
          return {
            ...request,
            method: 'POST',
            path: `/api/v1/customers/${id}/${Math.random() < 0.5 ? 'disable' : 'enable'}`,
            headers: { authorization: `Bearer ${support}`, 'content-type': 'application/json' },
            body: '{}',
          };
        case 'customerReads':
        case 'auditPages':
          return {
            ...request,
            method: 'GET',
            body: undefined,
            path: `/api/v1/customers/${id}${kind === 'auditPages' ? '/audit-logs' : ''}`,
            headers: { authorization: `Bearer ${reader}` },
          };
      }
    };
    if (ONLY !== undefined) {
      await measure(
        KIND_NAMES[ONLY],
        service,
        {
          url: service.url,
          connections: KIND_CONNECTIONS,
          requests: [{ setupRequest: (request) => requestOf(ONLY, request) }],
        },
        { warmup: 2, duration: KIND_DURATION_S },
      );
      return;
    }

    const requests: autocannon.Request[] = [
      {
        setupRequest: (request, context): autocannon.Request => {
          const draw = Math.random();
          const kind: Kind =
            draw < MIX.limits
              ? 'limits'
              : draw < MIX.limits + MIX.statusChanges
                ? 'statusChanges'
                : draw < MIX.limits + MIX.statusChanges + MIX.customerReads
                  ? 'customerReads'
                  : 'auditPages';
          // Read back when its answer arrives (one request at a time per connection).
          context.kind = kind;
          return requestOf(kind, request);
        },
      },
    ];
    const load = { url: service.url, connections: CONNECTIONS, requests };
    console.log(`Warming up for ${WARMUP_S} s...`);
    await run({ ...load, duration: WARMUP_S });

    const pid = service.process.pid!;
    const rss: number[] = [rssMb(pid)];
    const sampler = setInterval(() => rss.push(rssMb(pid)), 10_000);
    const cpuBefore = cpuMicros(pid);
    const postgresBefore = postgresCpu();
    const generatorBefore = process.cpuUsage();
    console.log(`Measuring for ${DURATION_S} s...`);
    // Answers per second, from autocannon's own tick: whether throughput holds over the run.
    const perSecond: number[] = [];
    // Each answer's latency, by the kind of its request: which kind the mix's tail is made of.
    const latencies = new Map<Kind, number[]>(KINDS.map((kind) => [kind, []]));
    const result = await new Promise<autocannon.Result>((resolve, reject) => {
      const instance = autocannon({ ...load, duration: DURATION_S }, (error, finished) =>
        error ? reject(error) : resolve(finished),
      );
      instance.on('tick', ({ counter }: { counter: number }) => perSecond.push(counter));
      instance.on('response', (client, _status, _bytes, ms) => {
        const kind = (client as AutocannonClient).requestIterator.context.kind as Kind;
        latencies.get(kind)?.push(ms);
      });
    });
    const per10s: number[] = [];
    for (let i = 0; i + 10 <= perSecond.length; i += 10) {
      per10s.push(perSecond.slice(i, i + 10).reduce((sum, n) => sum + n, 0) / 10);
    }
    const cpuUs = (cpuMicros(pid) - cpuBefore) / result.requests.total;
    const postgresCpuUs = postgresCpuSince(postgresBefore) / result.requests.total;
    const generatorUsed = process.cpuUsage(generatorBefore);
    const generatorCpuUs = (generatorUsed.user + generatorUsed.system) / result.requests.total;
    // What the target rate would take of the machine, at this run's CPU per request.
    const coresAtTarget = ((cpuUs + postgresCpuUs + generatorCpuUs) * TARGETS.reqPerSec) / 1e6;
    clearInterval(sampler);
    rss.push(rssMb(pid));
    const loadAfter = loadAverage();

    const kinds: string[] = [];
    if (KIND_DURATION_S > 0) {
      for (const kind of KINDS) {
        const alone = await measure(
          KIND_NAMES[kind],
          service,
          {
            url: service.url,
            connections: KIND_CONNECTIONS,
            requests: [{ setupRequest: (request) => requestOf(kind, request) }],
          },
          { warmup: 2, duration: KIND_DURATION_S },
        );
        kinds.push(
          `| ${KIND_NAMES[kind]} | ${alone.cpuUs.toFixed(0)} µs | ${(alone.postgresCpuUs ?? NaN).toFixed(0)} µs | ${Math.round(alone.reqPerSec)} | ${alone.p50} / ${alone.p99} ms |`,
        );
      }
    }

    const tail = tailByKind(latencies);
    const byStatus = Object.entries(result.statusCodeStats ?? {}).map(
      ([code, { count }]) => `${code}: ${count}`,
    );
    const serverErrors = Object.entries(result.statusCodeStats ?? {})
      .filter(([code]) => Number(code) >= 500)
      .reduce((sum, [, { count }]) => sum + count, 0);
    const command = `${process.env.BENCH_DURATION ? `BENCH_DURATION=${DURATION_S} ` : ''}npm run bench:mixed`;
    const verdict = (ok: boolean) => (ok ? 'met' : '**NOT met**');
    const text = `Measured by \`${command}\` on ${started.toISOString()}.

- Machine: ${machine()}; ${seeded.postgres} on the same machine
- Data: ${CUSTOMERS} customers (${seeded.subscriptions} subscriptions, ${seeded.holds} holds at the start)
- Load: autocannon, ${CONNECTIONS} connections, ${DURATION_S} s after a ${WARMUP_S} s warm-up, each request drawn at random: ${MIX.limits * 100}% limits checks (a platform key), ${MIX.statusChanges * 100}% disables and enables (half each, a customer_support member), ${MIX.customerReads * 100}% customer reads (a \`user\`), ${MIX.auditPages * 100}% the customer's audit page (a \`user\`); a customer chosen uniformly at random per request
- Load average (1/5/15 min) before: ${loadBefore}, after: ${loadAfter} (the machine is shared: req/s and latencies move with the load; the CPU per request much less)
- Database upkeep: ${autovacuum?.on ? `this server runs with autovacuum off, so the bench does its work: every 10 s it vacuums and analyses the tables autovacuum would, by the server's autovacuum thresholds (${autovacuum.vacuums} vacuums and ${autovacuum.analyses} analyses of a table in the run; without them the plans keep the seed's statistics and scan the grown tables whole)` : "the server's own autovacuum"}
- PostgreSQL CPU per request: every \`postgres\` process of the machine alive at the end, read the same way (its VACUUM stand-in included), divided by the requests served

| figure | measured | target |
| --- | --- | --- |
| requests per second | ${Math.round(result.requests.average)} | >= ${TARGETS.reqPerSec}: ${verdict(result.requests.average >= TARGETS.reqPerSec)} |
| latency p50 / p99 | ${result.latency.p50} / ${result.latency.p99} ms | p99 <= ${TARGETS.p99Ms} ms: ${verdict(result.latency.p99 <= TARGETS.p99Ms)} |
| 5xx answers | ${serverErrors} | none: ${verdict(serverErrors === 0)} |
| errors and timeouts | ${result.errors + result.timeouts} | |
| answers by status | ${byStatus.join(', ')} | |
| server CPU per request | ${cpuUs.toFixed(1)} µs | |
| PostgreSQL CPU per request | ${postgresCpuUs.toFixed(1)} µs | |
| load generator CPU per request | ${generatorCpuUs.toFixed(1)} µs (autocannon, in the benchmark's process) | |
| cores ${TARGETS.reqPerSec} req/s would take at these costs | ${coresAtTarget.toFixed(1)} (service, PostgreSQL and load generator; the machine has ${cpus().length}) | |
| req/s, every 10 s | ${per10s.map((n) => n.toFixed(0)).join(', ')} | holds over the run |
| server RSS, every 10 s | ${rss.map((mb) => mb.toFixed(0)).join(', ')} MB | stable |

Latencies are autocannon's, in whole milliseconds, over all kinds of requests. By kind, in the
same run (autocannon's latency of each answer, from the request's write to the answer's end):

| request | answers | p50 | p99 | max | of the answers slower than the mix's p99 (${tail.p99.toFixed(1)} ms) |
| --- | --- | --- | --- | --- | --- |
${tail.rows.join('\n')}${
      kinds.length === 0
        ? ''
        : `

Each kind alone afterwards (${KIND_CONNECTIONS} connections, ${KIND_DURATION_S} s each, on the data the mix left):

| request | server CPU per request | PostgreSQL CPU per request | req/s | p50 / p99 |
| --- | --- | --- | --- | --- |
${kinds.join('\n')}`
    }`;
    await writeResultsSection('Mixed load (`npm run bench:mixed`)', text);
    console.log(`\n${text}\nWritten to bench/RESULTS.md`);
  } finally {
    await autovacuum?.stop();
    for (const child of children) await stop(child);
    await dropDatabase(serverUrl, name).catch(() => undefined);
  }
}

/**
 * Each kind's answers and latencies in the mix, and its share of the answers slower than the
 * mix's p99 (taken over every answer, exactly, not autocannon's rounded figure).
 */
function tailByKind(latencies: Map<Kind, number[]>): { p99: number; rows: string[] } {
  const all = Float64Array.from([...latencies.values()].flat()).sort();
  const p99 = quantile(all, 0.99);
  const slower = all.filter((ms) => ms > p99).length;
  const rows = KINDS.map((kind) => {
    const own = Float64Array.from(latencies.get(kind) ?? []).sort();
    const share = slower > 0 ? (100 * own.filter((ms) => ms > p99).length) / slower : 0;
    return `| ${KIND_NAMES[kind]} | ${own.length} | ${quantile(own, 0.5).toFixed(1)} ms | ${quantile(own, 0.99).toFixed(1)} ms | ${(own.at(-1) ?? NaN).toFixed(1)} ms | ${share.toFixed(0)}% |`;
  });
  return { p99, rows };
}

/** The q-quantile of sorted values (nearest rank); NaN when there are none. */
function quantile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
}

/**
 * `perCustomer` disables and enables per customer in the audit log, as a status change writes
 * them (a staff member, a hold, a request id and address); the chain's trigger links them.
 */
async function seedAuditEntries(url: string, perCustomer: number): Promise<void> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(
      `INSERT INTO audit_logs (action, customer_id, actor_type, actor_id, actor_name, reason, before,
                             after, request_id, ip, hold_id, effective_at, created_at)
     SELECT CASE WHEN i % 2 = 0 THEN 'customer.disabled' ELSE 'customer.enabled' END, c.id,
            'user', gen_random_uuid(), 'Bench support', CASE WHEN i % 2 = 0 THEN 'Benchmark' END,
            jsonb_build_object('status', CASE WHEN i % 2 = 0 THEN 'enabled' ELSE 'disabled' END),
            jsonb_build_object('status', CASE WHEN i % 2 = 0 THEN 'disabled' ELSE 'enabled' END),
            gen_random_uuid()::text, '127.0.0.1', gen_random_uuid(),
            now() - (i || ' minutes')::interval, now() - (i || ' minutes')::interval
       FROM customers c, generate_series($1::int, 1, -1) AS i
      ORDER BY i DESC, c.id`,
      [perCustomer],
    );
  } finally {
    await client.end();
  }
}

/** A staff member of `role`, created by the admin, signed in: their bearer token. */
async function staff(base: string, adminToken: string, role: string): Promise<string> {
  const email = `bench-${role}-${randomBytes(4).toString('hex')}@example.com`;
  const password = randomBytes(24).toString('base64url');
  const created = await fetch(`${base}/api/v1/users`, {
    method: 'POST',
    headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ email, name: `Bench ${role}`, password, role }),
  });
  if (!created.ok) throw new Error(`Creating a ${role}: ${created.status} ${await created.text()}`);
  const login = await fetch(`${base}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password }),
  });
  if (!login.ok) throw new Error(`Signing in a ${role}: ${login.status}`);
  return ((await login.json()) as { access_token: string }).access_token;
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
