/**
 * `npm run bench:dunning`: how long one dunning run takes over 100,000 customers.
 *
 * On the PostgreSQL server of DATABASE_URL (else the local default) it creates a throw-away
 * database, migrates it and seeds, with a few INSERT ... SELECT generate_series statements,
 * BENCH_CUSTOMERS (100,000) customers with one open invoice each: 10% of them 31 to 60 days past
 * due, the others not due yet. It then starts the service in this process (the real module graph,
 * the system clock) and times one dunning run, which warns and holds every late customer, and a
 * second one right after, which has nothing left to do. It prints the figures, writes them to
 * bench/RESULTS.md under "Dunning run" with the machine and the date, and drops the database.
 */
import os from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import * as prettier from 'prettier';
import { DataSource } from 'typeorm';
import { loadConfig } from '../src/config/app-config';
import { dataSourceOptions } from '../src/database/data-source-options';
import { entities } from '../src/entities';
import {
  createDatabase,
  DEFAULT_SERVER_URL,
  dropDatabase,
  uniqueDatabaseName,
  withDatabase,
} from '../src/database/database-admin';
import { DunningRunDto } from '../src/dunning/dto/dunning.dto';
import { DunningService } from '../src/dunning/dunning.service';
import { createApp } from '../src/setup-app';
import { writeSection } from './results-file';

const CUSTOMERS = Number(process.env.BENCH_CUSTOMERS ?? 100_000);
/** Every tenth customer is late. */
const LATE_EVERY = 10;
const ROOT = join(__dirname, '..', '..'); // dist/bench -> the repository

interface Timed {
  result: DunningRunDto;
  ms: number;
}

async function main(): Promise<void> {
  const serverUrl = process.env.DATABASE_URL ?? DEFAULT_SERVER_URL;
  const database = uniqueDatabaseName('ca_bench_dunning');
  const databaseUrl = withDatabase(serverUrl, database);
  const started = new Date();
  const loadBefore = os.loadavg();
  console.log(`Seeding ${CUSTOMERS} customers into ${database} on ${new URL(serverUrl).host}...`);
  await createDatabase(serverUrl, database);
  try {
    const { seedMs, postgres, late } = await seed(databaseUrl);
    console.log(`Seeded in ${(seedMs / 1000).toFixed(1)} s: ${late} customers 31-60 days late.`);
    const config = loadConfig({
      DATABASE_URL: databaseUrl,
      RUN_MIGRATIONS: 'false',
      LOG_LEVEL: 'warn',
      DUNNING_CRON: 'off',
      HOLD_SCHEDULER_INTERVAL_MS: '1000',
      OUTBOX_DISPATCH: 'false',
    });
    const app = await createApp({ ...config, databaseUrl }, { logger: false });
    let first: Timed;
    let second: Timed;
    let counts: Record<string, number>;
    try {
      const dunning = app.get(DunningService);
      first = await timed(() => dunning.run());
      console.log(
        `First run: ${JSON.stringify(first.result)} in ${(first.ms / 1000).toFixed(1)} s`,
      );
      second = await timed(() => dunning.run());
      console.log(`Second run: ${JSON.stringify(second.result)} in ${second.ms.toFixed(0)} ms`);
      counts = await countsOf(app.get(DataSource));
    } finally {
      await app.close();
    }
    const report = await render({
      started,
      postgres,
      seedMs,
      late,
      first,
      second,
      counts,
      loadBefore,
      loadAfter: os.loadavg(),
    });
    writeSection(join(ROOT, 'bench', 'RESULTS.md'), 'Dunning run', report);
    console.log(`\n${report}`);
    console.log('Written to bench/RESULTS.md');
  } finally {
    await dropDatabase(serverUrl, database);
  }
}

async function timed(run: () => Promise<DunningRunDto>): Promise<Timed> {
  const start = performance.now();
  const result = await run();
  return { result, ms: performance.now() - start };
}

