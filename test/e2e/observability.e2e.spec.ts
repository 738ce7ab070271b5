import { Writable } from 'node:stream';
import request from 'supertest';
import { CustomerChangeFeed } from '../../src/changes/customer-change-feed';
import { LimitsFastLane } from '../../src/limits/limits-fast-lane';
import { shutDownGracefully } from '../../src/observability/graceful-shutdown';
import {
  createRootLogger,
  NestPinoLogger,
  printAdminPasswordBanner,
} from '../../src/observability/logging';
import { createCustomer, signIn } from '../support/factories';
import { disableCustomer } from '../support/holds';
import { startTestApp, TEST_ADMIN, TestApp } from '../support/test-app';
import { createApiKey } from '../support/api-keys';
import { onEmbeddedDatabase } from '../support/test-env';

const METRICS_TOKEN = 'metrics-token-for-the-tests-0123';

/** A stream the app's logger writes to: every JSON line it wrote, parsed. */
class CapturedLog extends Writable {
  readonly text: string[] = [];

  override _write(chunk: Buffer, _encoding: string, done: () => void): void {
    this.text.push(chunk.toString());
    done();
  }

  get lines(): Record<string, unknown>[] {
    return this.text
      .join('')
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  }

  where(fields: Record<string, unknown>): Record<string, unknown>[] {
    return this.lines.filter((line) =>
      Object.entries(fields).every(([key, value]) => line[key] === value),
    );
  }
}

/** The value of one series of the Prometheus text, 0 when absent. */
function sample(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
}

