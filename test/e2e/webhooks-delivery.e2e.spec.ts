import request from 'supertest';
import { countRows, createCustomer, signIn, StaffSession } from '../support/factories';
import { disableCustomer, enableCustomer, eventually, sleep } from '../support/holds';
import {
  createTestDatabase,
  queryAs,
  startTestApp,
  TestApp,
  TestDatabase,
} from '../support/test-app';
import { onEmbeddedDatabase } from '../support/test-env';
import { verifies, WebhookReceiver } from '../support/webhook-receiver';

/**
 * Webhook delivery when things go wrong (issue 10, "Real parts in tests"): a receiver that
 * hangs, a shutdown with a request in flight, a crash between the commit and the delivery, two
 * instances racing, and the address checks at delivery time. Real receivers on loopback,
 * signatures verified with the standardwebhooks library.
 */

const FAST = { WEBHOOK_RETRY_SCHEDULE: '100ms,100ms,100ms', OUTBOX_POLL_INTERVAL_MS: '50' };

interface Attempt {
  attempt: number;
  status_code: number | null;
  duration_ms: number;
  error: string | null;
  delivered_at: string | null;
}

async function createEndpoint(
  t: TestApp,
  developer: StaffSession,
  body: object,
): Promise<{ id: string; secret: string }> {
  const response = await request(t.http)
    .post('/api/v1/webhook-endpoints')
    .set(developer.header)
    .send(body)
    .expect(201);
  return response.body as { id: string; secret: string };
}

async function attemptsOf(t: TestApp, developer: StaffSession, endpointId: string) {
  const response = await request(t.http)
    .get(`/api/v1/webhook-endpoints/${endpointId}/deliveries?limit=200`)
    .set(developer.header)
    .expect(200);
  return response.body.data as Attempt[];
}

const deliveryStates = (url: string, endpointId: string) =>
  queryAs<{ state: string; attempts: number; locked_until: Date | null }>(
    url,
    'SELECT state, attempts, locked_until FROM webhook_deliveries WHERE endpoint_id = $1',
    [endpointId],
  );

describe('a receiver that hangs', () => {
  let t: TestApp;
  let developer: StaffSession;
  let support: StaffSession;
  let receiver: WebhookReceiver;

  beforeAll(async () => {
    t = await startTestApp({ ...FAST, WEBHOOK_TIMEOUT_MS: '300', WEBHOOK_RETRY_SCHEDULE: '1h' });
    [developer, support] = await Promise.all([
      signIn(t, 'developer'),
      signIn(t, 'customer_support'),
    ]);
    receiver = await WebhookReceiver.start();
    receiver.answer = () => 'hang';
  });
  afterAll(async () => {
    await receiver.stop();
    await t.close();
  });

  it('never delays the change, and its attempt ends as a timeout', async () => {
    const endpoint = await createEndpoint(t, developer, {
      url: receiver.url,
      event_types: ['customer.disabled'],
    });
    const customer = await createCustomer(t);
    const started = performance.now();
    await disableCustomer(t, customer.id, support.header).expect(200);
    expect(performance.now() - started).toBeLessThan(1000);

    await eventually(
      () => Promise.resolve(receiver.received.length > 0 ? true : undefined),
      5000,
      'the hanging receiver got the request',
    );
    expect(verifies(receiver.received[0], endpoint.secret)).toBe(true);
    // While it hangs, the service answers as fast as ever.
    const again = performance.now();
    await enableCustomer(t, customer.id, support.header).expect(200);
    expect(performance.now() - again).toBeLessThan(1000);

    const [attempt] = await eventually(
      async () => {
        const attempts = await attemptsOf(t, developer, endpoint.id);
        return attempts.length > 0 ? attempts : undefined;
      },
      5000,
      'the attempt logged',
    );
    expect(attempt).toMatchObject({
      attempt: 1,
      status_code: null,
      error: 'timeout after 300 ms',
      delivered_at: null,
    });
    expect(attempt.duration_ms).toBeGreaterThanOrEqual(290);
    expect(attempt.duration_ms).toBeLessThan(5000);
    const [delivery] = await deliveryStates(t.database.url, endpoint.id);
    expect(delivery).toMatchObject({ state: 'pending', attempts: 1, locked_until: null });
  });
});