/** Customers, one subscription and one open invoice each; every tenth 31 to 60 days past due. */
async function seed(url: string): Promise<{ seedMs: number; postgres: string; late: number }> {
  const dataSource = new DataSource({
    ...dataSourceOptions({ entities, url, poolSize: 2 }),
    logging: false,
  });
  await dataSource.initialize();
  try {
    await dataSource.runMigrations({ transaction: 'each' });
    const start = performance.now();
    await dataSource.query(
      `INSERT INTO plans (code, name, amount, currency, "interval", user_count)
       VALUES ('pro', 'Pro', 4900, 'EUR', 'month', 10)`,
    );
    await dataSource.query(
      `INSERT INTO billing_runs ("trigger", started_at, finished_at, invoiced, skipped)
       VALUES ('manual', now() - interval '90 days', now() - interval '90 days', $1, 0)`,
      [CUSTOMERS],
    );
    await dataSource.query(
      `INSERT INTO customers (email, name)
       SELECT 'bench-' || i || '@example.com', 'Customer ' || i FROM generate_series(1, $1) AS i`,
      [CUSTOMERS],
    );
    await dataSource.query(
      `INSERT INTO subscriptions (customer_id, plan_id, started_at, current_period_start, current_period_end)
       SELECT c.id, p.id, now() - interval '20 days', now() - interval '20 days', now() + interval '10 days'
         FROM customers c, plans p`,
    );
    // Late ones were issued 45 to 74 days ago (due 31 to 60 days ago); the others 1 to 13 days
    // ago, not due yet.
    await dataSource.query(
      `INSERT INTO invoices (subscription_id, customer_id, plan_id, billing_run_id, amount, currency,
                             period_start, period_end, amount_due, due_at, created_at)
       SELECT s.id, s.customer_id, s.plan_id, r.id, 4900, 'EUR',
              s.started_at - interval '1 month', s.started_at, 4900,
              x.issued + interval '14 days', x.issued
         FROM (SELECT s.*, row_number() OVER (ORDER BY s.customer_id) AS n FROM subscriptions s) s
         CROSS JOIN billing_runs r
         CROSS JOIN LATERAL (
           SELECT CASE WHEN s.n % $1 = 0
                       THEN now() - interval '45 days' - (s.n % 30) * interval '1 day'
                       ELSE now() - interval '1 day' - (s.n % 13) * interval '1 day'
                  END AS issued) x`,
      [LATE_EVERY],
    );
    await dataSource.query('ANALYZE');
    const seedMs = performance.now() - start;
    const [{ late }] = await dataSource.query<{ late: number }[]>(
      `SELECT count(*)::int AS late FROM invoices WHERE due_at <= now() - interval '30 days'`,
    );
    const [{ version }] = await dataSource.query<{ version: string }[]>('SELECT version()');
    return { seedMs, postgres: version.split(' on ')[0], late };
  } finally {
    await dataSource.destroy();
  }
}

async function countsOf(db: DataSource): Promise<Record<string, number>> {
  const [row] = await db.query<Record<string, number>[]>(
    `SELECT (SELECT count(*) FROM holds WHERE source = 'overdue' AND lifted_at IS NULL)::int AS holds,
            (SELECT count(*) FROM customers WHERE status = 'disabled')::int AS disabled,
            (SELECT count(*) FROM events)::int AS events,
            (SELECT count(*) FROM audit_logs)::int AS audit,
            (SELECT count(*) FROM dunning_warnings)::int AS warnings`,
  );
  return row;
}

async function render(run: {
  started: Date;
  postgres: string;
  seedMs: number;
  late: number;
  first: Timed;
  second: Timed;
  counts: Record<string, number>;
  loadBefore: number[];
  loadAfter: number[];
}): Promise<string> {
  const cpus = os.cpus();
  const load = (values: number[]) => values.map((v) => v.toFixed(2)).join(' / ');
  const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  const row = (name: string, { result, ms }: Timed) =>
    `| ${name} | ${result.evaluated} | ${result.holds_placed} | ${result.holds_lifted} | ${result.warnings_sent} | ${ms >= 10_000 ? seconds(ms) : `${ms.toFixed(0)} ms`} |`;
  const acted = run.first.result.holds_placed || 1;
  const text = `# Dunning run

Measured by \`npm run bench:dunning\` on ${run.started.toISOString()}.

- Machine: ${cpus[0]?.model ?? 'unknown CPU'}, ${cpus.length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB RAM, ${os.type()} ${os.release()}
- Node ${process.version}; ${run.postgres} on the same machine; the service in the benchmark's process, on its default pool of 10 connections
- Data: ${CUSTOMERS} customers with one open invoice each; ${run.late} (every ${LATE_EVERY}th) 31 to 60 days past due, the others not due yet; seeded with bulk SQL in ${seconds(run.seedMs)}
- Load average (1/5/15 min) before: ${load(run.loadBefore)}, after: ${load(run.loadAfter)}

| run | evaluated | holds placed | holds lifted | warnings sent | time |
| --- | --- | --- | --- | --- | --- |
${row('first: every late customer warned and held', run.first)}
${row('second, right after: nothing to do', run.second)}

The first run evaluates each late customer in its own transaction (its row lock, the hold, the
audit entries, the events, one warning for the latest step reached and the earlier one recorded as
passed): ${(run.first.ms / acted).toFixed(1)} ms per customer held. The second reads the same customers in batches of
500 and finds nothing due, without a transaction. After both: ${run.counts.holds} active overdue holds,
${run.counts.disabled} disabled customers, ${run.counts.events} events, ${run.counts.audit} audit entries,
${run.counts.warnings} warning records.
`;
  return prettier.format(text, { parser: 'markdown', proseWrap: 'preserve' });
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