describe('operating the service: logs and metrics', () => {
  let t: TestApp;
  const log = new CapturedLog();

  beforeAll(async () => {
    t = await startTestApp(
      { LOG_LEVEL: 'log', METRICS_TOKEN, SHUTDOWN_DRAIN_MS: '0' },
      { logDestination: log },
    );
  });
  afterAll(() => t.close());

  it('logs one JSON line per request: method, route pattern, status, duration, request id, actor; no secret', async () => {
    const staff = await signIn(t, 'developer');
    const customer = await createCustomer(t);
    await request(t.http)
      .get(`/api/v1/customers/${customer.id}`)
      .set(staff.header)
      .set('x-request-id', 'req-log-test-1')
      .expect(200);

    const [line] = log.where({ event: 'http.request', request_id: 'req-log-test-1' });
    expect(line).toMatchObject({
      level: 'info',
      method: 'GET',
      route: '/api/v1/customers/:id',
      status: 200,
      actor_type: 'user',
      actor_id: staff.user.id,
    });
    expect(typeof line.duration_ms).toBe('number');
    expect(typeof line.time).toBe('string');
    // The route pattern, never the URL with its ids; no header value.
    const all = log.text.join('');
    expect(all).not.toContain(customer.id);
    expect(all).not.toContain(staff.token);
  });

  it("starts with a handful of lines: Nest's route mapping is at debug, off at LOG_LEVEL=log", () => {
    expect(
      log.where({ context: 'NestApplication', msg: 'Nest application successfully started' }),
    ).toHaveLength(1);
    expect(log.where({ context: 'RouterExplorer' })).toEqual([]);
    expect(log.where({ context: 'RoutesResolver' })).toEqual([]);
  });

  it('never writes a password or a body: a failed sign-in logs the request, not what was sent', async () => {
    const password = 'a-wrong-password-never-logged';
    await request(t.http)
      .post('/api/v1/auth/login')
      .set('x-request-id', 'req-log-test-login')
      .send({ email: TEST_ADMIN.email, password })
      .expect(401);
    const [line] = log.where({ event: 'http.request', request_id: 'req-log-test-login' });
    expect(line).toMatchObject({ method: 'POST', route: '/api/v1/auth/login', status: 401 });
    expect(line.actor_id).toBeUndefined();
    // And one line for the failed sign-in itself: who was tried and from where, not the password.
    const failed = log.where({ event: 'auth.login_failed', email: TEST_ADMIN.email });
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ reason: 'invalid_credentials', level: 'warn' });
    expect(log.text.join('')).not.toContain(password);
  });

  it('logs a customer status change and its hold once committed, with ids and codes only', async () => {
    const staff = await signIn(t, 'account_manager');
    const customer = await createCustomer(t);
    const reason = 'A free-text reason that stays out of the log';
    await disableCustomer(t, customer.id, staff.header, {
      reason_code: 'dispute',
      reason,
    }).expect(200);

    const [status] = log.where({ event: 'customer.status_changed', customer_id: customer.id });
    expect(status).toMatchObject({
      change: 'customer.disabled',
      status: 'disabled',
      level: 'info',
    });
    const [hold] = log.where({ event: 'hold.changed', customer_id: customer.id });
    expect(hold).toMatchObject({
      change: 'hold.placed',
      reason_code: 'dispute',
      source: 'manual',
      hold_id: status.hold_id,
    });
    expect(log.text.join('')).not.toContain(reason);
  });

  it('logs no status change that was rolled back', async () => {
    const staff = await signIn(t, 'account_manager');
    const customer = await createCustomer(t);
    // The test's own database refuses this customer's events: the use case fails after its save.
    await t.asOwner(`
      CREATE FUNCTION test_refuse_event() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'event insert refused by the test'; END $$`);
    await t.asOwner(`
      CREATE TRIGGER test_refuse_event BEFORE INSERT ON events FOR EACH ROW
      WHEN (NEW.customer_id = '${customer.id}') EXECUTE FUNCTION test_refuse_event()`);
    try {
      await disableCustomer(t, customer.id, staff.header, { reason_code: 'dispute' }).expect(500);
    } finally {
      await t.asOwner('DROP TRIGGER test_refuse_event ON events');
      await t.asOwner('DROP FUNCTION test_refuse_event()');
    }
    expect(
      (await t.db.query('SELECT status FROM customers WHERE id = $1', [customer.id]))[0],
    ).toEqual({ status: 'enabled' });
    expect(log.where({ customer_id: customer.id })).toEqual([]);
    // The failure itself is logged, as an error with the route.
    expect(log.where({ level: 'error', context: 'Errors' }).map((line) => line.msg)).toContainEqual(
      expect.stringContaining(`/customers/${customer.id}/disable failed`),
    );
  });

  it('answers GET /metrics only with the bearer token, compared whole', async () => {
    const none = await request(t.http).get('/metrics').expect(401);
    expect(none.headers['www-authenticate']).toMatch(/^Bearer/);
    expect(none.body.code).toBe('unauthenticated');
    await request(t.http).get('/metrics').set('Authorization', 'Bearer wrong').expect(401);
    await request(t.http)
      .get('/metrics')
      .set('Authorization', `Bearer ${METRICS_TOKEN}x`)
      .expect(401);
    // Not a staff credential either.
    const staff = await signIn(t, 'admin');
    await request(t.http).get('/metrics').set(staff.header).expect(401);
  });

  it('counts limits look-ups: a miss read from the database, then hits from memory', async () => {
    const scrape = async () =>
      (
        await request(t.http)
          .get('/metrics')
          .set('Authorization', `Bearer ${METRICS_TOKEN}`)
          .expect(200)
      ).text;
    const key = await createApiKey(t);
    const customer = await createCustomer(t);
    const before = await scrape();
    const ask = () =>
      request(t.http).get(`/api/v1/customers/${customer.id}/limits`).set(key.header).expect(200);
    await ask();
    // Cached once its own change announcements are past: ask until an answer comes from memory.
    const hits = 'limits_cache_lookups_total{result="hit"}';
    for (let i = 0; i < 50 && sample(await scrape(), hits) === sample(before, hits); i += 1) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      await ask();
    }
    const after = await scrape();
    expect(sample(after, hits)).toBeGreaterThan(sample(before, hits));
    expect(sample(after, 'limits_cache_lookups_total{result="miss"}')).toBeGreaterThan(
      sample(before, 'limits_cache_lookups_total{result="miss"}'),
    );
  });

  it('counts the fast lane’s answers in the request histogram without a log line each; logs a miss and a refusal as any request', async () => {
    const scrape = async () =>
      (
        await request(t.http)
          .get('/metrics')
          .set('Authorization', `Bearer ${METRICS_TOKEN}`)
          .expect(200)
      ).text;
    const key = await createApiKey(t);
    const customer = await createCustomer(t);
    const path = `/api/v1/customers/${customer.id}/limits`;
    const lane = t.app.get(LimitsFastLane);
    const series =
      'http_request_duration_seconds_count{method="GET",route="/api/v1/customers/:id/limits",status="200"}';
    // The first answer is read from the database, through Fastify: logged.
    await request(t.http).get(path).set(key.header).set('x-request-id', 'limits-miss').expect(200);
    expect(log.where({ event: 'http.request', request_id: 'limits-miss' })).toHaveLength(1);
    const before = await scrape();
    const inFront = lane.servedInFront;
    const lookups = (text: string) => ({
      hit: sample(text, 'limits_cache_lookups_total{result="hit"}'),
      miss: sample(text, 'limits_cache_lookups_total{result="miss"}'),
    });
    for (let i = 0; i < 5; i += 1) {
      await request(t.http)
        .get(path)
        .set(key.header)
        .set('x-request-id', `limits-hit-${i}`)
        .expect(200);
    }
    const hits = lane.servedInFront - inFront;
    expect(hits).toBeGreaterThan(0);
    const after = await scrape();
    // Every answer counted, from the lane or through Fastify; only those through Fastify logged.
    expect(sample(after, series) - sample(before, series)).toBe(5);
    // And every look-up, once: a hit (the lane's, or the route's from memory) or a miss.
    const [was, now] = [lookups(before), lookups(after)];
    expect(now.hit - was.hit).toBeGreaterThanOrEqual(hits);
    expect(now.hit - was.hit + (now.miss - was.miss)).toBe(5);
    const logged = [0, 1, 2, 3, 4].filter(
      (i) => log.where({ event: 'http.request', request_id: `limits-hit-${i}` }).length > 0,
    );
    expect(logged).toHaveLength(5 - hits);
    // A refusal is Fastify's and Nest's, and logged.
    await request(t.http)
      .get(path)
      .set('X-API-Key', `ca_${'x'.repeat(43)}`)
      .set('x-request-id', 'limits-refused')
      .expect(401);
    expect(log.where({ event: 'http.request', request_id: 'limits-refused' })).toMatchObject([
      { status: 401, route: '/api/v1/customers/:id/limits' },
    ]);
  });

  it('gives the change feed state and its lag: live, and behind by less than its staleness bound', async () => {
    const text = (
      await request(t.http)
        .get('/metrics')
        .set('Authorization', `Bearer ${METRICS_TOKEN}`)
        .expect(200)
    ).text;
    // The embedded engine has no LISTEN connection: nothing to be behind on.
    if (onEmbeddedDatabase()) return;
    expect(sample(text, 'change_feed_live')).toBe(1);
    const lag = sample(text, 'change_feed_lag_seconds');
    expect(lag).toBeGreaterThan(0);
    expect(lag).toBeLessThan(t.config.changeFeedStaleMs / 1000);
  });

  it('exposes every metric by name, and a request moves the duration histogram', async () => {
    const scrape = async () =>
      (
        await request(t.http)
          .get('/metrics')
          .set('Authorization', `Bearer ${METRICS_TOKEN}`)
          .expect(200)
          .expect('content-type', /^text\/plain/)
      ).text;
    const staff = await signIn(t, 'developer');
    const series =
      'http_request_duration_seconds_count{method="GET",route="/api/v1/customers",status="200"}';
    const before = sample(await scrape(), series);
    await request(t.http).get('/api/v1/customers').set(staff.header).expect(200);
    await request(t.http).get('/api/v1/customers').set(staff.header).expect(200);
    const text = await scrape();
    expect(sample(text, series)).toBe(before + 2);

    for (const name of [
      'http_request_duration_seconds',
      'limits_cache_lookups_total',
      'change_feed_live',
      'change_feed_lag_seconds',
      'outbox_pending',
      'outbox_oldest_pending_age_seconds',
      'webhook_deliveries_total',
      'emails_total',
      'outbox_handed_back_total',
      'dunning_runs_total',
      'dunning_run_duration_seconds',
      'database_pool_connections',
      'event_loop_lag_seconds',
      'process_cpu_seconds_total',
      'process_resident_memory_bytes',
      'nodejs_eventloop_lag_p99_seconds',
    ]) {
      expect({ [name]: text.includes(`# TYPE ${name} `) }).toEqual({ [name]: true });
    }
    // Computed at scrape time: the backlog by kind and the pool.
    expect(text).toMatch(/^outbox_pending\{kind="webhook"\} \d+$/m);
    expect(text).toMatch(/^outbox_pending\{kind="email"\} \d+$/m);
    expect(text).toMatch(/^database_pool_connections\{state="idle"\} \d+$/m);
    expect(sample(text, 'change_feed_live')).toBe(t.app.get(CustomerChangeFeed).live ? 1 : 0);
    // The scrape is no request of the histogram's routes to the API: it is its own route.
    expect(text).not.toContain(METRICS_TOKEN);
  });

  it('keeps its own registry: a second app in the process neither shares nor clashes, and without METRICS_TOKEN has no /metrics', async () => {
    const other = await startTestApp({ LOG_LEVEL: 'error' });
    try {
      const missing = await request(other.http)
        .get('/metrics')
        .set('Authorization', `Bearer ${METRICS_TOKEN}`)
        .expect(404);
      expect(missing.body.code).toBe('not_found');
      // Requests to the other app do not count in this one's histogram.
      const series =
        'http_request_duration_seconds_count{method="GET",route="/health",status="200"}';
      const scrape = async () =>
        (await request(t.http).get('/metrics').set('Authorization', `Bearer ${METRICS_TOKEN}`))
          .text;
      const before = sample(await scrape(), series);
      await request(other.http).get('/health').expect(200);
      expect(sample(await scrape(), series)).toBe(before);
    } finally {
      await other.close();
    }
  });
});

