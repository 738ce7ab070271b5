/**
 * `npm run bench:audit`: what the audit hash chain costs.
 *
 * On the PostgreSQL server of DATABASE_URL (else the local default) it creates a throw-away
 * database, migrates it, and seeds 1,000,000 chained audit entries (BENCH_AUDIT_ENTRIES): computed
 * here with the service's own encoding (src/audit/audit-chain-encoding.ts) and inserted in batches
 * with the chaining trigger off, the head set at the end, a sample rechecked with the database's
 * audit_entry_hash(); the trigger writes each entry alike, only slower, row by row. The built
 * service then runs as its own process (NODE_ENV=production), and the benchmark measures:
 *   (a) verify: GET /audit-logs/verify over the whole chain, twice; and POST /audit-logs/checkpoints
 *       with no checkpoint before it (which recomputes the whole chain before signing);
 *   (b) export: GET /audit-logs/export of every entry, ndjson and csv, read to the end as a
 *       client would; time, bytes, and the service's resident memory sampled every 20 ms;
 *   (c) write cost, with and without the chain, on the same database and service: single-entry
 *       INSERTs (the trigger alone), status changes one after another over HTTP (a disable or an
 *       enable: a hold entry, the transition, a note, the outbox), and status changes from 16
 *       concurrent clients. "Without" swaps the chaining trigger for one that numbers entries from
 *       a sequence and stamps created_at as the writer did before the chain (no lock, no hash).
 * It prints a markdown section and puts it into bench/RESULTS.md under "Audit chain", then stops
 * the service and drops the database.
 */
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import * as prettier from 'prettier';
import { DataSource } from 'typeorm';
import { displayPrefix, generateApiKey, hashApiKey } from '../src/api-keys/api-key-format';
import {
  entryHash,
  GENESIS_HASH,
  HashedFields,
  microsecondTime,
} from '../src/audit/audit-chain-encoding';
import { dataSourceOptions } from '../src/database/data-source-options';
import { entities } from '../src/entities';
import {
  createDatabase,
  DEFAULT_SERVER_URL,
  dropDatabase,
  uniqueDatabaseName,
  withDatabase,
} from '../src/database/database-admin';
import { ADMIN, cpuMicros, startService, stop } from './bench-support';
import { writeSection } from './results-file';

const ENTRIES = Number(process.env.BENCH_AUDIT_ENTRIES ?? 1_000_000);
const CUSTOMERS = 20_000;
const SEED_BATCH = 10_000;
const INSERTS = Number(process.env.BENCH_AUDIT_INSERTS ?? 2000);
const CHANGES = Number(process.env.BENCH_AUDIT_CHANGES ?? 400);
const CONCURRENT_CHANGES = Number(process.env.BENCH_AUDIT_CONCURRENT_CHANGES ?? 800);
const CONCURRENCY = 16;
const ROOT = join(__dirname, '..', '..'); // dist/bench -> the repository
const HEADING = 'Audit chain';

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
};

/** Resident and peak-resident memory of a process, in MiB (Linux). */
function memoryMiB(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (name: string) => Number(new RegExp(`${name}:\\s+(\\d+) kB`).exec(status)![1]);
  return { rss: kib('VmRSS') / 1024, hwm: kib('VmHWM') / 1024 };
}

interface Observed<T> {
  result: T;
  ms: number;
  rssBefore: number;
  rssPeak: number;
  cpuMs: number;
}

/** Runs `work` while sampling the process's RSS every 20 ms: its time, peak RSS and CPU. */
async function observed<T>(pid: number, work: () => Promise<T>): Promise<Observed<T>> {
  const rssBefore = memoryMiB(pid).rss;
  let rssPeak = rssBefore;
  const timer = setInterval(() => {
    rssPeak = Math.max(rssPeak, memoryMiB(pid).rss);
  }, 20);
  const cpuBefore = cpuMicros(pid);
  const started = performance.now();
  try {
    const result = await work();
    const ms = performance.now() - started;
    rssPeak = Math.max(rssPeak, memoryMiB(pid).rss);
    return { result, ms, rssBefore, rssPeak, cpuMs: (cpuMicros(pid) - cpuBefore) / 1000 };
  } finally {
    clearInterval(timer);
  }
}

