import { Logger } from '@nestjs/common';
import { Client } from 'pg';
import request from 'supertest';
import { CLIENT_DEADLINE_GRACE_MS } from '../../src/database/data-source-options';
import { DatabaseProxy } from '../support/database-proxy';
import { createCustomer, signIn, StaffSession } from '../support/factories';
import { createTestDatabase, startTestApp, TestApp, TestDatabase } from '../support/test-app';
import { onEmbeddedDatabase } from '../support/test-env';

const CONNECT_TIMEOUT_MS = 1000;
const STATEMENT_TIMEOUT_MS = 1000;
const LOCK_TIMEOUT_MS = 500;
/** The longest a request may wait: a pooled connection, then a statement and the grace. */
const WRITE_BOUND_MS = CONNECT_TIMEOUT_MS + STATEMENT_TIMEOUT_MS + CLIENT_DEADLINE_GRACE_MS;

/** Polls `probe` until it is true, or throws after `timeoutMs`. */
async function eventually(probe: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const started = performance.now();
  while (!(await probe())) {
    if (performance.now() - started > timeoutMs) throw new Error(`Not true after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

// The embedded engine accepts statement_timeout and lock_timeout but does not enforce them, and
// runs inside the test runner's parent process, where no proxy of this file can stand in front.
const describeOnPostgres = onEmbeddedDatabase() ? describe.skip : describe;

describeOnPostgres('a database that stops answering (skipped on the embedded engine)', () => {
  let database: TestDatabase;
  let proxy: DatabaseProxy;
  let t: TestApp;
  let support: StaffSession;
  /** Straight to PostgreSQL, around the proxy: to look at rows while the app's way is frozen. */
  let direct: Client;

  beforeAll(async () => {
    database = await createTestDatabase();
    proxy = await DatabaseProxy.start(database.url);
    t = await startTestApp(
      {
        DATABASE_CONNECT_TIMEOUT_MS: String(CONNECT_TIMEOUT_MS),
        DATABASE_STATEMENT_TIMEOUT_MS: String(STATEMENT_TIMEOUT_MS),
        DATABASE_LOCK_TIMEOUT_MS: String(LOCK_TIMEOUT_MS),
        // The tests count the pool's connections and the error log's lines one request at a
        // time: the hold scheduler's background polls would take part (its outage logging is
        // the test below).
        HOLD_SCHEDULER_INTERVAL_MS: '60000',
      },
      {
        database: {
          url: database.url,
          runtimeUrl: proxy.urlFor(database.runtimeUrl),
          drop: () => Promise.resolve(),
        },
      },
    );
    support = await signIn(t, 'customer_support');
    direct = new Client({ connectionString: database.url });
    await direct.connect();
  });
  afterEach(() => {
    jest.restoreAllMocks();
    proxy.unfreeze();
  });
  afterAll(async () => {
    await direct.end();
    await t.close();
    await proxy.close();
    await database.drop();
  });

  const disable = (id: string) =>
    request(t.http).post(`/api/v1/customers/${id}/disable`).set(support.header).send({});
  const statusOf = async (id: string) =>
    (await direct.query<{ status: string }>('SELECT status FROM customers WHERE id = $1', [id]))
      .rows[0].status;
  const ready = () => request(t.http).get('/health/ready');
  const backToReady = () => eventually(async () => (await ready()).status === 200, 10_000);

  /** Opens every pooled connection, so that requests take one that exists (the slow case). */
  const warmPool = () =>
    Promise.all(Array.from({ length: 10 }, () => t.db.query('SELECT pg_sleep(0.05)')));

  async function timed<T>(run: () => PromiseLike<T>): Promise<{ result: T; ms: number }> {
    const started = performance.now();
    const result = await run();
    return { result, ms: Math.round(performance.now() - started) };
  }

  function expectUnavailable(response: request.Response): void {
    expect(response.status).toBe(503);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(response.headers['retry-after']).toBe('5');
    expect(response.body).toMatchObject({ status: 503, code: 'service_unavailable' });
    expect(JSON.stringify(response.body)).not.toMatch(/timeout|ECONN|SELECT|stack/i);
  }

  it('gives every pooled connection the configured statement, lock and idle-transaction timeouts', async () => {
    const [row] = await t.db.query<Record<string, string>[]>(
      `SELECT current_setting('statement_timeout') AS statement,
              current_setting('lock_timeout') AS lock,
              current_setting('idle_in_transaction_session_timeout') AS idle`,
    );
    expect(row).toEqual({ statement: '1s', lock: '500ms', idle: '1s' });
  });

  it('answers a write that waits too long for a locked row 503 with Retry-After and changes nothing', async () => {
    const customer = await createCustomer(t);
    const holder = new Client({ connectionString: database.url });
    await holder.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT 1 FROM customers WHERE id = $1 FOR UPDATE', [customer.id]);
      const { result, ms } = await timed(() => disable(customer.id));
      console.log(`A write behind a row lock held elsewhere: 503 after ${ms} ms`);
      expectUnavailable(result);
      expect(ms).toBeLessThan(STATEMENT_TIMEOUT_MS);
    } finally {
      await holder.query('ROLLBACK');
      await holder.end();
    }
    expect(await statusOf(customer.id)).toBe('enabled');
    await disable(customer.id).expect(200);
  });

  it('answers /health/ready 503 within 1 s and a write 503 within its timeouts while the database is frozen, and recovers', async () => {
    const customer = await createCustomer(t);
    await warmPool();
    proxy.freeze();

    const health = await timed(() => ready());
    console.log(
      `/health/ready with the database frozen: ${health.result.status} in ${health.ms} ms`,
    );
    expectUnavailable(health.result);
    expect(health.ms).toBeLessThan(1000);

    const write = await timed(() => disable(customer.id));
    console.log(
      `A write with the database frozen: ${write.result.status} in ${write.ms} ms ` +
        `(bound ${WRITE_BOUND_MS} ms)`,
    );
    expectUnavailable(write.result);
    expect(write.ms).toBeLessThan(WRITE_BOUND_MS);

    proxy.unfreeze();
    await backToReady();
    expect(await statusOf(customer.id)).toBe('enabled');
    await disable(customer.id).expect(200);
    expect(await statusOf(customer.id)).toBe('disabled');
  }, 30_000);

  it('closes a pooled connection whose query got no answer, instead of handing it out again', async () => {
    await warmPool();
    const before = proxy.connections;
    proxy.freeze();
    const { result, ms } = await timed(() =>
      t.db.query('SELECT 1').then(
        () => 'answered',
        (error: Error) => error.message,
      ),
    );
    expect(result).toBe('Query read timeout');
    expect(ms).toBeGreaterThanOrEqual(STATEMENT_TIMEOUT_MS);
    // At least this one is closed: a background query that the freeze also caught (measured: one
    // more, run alone) gets no answer either, and its connection is closed the same way.
    await eventually(() => Promise.resolve(proxy.connections <= before - 1), 1000);
    proxy.unfreeze();
    await backToReady();
  }, 30_000);

  it('logs one line for an outage of 20 refused requests, and one when the database is back', async () => {
    const customer = await createCustomer(t);
    const errors = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    const logs = jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    const warnings = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    proxy.freeze();

    const responses = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        i % 2 === 0
          ? disable(customer.id)
          : request(t.http).get(`/api/v1/customers/${customer.id}`).set(support.header),
      ),
    );
    for (const response of responses) expectUnavailable(response);

    proxy.unfreeze();
    await backToReady();
    const lines = errors.mock.calls.map((call) => String(call[0]));
    console.log(
      `Error log lines for 20 requests refused during one outage: ${lines.length}\n  ${lines.join('\n  ')}`,
    );
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/answering 503/);
    const back = logs.mock.calls
      .map((call) => String(call[0]))
      .filter((l) => /answers again/.test(l));
    expect(back).toHaveLength(1);
    // The readiness polls after the unfreeze may add a refusal or two to the count.
    expect(Number(/; (\d+) requests were answered 503/.exec(back[0])?.[1])).toBeGreaterThanOrEqual(
      20,
    );
    // The change feed's LISTEN connection reports its own reconnects: not per request.
    const ownWarnings = warnings.mock.contexts.filter(
      (logger) => (logger as { context?: string }).context !== 'CustomerChangeFeed',
    );
    expect(ownWarnings).toHaveLength(0);
    expect(await statusOf(customer.id)).toBe('enabled');
  }, 30_000);

  it('answers 503 when the database refuses connections, and recovers when it is back', async () => {
    const customer = await createCustomer(t);
    const errors = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    await proxy.close();

    for (let i = 0; i < 5; i++) expectUnavailable(await disable(customer.id));
    const health = await timed(() => ready());
    expectUnavailable(health.result);
    expect(health.ms).toBeLessThan(1000);
    expect(errors).toHaveBeenCalledTimes(1);
    expect(String(errors.mock.calls[0][0])).toMatch(/ECONNREFUSED|Connection terminated/);

    await proxy.open();
    await backToReady();
    expect(await statusOf(customer.id)).toBe('enabled');
    await disable(customer.id).expect(200);
  }, 30_000);

  it('keeps the hold scheduler quiet through an outage and lets it catch up after', async () => {
    const polling = await startTestApp(
      {
        DATABASE_CONNECT_TIMEOUT_MS: String(CONNECT_TIMEOUT_MS),
        DATABASE_STATEMENT_TIMEOUT_MS: String(STATEMENT_TIMEOUT_MS),
        HOLD_SCHEDULER_INTERVAL_MS: '50',
      },
      {
        database: {
          url: database.url,
          runtimeUrl: proxy.urlFor(database.runtimeUrl),
          drop: () => Promise.resolve(),
        },
      },
    );
    try {
      const customer = await createCustomer(t);
      const startsAt = new Date(Date.now() + 300);
      await direct.query(
        `INSERT INTO holds (customer_id, source, reason_code, starts_at, pause_billing,
                            placed_by_type, placed_by_name)
         VALUES ($1, 'manual', 'other', $2, false, 'system', 'system')`,
        [customer.id, startsAt],
      );
      await direct.query('UPDATE customers SET next_boundary_at = $2 WHERE id = $1', [
        customer.id,
        startsAt,
      ]);
      const errors = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
      proxy.freeze();
      await new Promise((resolve) => setTimeout(resolve, STATEMENT_TIMEOUT_MS + 1500));
      expect(errors.mock.calls.map((call) => String(call[0]))).toEqual([]);
      proxy.unfreeze();
      await eventually(async () => (await statusOf(customer.id)) === 'disabled', 10_000);
      const [entry] = (
        await direct.query<{ actor_type: string; effective_at: Date }>(
          `SELECT actor_type, effective_at FROM audit_logs
            WHERE customer_id = $1 AND action = 'customer.disabled'`,
          [customer.id],
        )
      ).rows;
      expect(entry).toEqual({ actor_type: 'system', effective_at: startsAt });
    } finally {
      await polling.close();
    }
  }, 30_000);
});