describe('graceful shutdown', () => {
  it('answers 503 on readiness while it drains, then stops and logs what it drained', async () => {
    const log = new CapturedLog();
    const t = await startTestApp(
      { LOG_LEVEL: 'log', SHUTDOWN_DRAIN_MS: '1500' },
      { logDestination: log },
    );
    try {
      await request(t.http).get('/health/ready').expect(200);
      const stopping = shutDownGracefully(t.app, t.config, 'SIGTERM');
      const refused = await request(t.http).get('/health/ready').expect(503);
      expect(refused.body.code).toBe('service_unavailable');
      expect(refused.headers['retry-after']).toBeDefined();
      // Liveness and the API still answer during the drain.
      await request(t.http).get('/health').expect(200);
      await stopping;
      const [drained] = log.where({ event: 'shutdown' });
      expect(drained).toMatchObject({
        signal: 'SIGTERM',
        drain_ms: 1500,
        requests_in_flight: 0,
        webhooks_handed_back: 0,
        emails_handed_back: 0,
      });
      expect(log.where({ event: 'shutdown.draining' })).toHaveLength(1);
      // The 503 it chose is no failure: no error line.
      expect(log.where({ level: 'error' })).toEqual([]);
    } finally {
      await t.database.drop();
    }
  });
});

describe('the Nest logger over pino', () => {
  it('writes route mapping at debug, errors with their stack, and respects LOG_LEVEL', () => {
    const atDebug = new CapturedLog();
    const debug = new NestPinoLogger(
      createRootLogger({ logLevel: 'debug', logFormat: 'json' }, { destination: atDebug }),
    );
    debug.log('Mapped {/api/v1/customers, GET} route', 'RouterExplorer');
    debug.error('It failed', 'Error: It failed\n    at somewhere', 'Errors');
    expect(atDebug.lines).toEqual([
      expect.objectContaining({ level: 'debug', context: 'RouterExplorer' }),
      expect.objectContaining({
        level: 'error',
        context: 'Errors',
        msg: 'It failed',
        stack: expect.stringContaining('at somewhere'),
      }),
    ]);

    const atWarn = new CapturedLog();
    const warn = new NestPinoLogger(
      createRootLogger({ logLevel: 'warn', logFormat: 'json' }, { destination: atWarn }),
    );
    warn.log('Not written', 'Main');
    warn.warn('Written', 'Main');
    expect(atWarn.lines).toEqual([expect.objectContaining({ level: 'warn', msg: 'Written' })]);
  });
});

describe('the first admin banner', () => {
  it('prints the generated password framed on its own lines', () => {
    const out: string[] = [];
    printAdminPasswordBanner('admin@example.com', 'generated-pass-123', {
      write: (text: string) => out.push(text),
    });
    const lines = out.join('').split('\n');
    expect(lines.filter((line) => /^#+$/.test(line))).toHaveLength(2);
    expect(lines).toContainEqual(expect.stringContaining('password: generated-pass-123'));
    expect(lines).toContainEqual(expect.stringContaining('email:    admin@example.com'));
  });
});