const ACTIONS: { action: string; customer: boolean; target?: string }[] = [
  { action: 'hold.placed', customer: true },
  { action: 'customer.disabled', customer: true },
  { action: 'hold.lifted', customer: true },
  { action: 'customer.enabled', customer: true },
  { action: 'auth.login_succeeded', customer: false, target: 'staff_user' },
  { action: 'subscription.created', customer: true, target: 'subscription' },
  { action: 'staff_user.updated', customer: false, target: 'staff_user' },
  { action: 'auth.login_failed', customer: false },
];

/**
 * ENTRIES chained entries, one a minute from 2024-01-01, each hashed here exactly as the trigger
 * would, inserted SEED_BATCH at a time with the trigger off; then the head. Answers the seed time.
 */
async function seed(db: DataSource): Promise<{ ms: number; customerIds: string[] }> {
  const started = performance.now();
  const customerIds = (
    await db.query<{ id: string }[]>(
      `INSERT INTO customers (email, name)
       SELECT 'audit-bench-' || g || '@example.com', 'Customer ' || g FROM generate_series(1, $1) g
       RETURNING id`,
      [CUSTOMERS],
    )
  ).map((row) => row.id);
  const actors = Array.from({ length: 200 }, () => randomUUID());
  await db.query('ALTER TABLE audit_logs DISABLE TRIGGER audit_logs_chain');
  let prev = GENESIS_HASH;
  let at = Date.parse('2024-01-01T00:00:00Z');
  for (let start = 1; start <= ENTRIES; start += SEED_BATCH) {
    const rows: HashedFields[] = [];
    for (let seq = start; seq < Math.min(start + SEED_BATCH, ENTRIES + 1); seq++) {
      const kind = ACTIONS[seq % ACTIONS.length];
      const createdAt = microsecondTime(new Date(at));
      at += 60_000;
      const actor = actors[seq % actors.length];
      const status = kind.action.startsWith('customer.');
      const row: HashedFields = {
        seq: String(seq),
        prev_hash: prev,
        id: randomUUID(),
        created_at: createdAt,
        action: kind.action,
        customer_id: kind.customer ? customerIds[seq % CUSTOMERS] : null,
        target_type: kind.target ?? null,
        target_id: kind.target ? randomUUID() : null,
        hold_id: kind.action.startsWith('hold.') || status ? randomUUID() : null,
        actor_type: kind.action === 'auth.login_failed' ? 'anonymous' : 'user',
        actor_id: kind.action === 'auth.login_failed' ? null : actor,
        actor_name:
          kind.action === 'auth.login_failed' ? `someone-${seq}@example.com` : `Actor ${actor}`,
        reason: seq % 3 === 0 ? `Bench reason ${seq}` : null,
        before: status
          ? { status: kind.action === 'customer.disabled' ? 'enabled' : 'disabled' }
          : kind.action === 'staff_user.updated'
            ? { role: 'user' }
            : {},
        after: status
          ? { status: kind.action === 'customer.disabled' ? 'disabled' : 'enabled' }
          : kind.action === 'staff_user.updated'
            ? { role: 'admin' }
            : {},
        effective_at: status || kind.action.startsWith('hold.') ? createdAt : null,
        request_id: `bench-${seq}`,
        ip: `10.0.${seq % 250}.${seq % 200}`,
        user_agent: 'bench/1.0',
      };
      prev = entryHash(row);
      rows.push({ ...row, hash: prev } as HashedFields & { hash: string });
    }
    const column = (name: keyof HashedFields | 'hash') =>
      rows.map((row) => {
        const value = (row as unknown as Record<string, unknown>)[name];
        return name === 'before' || name === 'after' ? JSON.stringify(value) : value;
      });
    await db.query(
      `INSERT INTO audit_logs (seq, prev_hash, hash, id, created_at, action, customer_id,
         target_type, target_id, hold_id, actor_type, actor_id, actor_name, reason, before, after,
         effective_at, request_id, ip, user_agent)
       SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::uuid[], $5::timestamptz[],
         $6::text[], $7::uuid[], $8::text[], $9::uuid[], $10::uuid[], $11::text[], $12::uuid[],
         $13::text[], $14::text[], $15::jsonb[], $16::jsonb[], $17::timestamptz[], $18::text[],
         $19::text[], $20::text[])`,
      [
        column('seq'),
        column('prev_hash'),
        column('hash'),
        column('id'),
        column('created_at'),
        column('action'),
        column('customer_id'),
        column('target_type'),
        column('target_id'),
        column('hold_id'),
        column('actor_type'),
        column('actor_id'),
        column('actor_name'),
        column('reason'),
        column('before'),
        column('after'),
        column('effective_at'),
        column('request_id'),
        column('ip'),
        column('user_agent'),
      ],
    );
    if (start % 100_000 === 1) console.log(`  seeded ${start - 1 + rows.length} entries`);
  }
  await db.query(
    `UPDATE audit_chain_head SET seq = $1, hash = $2,
       created_at = (SELECT max(created_at) FROM audit_logs)`,
    [ENTRIES, prev],
  );
  await db.query('ALTER TABLE audit_logs ENABLE TRIGGER audit_logs_chain');
  // What the database itself computes for a sample is what was seeded.
  const [{ wrong }] = await db.query<{ wrong: string }[]>(
    `SELECT count(*) AS wrong FROM audit_logs a
      WHERE seq % 997 = 0 AND audit_entry_hash(a) <> a.hash`,
  );
  if (Number(wrong) !== 0) throw new Error(`${wrong} seeded entries hash otherwise in SQL`);
  await db.query('ANALYZE');
  return { ms: performance.now() - started, customerIds };
}