describe('a shutdown with a request in flight', () => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(() => database.drop());

  it('aborts it, returns promptly, and leaves the delivery due for another instance', async () => {
    const t = await startTestApp({ ...FAST, WEBHOOK_TIMEOUT_MS: '30000' }, { database });
    const receiver = await WebhookReceiver.start();
    receiver.answer = () => 'hang';
    let endpointId = '';
    try {
      const developer = await signIn(t, 'developer');
      const support = await signIn(t, 'customer_support');
      endpointId = (
        await createEndpoint(t, developer, {
          url: receiver.url,
          event_types: ['customer.disabled'],
        })
      ).id;
      const customer = await createCustomer(t);
      await disableCustomer(t, customer.id, support.header).expect(200);
      await eventually(
        () => Promise.resolve(receiver.received.length > 0 ? true : undefined),
        5000,
        'the request in flight',
      );
    } finally {
      const closing = performance.now();
      await t.close();
      expect(performance.now() - closing).toBeLessThan(5000);
      await receiver.stop();
    }
    const [delivery] = await deliveryStates(database.url, endpointId);
    // Not an attempt: nothing logged, not counted, and no lease to wait out.
    expect(delivery).toEqual({ state: 'pending', attempts: 0, locked_until: null });
    const [{ count }] = await queryAs<{ count: number }>(
      database.url,
      'SELECT count(*)::int AS count FROM webhook_attempts WHERE endpoint_id = $1',
      [endpointId],
    );
    expect(count).toBe(0);
  });
});

// Two apps on one database: the embedded engine serves one connection to one instance.
const describeOnPostgres = onEmbeddedDatabase() ? describe.skip : describe;

