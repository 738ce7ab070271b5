/**
 * `npm run bench:webhooks`: how fast webhooks go out.
 *
 * On the PostgreSQL server of DATABASE_URL (else the local default) it creates a throw-away
 * database, migrates it, adds customers, a platform API key and one webhook endpoint subscribed
 * to every type, pointing at a node:http receiver in this process on loopback (answers 204 at
 * once and verifies every signature with the standardwebhooks library). The built service runs
 * as its own process, as in production (NODE_ENV=production, default poll interval and timeout;
 * WEBHOOK_ALLOW_PRIVATE_NETWORKS=true only because the receiver is on loopback). It measures:
 *   (a) latency: 100 disables one after another; for each, from the disable's HTTP answer (the
 *       commit is before it) to the receiver getting that customer's `customer.disabled`;
 *   (b) throughput: 1,000 disables committed by an instance with OUTBOX_DISPATCH=false (2,000
 *       events: hold.placed and customer.disabled each), then one dispatching instance started:
 *       events per second from its first delivery to the last, and from its start, with the
 *       service's CPU time per delivered event.
 * It prints a markdown section and puts it into bench/RESULTS.md under "Webhook delivery", then
 * stops everything and drops the database.
 */
import type { ChildProcess } from 'node:child_process';
import { createServer, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import { join } from 'node:path';
import * as prettier from 'prettier';
import { Webhook } from 'standardwebhooks';
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
import { generateSecret } from '../src/webhooks/webhook-secrets';
import { cpuMicros, startService as startBenchService, stop } from './bench-support';
import { writeSection } from './results-file';

const LATENCY_EVENTS = Number(process.env.BENCH_LATENCY_EVENTS ?? 100);
const BACKLOG_DISABLES = Number(process.env.BENCH_BACKLOG_DISABLES ?? 1000);
const BACKLOG_EVENTS = BACKLOG_DISABLES * 2;
const RECORDING_CONCURRENCY = 16;
const ROOT = join(__dirname, '..', '..'); // dist/bench -> the repository
const HEADING = 'Webhook delivery';

interface Arrival {
  id: string;
  type: string;
  customerId: string | undefined;
  at: number;
}

/** The receiver: records arrivals, verifies each signature, answers 204 at once. */
class Receiver {
  readonly arrivals: Arrival[] = [];
  unverified = 0;
  private waiters: { test: () => boolean; resolve: () => void }[] = [];
  /** Set once the endpoint exists: its secret. */
  webhook: Webhook | undefined;
  private readonly server: Server;

  constructor() {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const at = performance.now();
        const body = Buffer.concat(chunks).toString('utf8');
        res.writeHead(204).end();
        try {
          this.webhook!.verify(body, req.headers as Record<string, string>);
        } catch {
          this.unverified += 1;
        }
        const event = JSON.parse(body) as {
          id: string;
          type: string;
          data: { customer?: { id: string } };
        };
        this.arrivals.push({
          id: event.id,
          type: event.type,
          customerId: event.data.customer?.id,
          at,
        });
        this.waiters = this.waiters.filter((w) => (w.test() ? (w.resolve(), false) : true));
      });
    });
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hooks`;
  }

  /** Resolves once `test` holds, or rejects after `timeoutMs`. */
  until(test: () => boolean, timeoutMs: number, what: string): Promise<void> {
    if (test()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${what}: not after ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.waiters.push({
        test,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      });
    });
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

async function prepare(
  url: string,
  customers: number,
  receiverUrl: string,
): Promise<{ customerIds: string[]; key: string; secret: string; postgres: string }> {
  const dataSource = new DataSource({
    ...dataSourceOptions({ entities, url, poolSize: 2 }),
    logging: false,
  });
  await dataSource.initialize();
  try {
    await dataSource.runMigrations({ transaction: 'each' });
    const rows = await dataSource.query<{ id: string }[]>(
      `INSERT INTO customers (email, name)
       SELECT 'webhooks-bench-' || i || '@example.com', 'Customer ' || i
         FROM generate_series(1, $1) AS i
       RETURNING id`,
      [customers],
    );
    const key = generateApiKey();
    await dataSource.query(
      `INSERT INTO api_keys (name, key_hash, prefix) VALUES ('Benchmark platform key', $1, $2)`,
      [hashApiKey(key), displayPrefix(key)],
    );
    // As the service stores it without WEBHOOK_SECRETS_KEY.
    const secret = generateSecret();
    await dataSource.query(
      `INSERT INTO webhook_endpoints (url, event_types, secret) VALUES ($1, '{*}', $2)`,
      [receiverUrl, secret],
    );
    const [{ version }] = await dataSource.query<{ version: string }[]>('SELECT version()');
    return {
      customerIds: rows.map((r) => r.id),
      key,
      secret,
      postgres: version.split(' on ')[0],
    };
  } finally {
    await dataSource.destroy();
  }
}

/** The built service as in production (bench-support), with a loopback receiver allowed. */
async function startService(
  children: ChildProcess[],
  databaseUrl: string,
  env: Record<string, string>,
): Promise<{ url: string; child: ChildProcess; readyAt: number }> {
  const service = await startBenchService(children, databaseUrl, {
    WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
    ...env,
  });
  return { url: service.url, child: service.process, readyAt: performance.now() };
}

async function disable(service: string, key: string, customerId: string): Promise<void> {
  const response = await fetch(`${service}/api/v1/customers/${customerId}/disable`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': key },
    body: JSON.stringify({ reason: 'Webhook benchmark' }),
  });
  if (response.status !== 200) {
    throw new Error(`Disable answered ${response.status}: ${await response.text()}`);
  }
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];

async function main(): Promise<void> {
  const serverUrl = process.env.DATABASE_URL ?? DEFAULT_SERVER_URL;
  const database = uniqueDatabaseName('ca_bench_webhooks');
  const databaseUrl = withDatabase(serverUrl, database);
  const started = new Date();
  const loadBefore = os.loadavg();
  console.log(`Preparing ${database} on ${new URL(serverUrl).host}...`);
  await createDatabase(serverUrl, database);
  const children: ChildProcess[] = [];
  let receiver: Receiver | undefined;
  try {
    receiver = new Receiver();
    const receiverUrl = await receiver.listen();
    const prepared = await prepare(databaseUrl, LATENCY_EVENTS + BACKLOG_DISABLES, receiverUrl);
    receiver.webhook = new Webhook(prepared.secret);
    const arrivals = receiver.arrivals;

    // (a) Latency, on one dispatching instance, one disable after another.
    const latencyCustomers = prepared.customerIds.slice(0, LATENCY_EVENTS);
    const dispatching = await startService(children, databaseUrl, {});
    console.log(`Latency: ${LATENCY_EVENTS} disables one after another...`);
    const latencies: number[] = [];
    const fromRequest: number[] = [];
    for (const customerId of latencyCustomers) {
      const sent = performance.now();
      await disable(dispatching.url, prepared.key, customerId);
      const answered = performance.now();
      const arrived = () =>
        arrivals.find((a) => a.customerId === customerId && a.type === 'customer.disabled');
      await receiver.until(
        () => arrived() !== undefined,
        30_000,
        `customer.disabled of ${customerId}`,
      );
      latencies.push(arrived()!.at - answered);
      fromRequest.push(arrived()!.at - sent);
    }
    await stop(dispatching.child);

    // (b) Throughput: a backlog committed with dispatch off, then one instance delivers it.
    const recorder = await startService(children, databaseUrl, { OUTBOX_DISPATCH: 'false' });
    console.log(`Throughput: committing ${BACKLOG_DISABLES} disables with dispatch off...`);
    const backlog = prepared.customerIds.slice(LATENCY_EVENTS);
    let next = 0;
    await Promise.all(
      Array.from({ length: RECORDING_CONCURRENCY }, async () => {
        while (next < backlog.length) {
          const customerId = backlog[next];
          next += 1;
          await disable(recorder.url, prepared.key, customerId);
        }
      }),
    );
    await stop(recorder.child);
    const before = arrivals.length;
    console.log(`Delivering ${BACKLOG_EVENTS} events from one instance...`);
    const deliverer = await startService(children, databaseUrl, {});
    const cpuBefore = cpuMicros(deliverer.child.pid!) / 1000;
    await receiver.until(
      () => arrivals.length >= before + BACKLOG_EVENTS,
      300_000,
      `${BACKLOG_EVENTS} deliveries`,
    );
    const cpuAfter = cpuMicros(deliverer.child.pid!) / 1000;
    const batch = arrivals.slice(before);
    const first = batch[0].at;
    const last = batch[batch.length - 1].at;
    const distinct = new Set(batch.map((a) => a.id)).size;
    await stop(deliverer.child);

    latencies.sort((a, b) => a - b);
    fromRequest.sort((a, b) => a - b);
    const cpus = os.cpus();
    const load = (values: number[]) => values.map((v) => v.toFixed(2)).join(' / ');
    const ms = (v: number) => v.toFixed(1);
    const section = `# ${HEADING}