/** Swaps the chaining trigger for the writer's work before the chain: a number and a time. */
async function chainOff(db: DataSource): Promise<void> {
  await db.query(`CREATE SEQUENCE IF NOT EXISTS bench_audit_seq START 10000000`);
  await db.query(`
    CREATE OR REPLACE FUNCTION bench_audit_no_chain() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      NEW.seq := nextval('bench_audit_seq');
      NEW.prev_hash := NEW.id::text;
      NEW.hash := '';
      NEW.created_at := GREATEST(date_trunc('milliseconds', clock_timestamp()),
        (SELECT max(created_at) + interval '1 millisecond' FROM audit_logs
          WHERE customer_id = NEW.customer_id));
      RETURN NEW;
    END $$`);
  await db.query('ALTER TABLE audit_logs DISABLE TRIGGER audit_logs_chain');
  await db.query(`CREATE TRIGGER bench_audit_no_chain BEFORE INSERT ON audit_logs
    FOR EACH ROW EXECUTE FUNCTION bench_audit_no_chain()`);
}

/** Single-entry INSERTs, each its own transaction: the trigger's cost as a client sees it. */
async function inserts(db: DataSource, customerIds: string[]): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < INSERTS; i++) {
    const started = performance.now();
    await db.query(
      `INSERT INTO audit_logs (action, customer_id, actor_type, actor_name, before, after, reason)
       VALUES ('customer.disabled', $1, 'system', 'system', '{"status":"enabled"}',
               '{"status":"disabled"}', 'bench insert')`,
      [customerIds[i % customerIds.length]],
    );
    times.push(performance.now() - started);
  }
  return times;
}