describeOnPostgres('instances sharing one database', () => {
  let database: TestDatabase;
  let receiver: WebhookReceiver;

  beforeAll(async () => {
    database = await createTestDatabase();
  });
  beforeEach(async () => {
    receiver = await WebhookReceiver.start();
  });
  afterEach(() => receiver.stop());
  afterAll(() => database.drop());

  it('delivers what was committed before a crash exactly once, after the restart', async () => {
    // Instance A commits the change and "crashes" before delivering anything.
    const a = await startTestApp({ ...FAST, OUTBOX_DISPATCH: 'false' }, { database });
    let endpoint: { id: string; secret: string };
    let customerId: string;
    try {
      const developer = await signIn(a, 'developer');
      const support = await signIn(a, 'customer_support');
      endpoint = await createEndpoint(a, developer, { url: receiver.url, event_types: ['*'] });
      customerId = (await createCustomer(a)).id;
      await disableCustomer(a, customerId, support.header).expect(200);
      await sleep(300);
      expect(receiver.received).toHaveLength(0);
      const pending = await deliveryStates(database.url, endpoint.id);
      expect(pending.map((d) => d.state)).toEqual(['pending', 'pending']);
    } finally {
      await a.close();
    }

    const b = await startTestApp(FAST, { database });
    try {
      await eventually(
        () => Promise.resolve(receiver.received.length >= 2 ? true : undefined),
        10_000,
        'both events delivered after the restart',
      );
      await sleep(500);
      expect(receiver.received.map((r) => [r.event.type, r.nth])).toEqual([
        ['hold.placed', 1],
        ['customer.disabled', 1],
      ]);
      for (const got of receiver.received) {
        expect(got.event.data.customer?.id).toBe(customerId);
        expect(verifies(got, endpoint.secret)).toBe(true);
      }
      const delivered = await deliveryStates(database.url, endpoint.id);
      expect(delivered.map((d) => [d.state, d.attempts])).toEqual([
        ['delivered', 1],
        ['delivered', 1],
      ]);
    } finally {
      await b.close();
      await queryAs(database.url, 'DELETE FROM webhook_endpoints');
    }
  });

  it('twenty concurrent toggles on two instances: one event per transition, each received once', async () => {
    const b = await startTestApp(FAST, { database });
    const c = await startTestApp(FAST, { database });
    try {
      const developer = await signIn(b, 'developer');
      const support = await signIn(b, 'customer_support');
      const endpoint = await createEndpoint(b, developer, {
        url: receiver.url,
        event_types: ['*'],
      });
      const customerId = (await createCustomer(b)).id;

      const answers = await Promise.all(
        Array.from({ length: 20 }, (_, i) => {
          const instance = i % 2 === 0 ? b : c;
          const toggle = Math.floor(i / 2) % 2 === 0 ? disableCustomer : enableCustomer;
          return toggle(instance, customerId, support.header, { reason: `toggle ${i}` });
        }),
      );
      for (const answer of answers) expect(answer.status).toBe(200);

      const events = await queryAs<{ id: string; type: string; hold_id: string | null }>(
        database.url,
        `SELECT id, type, data->'hold'->>'id' AS hold_id FROM events
          WHERE customer_id = $1 ORDER BY seq`,
        [customerId],
      );
      const transitions = events.filter((e) => e.type.startsWith('customer.'));
      const audit = await queryAs<{ action: string; hold_id: string | null }>(
        database.url,
        `SELECT action, hold_id FROM audit_logs
          WHERE customer_id = $1 AND action IN ('customer.disabled', 'customer.enabled')`,
        [customerId],
      );
      expect(transitions.length).toBeGreaterThan(0);
      const pairs = (list: { kind: string; hold_id: string | null }[]) =>
        list.map((x) => `${x.kind} ${x.hold_id}`).sort();
      expect(pairs(transitions.map((e) => ({ kind: e.type, hold_id: e.hold_id })))).toEqual(
        pairs(audit.map((a) => ({ kind: a.action, hold_id: a.hold_id }))),
      );
      // In commit order they alternate, from disabled.
      transitions.forEach((e, i) =>
        expect(e.type).toBe(i % 2 === 0 ? 'customer.disabled' : 'customer.enabled'),
      );

      await eventually(
        async () => {
          const states = await deliveryStates(database.url, endpoint.id);
          return states.length === events.length && states.every((s) => s.state === 'delivered')
            ? true
            : undefined;
        },
        15_000,
        'every event delivered',
      );
      await sleep(300);
      const received = receiver.about(customerId);
      expect(received.map((r) => r.headers['webhook-id']).sort()).toEqual(
        events.map((e) => e.id).sort(),
      );
      expect(received.every((r) => r.nth === 1)).toBe(true);
      for (const got of received) expect(verifies(got, endpoint.secret)).toBe(true);
    } finally {
      await c.close();
      await b.close();
      await queryAs(database.url, 'DELETE FROM webhook_endpoints');
    }
  });

  it('refuses private destinations when private networks are not allowed, when saved and when delivering', async () => {
    // Saved by an instance that allows them (as a development set-up would), delivered by one
    // that does not: the delivery checks the address it connects to.
    const lax = await startTestApp({ ...FAST, OUTBOX_DISPATCH: 'false' }, { database });
    const strict = await startTestApp(
      { ...FAST, WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'false' },
      { database },
    );
    try {
      const developer = await signIn(lax, 'developer');
      const support = await signIn(lax, 'customer_support');
      const tables = ['webhook_endpoints', 'webhook_deliveries', 'events'];
      const before = await countRows(strict, tables);
      const refused = [
        [`http://127.0.0.1:${receiver.port}/hooks`, /must use https/],
        ['http://93.184.215.14/hooks', /must use https/],
        [`https://127.0.0.1:${receiver.port}/hooks`, /loopback/],
        [`https://localhost:${receiver.port}/hooks`, /loopback/],
        ['https://[::1]/hooks', /loopback/],
        ['https://0x7f000001/hooks', /loopback/],
        ['https://10.1.2.3/hooks', /private/],
        ['https://192.168.0.10/hooks', /private/],
        ['https://[::ffff:172.16.0.1]/hooks', /private/],
        ['https://169.254.169.254/latest/meta-data', /link-local/],
        ['https://100.64.0.1/hooks', /carrier-grade NAT/],
        ['https://[fd00::1]/hooks', /unique-local/],
        ['https://0.0.0.0/hooks', /unspecified/],
        ['https://224.0.0.1/hooks', /multicast/],
        ['https://192.0.2.1/hooks', /documentation/],
      ] as const;
      for (const [url, message] of refused) {
        const response = await request(strict.http)
          .post('/api/v1/webhook-endpoints')
          .set(developer.header)
          .send({ url, event_types: ['*'] })
          .expect(400);
        expect(response.body.code).toBe('validation_failed');
        expect(response.body.errors).toEqual([
          { field: 'url', message: expect.stringMatching(message) },
        ]);
      }
      expect(await countRows(strict, tables)).toEqual(before);
      // A public address passes (an IP literal: no DNS needed here). Never sent to.
      await createEndpoint(strict, developer, {
        url: 'https://93.184.215.14/hooks',
        event_types: ['invoice.paid'],
      });

      const saved = [
        `https://localhost:${receiver.port}/hooks`,
        `https://127.0.0.1:${receiver.port}/hooks`,
        `http://127.0.0.1:${receiver.port}/hooks`,
      ];
      const endpoints = [];
      for (const url of saved) {
        endpoints.push(
          await createEndpoint(lax, developer, { url, event_types: ['customer.disabled'] }),
        );
        // The strict instance refuses the same change on a PATCH.
        const patch = await request(strict.http)
          .patch(`/api/v1/webhook-endpoints/${endpoints[endpoints.length - 1].id}`)
          .set(developer.header)
          .send({ url })
          .expect(400);
        expect(patch.body.code).toBe('validation_failed');
      }
      const customer = await createCustomer(lax);
      await disableCustomer(lax, customer.id, support.header).expect(200);

      const errors = [];
      for (const endpoint of endpoints) {
        const attempts = await eventually(
          async () => {
            const list = await attemptsOf(strict, developer, endpoint.id);
            return list.length > 0 ? list : undefined;
          },
          5000,
          'an attempt logged',
        );
        errors.push(attempts[attempts.length - 1].error);
      }
      expect(errors).toEqual([
        expect.stringMatching(
          /^address not allowed: localhost resolves to a loopback address \((127\.0\.0\.1|::1)\)$/,
        ),
        'address not allowed: loopback (127.0.0.1)',
        'https required',
      ]);
      expect(receiver.received).toHaveLength(0);
    } finally {
      await strict.close();
      await lax.close();
      await queryAs(database.url, 'DELETE FROM webhook_endpoints');
    }
  });
});