Measured by \`npm run bench:webhooks\` on ${started.toISOString()}.

- Machine: ${cpus[0]?.model ?? 'unknown CPU'}, ${cpus.length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB RAM, ${os.type()} ${os.release()}
- Node ${process.version}; ${prepared.postgres} on the same machine
- The built service as its own process (NODE_ENV=production, default OUTBOX_POLL_INTERVAL_MS and
  WEBHOOK_TIMEOUT_MS; WEBHOOK_ALLOW_PRIVATE_NETWORKS=true for the loopback receiver); one
  endpoint subscribed to \`*\`; a node:http receiver in the benchmark's process answering 204 at
  once and verifying every signature with standardwebhooks (${receiver.unverified} did not verify)
- Load average (1/5/15 min) before: ${load(loadBefore)}, after: ${load(os.loadavg())}

| what | p50 | p99 | min | max |
| --- | --- | --- | --- | --- |
| latency: disable's HTTP answer to the receiver getting \`customer.disabled\`, ${latencies.length} disables one after another (ms) | ${ms(percentile(latencies, 50))} | ${ms(percentile(latencies, 99))} | ${ms(latencies[0])} | ${ms(latencies[latencies.length - 1])} |
| the same from the disable's request (ms) | ${ms(percentile(fromRequest, 50))} | ${ms(percentile(fromRequest, 99))} | ${ms(fromRequest[0])} | ${ms(fromRequest[fromRequest.length - 1])} |

| throughput: ${BACKLOG_EVENTS} events pending (${BACKLOG_DISABLES} disables committed with OUTBOX_DISPATCH=false), one instance started to deliver them | figure |
| --- | --- |
| events/s, first delivery to last | ${((batch.length - 1) / ((last - first) / 1000)).toFixed(0)} |
| events/s, from the instance answering /health to the last delivery | ${(batch.length / ((last - deliverer.readyAt) / 1000)).toFixed(0)} |
| service CPU per delivered event (utime + stime, ms) | ${((cpuAfter - cpuBefore) / batch.length).toFixed(2)} |
| deliveries received / distinct event ids | ${batch.length} / ${distinct} |

A negative latency means the delivery arrived before the client had read the disable's answer:
the event is handed to the dispatcher at the commit, before the answer is written. Compare figures
within one run only: this machine is shared, and runs differ.
`;
    const formatted = await prettier.format(section, { parser: 'markdown', proseWrap: 'preserve' });
    writeSection(join(ROOT, 'bench', 'RESULTS.md'), HEADING, formatted);
    console.log(`\n${formatted}`);
    console.log('Written to bench/RESULTS.md');
  } finally {
    for (const child of children) await stop(child);
    await receiver?.close();
    await dropDatabase(serverUrl, database);
  }
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