async function statusChange(
  service: string,
  key: string,
  customerId: string,
  action: 'disable' | 'enable',
): Promise<number> {
  const started = performance.now();
  const response = await fetch(`${service}/api/v1/customers/${customerId}/${action}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': key },
    body: JSON.stringify({ reason: `Audit chain benchmark ${action}` }),
  });
  await response.arrayBuffer();
  if (response.status !== 200) throw new Error(`${action} answered ${response.status}`);
  return performance.now() - started;
}

/** CHANGES status changes one after another: disable, then enable, customer after customer. */
async function sequentialChanges(service: string, key: string, customers: string[]) {
  const times: number[] = [];
  for (let i = 0; i < CHANGES; i++) {
    const customer = customers[Math.floor(i / 2) % customers.length];
    times.push(await statusChange(service, key, customer, i % 2 === 0 ? 'disable' : 'enable'));
  }
  return times;
}

/** CONCURRENT_CHANGES status changes from CONCURRENCY clients, each on customers of its own. */
async function concurrentChanges(service: string, key: string, customers: string[]) {
  const perClient = Math.ceil(CONCURRENT_CHANGES / CONCURRENCY);
  const times: number[] = [];
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async (_, client) => {
      for (let i = 0; i < perClient; i++) {
        const customer = customers[client * perClient + Math.floor(i / 2)];
        times.push(await statusChange(service, key, customer, i % 2 === 0 ? 'disable' : 'enable'));
      }
    }),
  );
  return { times, perSecond: (times.length / (performance.now() - started)) * 1000 };
}

/** Reads a streamed answer to its end: bytes and lines, never the whole body at once. */
async function drain(response: Response): Promise<{ bytes: number; lines: number }> {
  if (!response.ok || !response.body) throw new Error(`Export answered ${response.status}`);
  let bytes = 0;
  let lines = 0;
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    bytes += value.length;
    for (const byte of value) if (byte === 10) lines += 1;
  }
  return { bytes, lines };
}

async function main(): Promise<void> {
  const serverUrl = process.env.DATABASE_URL ?? DEFAULT_SERVER_URL;
  const database = uniqueDatabaseName('ca_bench_audit_chain');
  const databaseUrl = withDatabase(serverUrl, database);
  const startedAt = new Date();
  const loadBefore = os.loadavg();
  console.log(`Preparing ${database} on ${new URL(serverUrl).host}...`);
  await createDatabase(serverUrl, database);
  const db = new DataSource({
    ...dataSourceOptions({ entities, url: databaseUrl, poolSize: 2 }),
    logging: false,
  });
  let child: ChildProcess | undefined;
  try {
    await db.initialize();
    await db.runMigrations({ transaction: 'each' });
    const [{ version }] = await db.query<{ version: string }[]>('SELECT version()');
    const key = generateApiKey();
    await db.query(
      `INSERT INTO api_keys (name, key_hash, prefix) VALUES ('Benchmark platform key', $1, $2)`,
      [hashApiKey(key), displayPrefix(key)],
    );
    console.log(`Seeding ${ENTRIES.toLocaleString('en')} chained entries...`);
    const seeded = await seed(db);
    const [{ size }] = await db.query<{ size: string }[]>(
      `SELECT pg_size_pretty(pg_total_relation_size('audit_logs')) AS size`,
    );

    const service = await startService([], databaseUrl, {
      AUDIT_CHECKPOINT_CRON: 'off',
      OUTBOX_DISPATCH: 'false',
    });
    child = service.process;
    const pid = child.pid!;
    const login = await fetch(`${service.url}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(ADMIN),
    });
    const token = ((await login.json()) as { access_token: string }).access_token;
    const auth = { authorization: `Bearer ${token}` };

    // (a) verify, twice, and the first checkpoint (which recomputes everything before signing).
    console.log('Verifying the whole chain...');
    const verifies: Observed<{ ok: boolean; checked: number }>[] = [];
    for (let i = 0; i < 2; i++) {
      verifies.push(
        await observed(pid, async () => {
          const response = await fetch(`${service.url}/api/v1/audit-logs/verify`, {
            headers: auth,
          });
          return (await response.json()) as { ok: boolean; checked: number };
        }),
      );
      if (!verifies[i].result.ok) throw new Error(`verify: ${JSON.stringify(verifies[i].result)}`);
    }
    const signing = await observed(pid, async () => {
      const response = await fetch(`${service.url}/api/v1/audit-logs/checkpoints`, {
        method: 'POST',
        headers: auth,
      });
      if (response.status !== 201) throw new Error(`checkpoint answered ${response.status}`);
      return (await response.json()) as { seq: number };
    });

    // (b) export everything, as ndjson and as csv.
    console.log('Exporting every entry...');
    const exports: Record<string, Observed<{ bytes: number; lines: number }>> = {};
    for (const format of ['ndjson', 'csv']) {
      exports[format] = await observed(pid, async () =>
        drain(
          await fetch(`${service.url}/api/v1/audit-logs/export?format=${format}`, {
            headers: auth,
          }),
        ),
      );
    }

    // (c) writes, with the chain, then without it.
    const customers = seeded.customerIds;
    const sequentialCustomers = customers.slice(0, CHANGES);
    const concurrentWith = customers.slice(CHANGES, CHANGES + CONCURRENT_CHANGES);
    const concurrentWithout = customers.slice(
      CHANGES + CONCURRENT_CHANGES,
      CHANGES + 2 * CONCURRENT_CHANGES,
    );
    console.log('Writes with the chain...');
    const insertsWith = await inserts(db, customers);
    const changesWith = await sequentialChanges(service.url, key, sequentialCustomers);
    const concurrentWithChain = await concurrentChanges(service.url, key, concurrentWith);
    const [{ ok: chainIntact }] = await db.query<{ ok: boolean }[]>(
      `SELECT count(*) = max(seq) - min(seq) + 1 AS ok FROM audit_logs`,
    );
    if (!chainIntact) throw new Error('The chain has a gap after the writes');
    console.log('Writes without the chain...');
    await chainOff(db);
    const insertsWithout = await inserts(db, customers);
    const changesWithout = await sequentialChanges(
      service.url,
      key,
      customers.slice(CHANGES + 2 * CONCURRENT_CHANGES, 2 * CHANGES + 2 * CONCURRENT_CHANGES),
    );
    const concurrentWithoutChain = await concurrentChanges(service.url, key, concurrentWithout);

    const cpus = os.cpus();
    const load = (values: number[]) => values.map((v) => v.toFixed(2)).join(' / ');
    const f = (v: number, digits = 2) => v.toFixed(digits);
    const s = (ms: number) => (ms / 1000).toFixed(1);
    const row = (what: string, withChain: number[], without: number[]) =>
      `| ${what} | ${f(percentile(withChain, 50))} | ${f(percentile(without, 50))} | ${f(percentile(withChain, 50) - percentile(without, 50))} | ${f(percentile(withChain, 95))} | ${f(percentile(without, 95))} |`;
    const section = `# ${HEADING}

Measured by \`npm run bench:audit\` on ${startedAt.toISOString()}.

- Machine: ${cpus[0]?.model ?? 'unknown CPU'}, ${cpus.length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB RAM, ${os.type()} ${os.release()}
- Node ${process.version}; ${version.split(' on ')[0]} on the same machine
- ${ENTRIES.toLocaleString('en')} chained entries seeded (${CUSTOMERS.toLocaleString('en')} customers, eight kinds of action, one entry a minute from 2024-01-01; hashed with the service's encoding, checked against the database's \`audit_entry_hash()\` on a sample) in ${s(seeded.ms)} s; \`audit_logs\` with its indexes: ${size}
- The built service as its own process (NODE_ENV=production, OUTBOX_DISPATCH=false, AUDIT_CHECKPOINT_CRON=off); the benchmark, the service and PostgreSQL share the machine
- Load average (1/5/15 min) before: ${load(loadBefore)}, after: ${load(os.loadavg())}

**Verify and export over ${(ENTRIES + 1).toLocaleString('en')} entries** (the seed and the first admin's creation). Memory is the service's resident set (VmRSS), sampled every 20 ms.

| what | time (s) | entries/s | service CPU (s) | RSS before (MiB) | peak RSS (MiB) | size |
| --- | --- | --- | --- | --- | --- | --- |
| GET /audit-logs/verify, first run | ${s(verifies[0].ms)} | ${f(verifies[0].result.checked / (verifies[0].ms / 1000), 0)} | ${s(verifies[0].cpuMs)} | ${f(verifies[0].rssBefore, 0)} | ${f(verifies[0].rssPeak, 0)} | ${verifies[0].result.checked.toLocaleString('en')} checked |
| GET /audit-logs/verify, second run | ${s(verifies[1].ms)} | ${f(verifies[1].result.checked / (verifies[1].ms / 1000), 0)} | ${s(verifies[1].cpuMs)} | ${f(verifies[1].rssBefore, 0)} | ${f(verifies[1].rssPeak, 0)} | ${verifies[1].result.checked.toLocaleString('en')} checked |
| POST /audit-logs/checkpoints, the first (recomputes the whole chain, then signs) | ${s(signing.ms)} | | ${s(signing.cpuMs)} | ${f(signing.rssBefore, 0)} | ${f(signing.rssPeak, 0)} | seq ${signing.result.seq} |
| GET /audit-logs/export?format=ndjson, read to the end | ${s(exports.ndjson.ms)} | ${f(exports.ndjson.result.lines / (exports.ndjson.ms / 1000), 0)} | ${s(exports.ndjson.cpuMs)} | ${f(exports.ndjson.rssBefore, 0)} | ${f(exports.ndjson.rssPeak, 0)} | ${(exports.ndjson.result.bytes / 2 ** 20).toFixed(0)} MiB, ${exports.ndjson.result.lines.toLocaleString('en')} lines |
| GET /audit-logs/export?format=csv, read to the end | ${s(exports.csv.ms)} | ${f((exports.csv.result.lines - 1) / (exports.csv.ms / 1000), 0)} | ${s(exports.csv.cpuMs)} | ${f(exports.csv.rssBefore, 0)} | ${f(exports.csv.rssPeak, 0)} | ${(exports.csv.result.bytes / 2 ** 20).toFixed(0)} MiB, ${exports.csv.result.lines.toLocaleString('en')} lines |

The service's peak resident set since its start (VmHWM) was ${f(memoryMiB(pid).hwm, 0)} MiB.

**Write cost, with and without the chain** (ms; same database, same service; "without" numbers entries from a sequence and stamps created_at as the writer did before the chain: no head lock, no hash).

| what | p50 with | p50 without | p50 difference | p95 with | p95 without |
| --- | --- | --- | --- | --- | --- |
${row(`one entry: INSERT in its own transaction, ${INSERTS} one after another (the trigger alone)`, insertsWith, insertsWithout)}
${row(`a status change over HTTP (disable or enable: hold entry, transition, note, outbox), ${CHANGES} one after another`, changesWith, changesWithout)}
${row(`the same, ${CONCURRENCY} clients at once, ${CONCURRENT_CHANGES} changes`, concurrentWithChain.times, concurrentWithoutChain.times)}

Status changes per second with ${CONCURRENCY} clients: ${f(concurrentWithChain.perSecond, 0)} with the chain, ${f(concurrentWithoutChain.perSecond, 0)} without: with the chain every transaction that writes an entry holds the head row from its first entry to its commit, so writers queue there.

Compare figures within one run only: this machine is shared, and runs differ.
`;
    const formatted = await prettier.format(section, { parser: 'markdown', proseWrap: 'preserve' });
    writeSection(join(ROOT, 'bench', 'RESULTS.md'), HEADING, formatted);
    console.log(`\n${formatted}`);
    console.log('Written to bench/RESULTS.md');
  } finally {
    if (child) await stop(child);
    if (db.isInitialized) await db.destroy();
    await dropDatabase(serverUrl, database);
  }
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
