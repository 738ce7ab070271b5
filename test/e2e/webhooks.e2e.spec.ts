import request from 'supertest';
import { countRows, createCustomer, signIn, StaffSession } from '../support/factories';
import {
  allPages,
  disableCustomer,
  enableCustomer,
  eventually,
  MALFORMED_ID,
  sleep,
  UNKNOWN_ID,
} from '../support/holds';
import { startTestApp, TestApp, TestClock } from '../support/test-app';
import { EventBody, Received, verifies, WebhookReceiver } from '../support/webhook-receiver';

/**
 * Webhooks from the contract (../shared/API.md, "Events and webhooks"), received by a real
 * node:http server on loopback and verified with the standardwebhooks library. Retries are fast
 * here (WEBHOOK_RETRY_SCHEDULE=100ms,100ms,100ms) and secrets are encrypted at rest.
 */

const SECRETS_KEY = 'a-webhook-secrets-key-for-the-tests-0123456789';
const DAY_MS = 86_400_000;

interface Endpoint {
  id: string;
  url: string;
  event_types: string[];
  description: string | null;
  enabled: boolean;
  secret: string;
  created_at: string;
}

interface Attempt {
  id: string;
  event_id: string;
  attempt: number;
  status_code: number | null;
  duration_ms: number;
  error: string | null;
  delivered_at: string | null;
  next_attempt_at: string | null;
}

describe('webhooks', () => {
  let t: TestApp;
  let clock: TestClock;
  let developer: StaffSession;
  let support: StaffSession;
  let receiver: WebhookReceiver;

  beforeAll(async () => {
    clock = new TestClock();
    t = await startTestApp(
      {
        WEBHOOK_RETRY_SCHEDULE: '100ms,100ms,100ms',
        OUTBOX_POLL_INTERVAL_MS: '50',
        WEBHOOK_SECRETS_KEY: SECRETS_KEY,
      },
      { clock },
    );
    [developer, support] = await Promise.all([
      signIn(t, 'developer'),
      signIn(t, 'customer_support'),
    ]);
  });
  beforeEach(async () => {
    receiver = await WebhookReceiver.start();
  });
  afterEach(async () => {
    // Each test's endpoints hear only its own events.
    await t.db.query('DELETE FROM webhook_endpoints');
    await receiver.stop();
  });
  afterAll(() => t.close());

  const createEndpoint = async (body: object): Promise<Endpoint> =>
    (
      await request(t.http)
        .post('/api/v1/webhook-endpoints')
        .set(developer.header)
        .send(body)
        .expect(201)
    ).body as Endpoint;

  const attemptsOf = (endpointId: string) =>
    allPages<Attempt>(t, `/api/v1/webhook-endpoints/${endpointId}/deliveries`, developer.header);

  const eventsOf = async (customerId: string) =>
    (
      await allPages<EventBody>(t, `/api/v1/events?customer_id=${customerId}`, developer.header)
    ).reverse();

  /** Until no delivery of the endpoint is pending: what it will receive, it has received. */
  const settled = (endpointId: string) =>
    eventually(
      async () => {
        const [{ pending }] = await t.db.query<{ pending: number }[]>(
          `SELECT count(*)::int AS pending FROM webhook_deliveries
            WHERE endpoint_id = $1 AND state = 'pending'`,
          [endpointId],
        );
        return pending === 0 ? true : undefined;
      },
      10_000,
      'every delivery done',
    );

  const receivedAtLeast = (count: number, from: () => Received[] = () => receiver.received) =>
    eventually(
      () => Promise.resolve(from().length >= count ? from() : undefined),
      10_000,
      `${count} deliveries received`,
    );

  it('delivers a disable as hold.placed then customer.disabled, signed, with the bodies of GET /events', async () => {
    const endpoint = await createEndpoint({ url: receiver.url, event_types: ['*'] });
    expect(endpoint).toEqual({
      id: expect.any(String),
      url: receiver.url,
      event_types: ['*'],
      description: null,
      enabled: true,
      secret: expect.stringMatching(/^whsec_[A-Za-z0-9+/]{32}$/),
      created_at: expect.any(String),
    });
    const customer = await createCustomer(t);
    await disableCustomer(t, customer.id, support.header, { reason: 'Webhook test' }).expect(200);

    const got = await receivedAtLeast(2, () => receiver.about(customer.id));
    expect(got.map((r) => r.event.type)).toEqual(['hold.placed', 'customer.disabled']);
    const events = await eventsOf(customer.id);
    expect(events.map((e) => e.type)).toEqual(['hold.placed', 'customer.disabled']);
    for (const [i, delivery] of got.entries()) {
      expect(verifies(delivery, endpoint.secret)).toBe(true);
      expect(delivery.method).toBe('POST');
      expect(delivery.path).toBe('/hooks');
      expect(delivery.headers['content-type']).toBe('application/json');
      expect(delivery.headers['user-agent']).toBe('customer-access-webhooks/1');
      expect(delivery.headers['webhook-id']).toBe(events[i].id);
      expect(Number(delivery.headers['webhook-timestamp'])).toBeCloseTo(Date.now() / 1000, -2);
      expect(delivery.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/=]+$/);
      expect(JSON.parse(delivery.body)).toEqual(events[i]);
    }
    expect(got[1].event.data.customer).toMatchObject({ id: customer.id, status: 'disabled' });
    // Another secret does not verify it.
    const other = await createEndpoint({ url: `${receiver.url}/other`, event_types: ['*'] });
    expect(verifies(got[0], other.secret)).toBe(false);

    await settled(endpoint.id);
    const attempts = await attemptsOf(endpoint.id);
    expect(attempts).toHaveLength(2);
    for (const attempt of attempts) {
      expect(attempt).toMatchObject({
        attempt: 1,
        status_code: 204,
        error: null,
        next_attempt_at: null,
      });
      expect(attempt.delivered_at).not.toBeNull();
    }
    // Newest first.
    expect(attempts.map((a) => a.event_id)).toEqual([events[1].id, events[0].id]);
    // The secret is stored encrypted, never as given.
    const [row] = await t.db.query<{ secret: string }[]>(
      'SELECT secret FROM webhook_endpoints WHERE id = $1',
      [endpoint.id],
    );
    expect(row.secret.startsWith('enc:v1:')).toBe(true);
    expect(row.secret).not.toContain(endpoint.secret.slice('whsec_'.length));
  });

  it('sends each endpoint only the types it subscribes to, and nothing to a disabled one', async () => {
    const enabledOnly = await createEndpoint({
      url: `${receiver.url}/enabled`,
      event_types: ['customer.enabled'],
    });
    const disabledAndHolds = await createEndpoint({
      url: `${receiver.url}/disabled`,
      event_types: ['customer.disabled', 'hold.placed'],
      description: 'CRM',
    });
    const switchedOff = await createEndpoint({
      url: `${receiver.url}/off`,
      event_types: ['*'],
    });
    await request(t.http)
      .patch(`/api/v1/webhook-endpoints/${switchedOff.id}`)
      .set(developer.header)
      .send({ enabled: false })
      .expect(200);
    const customer = await createCustomer(t);
    await disableCustomer(t, customer.id, support.header).expect(200);
    await enableCustomer(t, customer.id, support.header).expect(200);

    await receivedAtLeast(3);
    await settled(enabledOnly.id);
    await settled(disabledAndHolds.id);
    const byPath = (path: string) =>
      receiver.received.filter((r) => r.path === `/hooks${path}`).map((r) => r.event.type);
    expect(byPath('/enabled')).toEqual(['customer.enabled']);
    expect(byPath('/disabled')).toEqual(['hold.placed', 'customer.disabled']);
    expect(byPath('/off')).toEqual([]);
    const [{ count }] = await t.db.query<{ count: number }[]>(
      'SELECT count(*)::int AS count FROM webhook_deliveries WHERE endpoint_id = $1',
      [switchedOff.id],
    );
    expect(count).toBe(0);
  });

  it('retries a failing receiver on the schedule: 500, 500, then 200, three attempts logged, delivered once', async () => {
    receiver.answer = (r) => (r.nth <= 2 ? 500 : 200);
    const endpoint = await createEndpoint({
      url: receiver.url,
      event_types: ['customer.disabled'],
    });
    const customer = await createCustomer(t);
    await disableCustomer(t, customer.id, support.header).expect(200);

    const got = await receivedAtLeast(3);
    await settled(endpoint.id);
    await sleep(300);
    expect(receiver.received).toHaveLength(3);
    const ids = new Set(got.map((r) => r.headers['webhook-id']));
    expect(ids.size).toBe(1);
    for (const delivery of got) expect(verifies(delivery, endpoint.secret)).toBe(true);
    // At least the scheduled 100 ms between attempts.
    expect(got[1].at - got[0].at).toBeGreaterThanOrEqual(90);
    expect(got[2].at - got[1].at).toBeGreaterThanOrEqual(90);

    const attempts = await attemptsOf(endpoint.id);
    expect(attempts.map((a) => [a.attempt, a.status_code, a.error])).toEqual([
      [3, 200, null],
      [2, 500, 'HTTP 500'],
      [1, 500, 'HTTP 500'],
    ]);
    expect(attempts[0].delivered_at).not.toBeNull();
    expect(attempts[0].next_attempt_at).toBeNull();
    for (const failed of attempts.slice(1)) {
      expect(failed.delivered_at).toBeNull();
      expect(failed.next_attempt_at).not.toBeNull();
    }
    const [delivery] = await t.db.query<{ state: string; attempts: number; last_error: null }[]>(
      'SELECT state, attempts, last_error FROM webhook_deliveries WHERE endpoint_id = $1',
      [endpoint.id],
    );
    expect(delivery).toEqual({ state: 'delivered', attempts: 3, last_error: null });
  });

  it('gives up after the last retry: four attempts, the delivery failed', async () => {
    receiver.answer = () => 503;
    const endpoint = await createEndpoint({
      url: receiver.url,
      event_types: ['customer.disabled'],
    });
    const customer = await createCustomer(t);
    await disableCustomer(t, customer.id, support.header).expect(200);
    await settled(endpoint.id);
    const attempts = await attemptsOf(endpoint.id);
    expect(attempts.map((a) => a.attempt)).toEqual([4, 3, 2, 1]);
    expect(attempts[0]).toMatchObject({ status_code: 503, next_attempt_at: null });
    const [delivery] = await t.db.query<{ state: string; last_error: string }[]>(
      'SELECT state, last_error FROM webhook_deliveries WHERE endpoint_id = $1',
      [endpoint.id],
    );
    expect(delivery).toEqual({ state: 'failed', last_error: 'HTTP 503' });
  });

  it('logs a refused connection as a failed attempt without a status', async () => {
    const closed = await WebhookReceiver.start();
    await closed.stop();
    const endpoint = await createEndpoint({ url: closed.url, event_types: ['customer.disabled'] });
    const customer = await createCustomer(t);
    await disableCustomer(t, customer.id, support.header).expect(200);
    await settled(endpoint.id);
    const attempts = await attemptsOf(endpoint.id);
    expect(attempts).toHaveLength(4);
    for (const attempt of attempts) {
      expect(attempt).toMatchObject({ status_code: null, error: 'connection refused' });
    }
  });

  it('fails the pending deliveries of an endpoint disabled before they went out', async () => {
    const endpoint = await createEndpoint({
      url: receiver.url,
      event_types: ['customer.disabled'],
    });
    receiver.answer = () => 500;
    const customer = await createCustomer(t);
    await disableCustomer(t, customer.id, support.header).expect(200);
    await receivedAtLeast(1);
    await request(t.http)
      .patch(`/api/v1/webhook-endpoints/${endpoint.id}`)
      .set(developer.header)
      .send({ enabled: false })
      .expect(200);
    await settled(endpoint.id);
    const attempts = await attemptsOf(endpoint.id);
    expect(attempts[0]).toMatchObject({ error: 'endpoint disabled', status_code: null });
    expect(receiver.received.length).toBeLessThan(4);
  });

  it('sends a test event to its endpoint only', async () => {
    const target = await createEndpoint({
      url: `${receiver.url}/target`,
      event_types: ['hold.placed'],
    });
    const bystander = await createEndpoint({
      url: `${receiver.url}/bystander`,
      event_types: ['*'],
    });
    const response = await request(t.http)
      .post(`/api/v1/webhook-endpoints/${target.id}/test`)
      .set(developer.header)
      .expect(202);
    const eventId = response.body.event_id as string;
    const [got] = await receivedAtLeast(1);
    expect(got.path).toBe('/hooks/target');
    expect(got.headers['webhook-id']).toBe(eventId);
    expect(got.event).toEqual({
      id: eventId,
      type: 'webhook.test',
      created_at: expect.any(String),
      data: { test: true },
    });
    expect(verifies(got, target.secret)).toBe(true);
    await settled(target.id);
    await settled(bystander.id);
    expect(receiver.received).toHaveLength(1);
    const [{ count }] = await t.db.query<{ count: number }[]>(
      'SELECT count(*)::int AS count FROM webhook_deliveries WHERE event_id = $1',
      [eventId],
    );
    expect(count).toBe(1);
    const feed = await request(t.http)
      .get('/api/v1/events?type=webhook.test')
      .set(developer.header)
      .expect(200);
    expect(feed.body.data[0]).toEqual(got.event);
  });

  it('redelivers an event to an endpoint on request, with the same webhook-id', async () => {
    const endpoint = await createEndpoint({
      url: receiver.url,
      event_types: ['customer.disabled'],
    });
    const customer = await createCustomer(t);
    await disableCustomer(t, customer.id, support.header).expect(200);
    const [first] = await receivedAtLeast(1);
    const eventId = first.headers['webhook-id'];
    await settled(endpoint.id);

    await request(t.http)
      .post(`/api/v1/events/${eventId}/redeliver`)
      .set(developer.header)
      .send({ endpoint_id: endpoint.id })
      .expect(202);
    const [, second] = await receivedAtLeast(2);
    expect(second.headers['webhook-id']).toBe(eventId);
    expect(second.body).toBe(first.body);
    expect(verifies(second, endpoint.secret)).toBe(true);
    await settled(endpoint.id);
    const attempts = await attemptsOf(endpoint.id);
    expect(attempts.map((a) => [a.event_id, a.attempt, a.status_code])).toEqual([
      [eventId, 1, 204],
      [eventId, 1, 204],
    ]);

    // A type the endpoint does not subscribe to may be redelivered too.
    const [hold] = (await eventsOf(customer.id)).filter((e) => e.type === 'hold.placed');
    await request(t.http)
      .post(`/api/v1/events/${hold.id}/redeliver`)
      .set(developer.header)
      .send({ endpoint_id: endpoint.id })
      .expect(202);
    const [, , third] = await receivedAtLeast(3);
    expect(third.event.type).toBe('hold.placed');
  });

  it('rotates a secret: both sign for 24 hours, then only the new one', async () => {
    const endpoint = await createEndpoint({ url: receiver.url, event_types: ['webhook.test'] });
    const rotated = await request(t.http)
      .post(`/api/v1/webhook-endpoints/${endpoint.id}/rotate-secret`)
      .set(developer.header)
      .expect(200);
    expect(rotated.body).toEqual({ secret: expect.stringMatching(/^whsec_/) });
    const newSecret = rotated.body.secret as string;
    expect(newSecret).not.toBe(endpoint.secret);

    const sendTest = () =>
      request(t.http)
        .post(`/api/v1/webhook-endpoints/${endpoint.id}/test`)
        .set(developer.header)
        .expect(202);
    await sendTest();
    const [during] = await receivedAtLeast(1);
    expect(during.headers['webhook-signature']).toMatch(/^v1,\S+ v1,\S+$/);
    expect(verifies(during, newSecret)).toBe(true);
    expect(verifies(during, endpoint.secret)).toBe(true);

    clock.advance(DAY_MS - 60_000);
    await sendTest();
    const [, nearlyADay] = await receivedAtLeast(2);
    expect(verifies(nearlyADay, endpoint.secret)).toBe(true);

    clock.advance(60_000 + 1000);
    await sendTest();
    const [, , after] = await receivedAtLeast(3);
    expect(after.headers['webhook-signature']).toMatch(/^v1,\S+$/);
    expect(verifies(after, newSecret)).toBe(true);
    expect(verifies(after, endpoint.secret)).toBe(false);
  });

  it('lists endpoints newest first, pages them, and never shows a secret again', async () => {
    const created: Endpoint[] = [];
    for (let i = 0; i < 3; i += 1) {
      created.push(
        await createEndpoint({
          url: `${receiver.url}/${i}`,
          event_types: ['*'],
          description: `#${i}`,
        }),
      );
    }
    const first = await request(t.http)
      .get('/api/v1/webhook-endpoints?limit=2')
      .set(developer.header)
      .expect(200);
    expect(first.body.data.map((e: Endpoint) => e.id)).toEqual([created[2].id, created[1].id]);
    const second = await request(t.http)
      .get(`/api/v1/webhook-endpoints?limit=2&cursor=${first.body.next_cursor}`)
      .set(developer.header)
      .expect(200);
    expect(second.body).toEqual({
      data: [
        {
          id: created[0].id,
          url: `${receiver.url}/0`,
          event_types: ['*'],
          description: '#0',
          enabled: true,
          created_at: created[0].created_at,
        },
      ],
      next_cursor: null,
    });

    const patched = await request(t.http)
      .patch(`/api/v1/webhook-endpoints/${created[0].id}`)
      .set(developer.header)
      .send({ event_types: ['customer.enabled', 'customer.disabled'], description: null })
      .expect(200);
    expect(patched.body).toEqual({
      ...second.body.data[0],
      event_types: ['customer.enabled', 'customer.disabled'],
      description: null,
    });
    const rotated = await request(t.http)
      .post(`/api/v1/webhook-endpoints/${created[1].id}/rotate-secret`)
      .set(developer.header)
      .expect(200);

    const secrets = [...created.map((e) => e.secret), rotated.body.secret as string];
    const answers = [
      JSON.stringify(first.body),
      JSON.stringify(second.body),
      JSON.stringify(patched.body),
      JSON.stringify(
        (await request(t.http).get('/api/v1/webhook-endpoints').set(developer.header)).body,
      ),
    ];
    for (const answer of answers) {
      expect(answer).not.toContain('secret');
      for (const secret of secrets) {
        expect(answer).not.toContain(secret.slice('whsec_'.length, 20));
      }
    }

    await request(t.http)
      .delete(`/api/v1/webhook-endpoints/${created[2].id}`)
      .set(developer.header)
      .expect(204);
    const after = await allPages<Endpoint>(t, '/api/v1/webhook-endpoints', developer.header);
    expect(after.map((e) => e.id)).toEqual([created[1].id, created[0].id]);
  });

  describe('refuses bad input and changes nothing', () => {
    const TABLES = ['webhook_endpoints', 'webhook_deliveries', 'webhook_attempts', 'events'];
    let endpoint: Endpoint;
    let before: Record<string, number>;

    beforeEach(async () => {
      endpoint = await createEndpoint({ url: receiver.url, event_types: ['customer.disabled'] });
      before = await countRows(t, TABLES);
    });
    afterEach(async () => {
      expect(await countRows(t, TABLES)).toEqual(before);
      const [row] = await t.db.query<{ url: string; event_types: string[]; description: null }[]>(
        'SELECT url, event_types, description FROM webhook_endpoints WHERE id = $1',
        [endpoint.id],
      );
      expect(row).toEqual({
        url: receiver.url,
        event_types: ['customer.disabled'],
        description: null,
      });
    });

    const invalid: [string, object, string][] = [
      ['no url', { event_types: ['*'] }, 'url'],
      ['a url that is no URL', { url: 'not a url', event_types: ['*'] }, 'url'],
      ['a relative url', { url: '/hooks', event_types: ['*'] }, 'url'],
      ['a url without a scheme', { url: 'hooks.example.com/in', event_types: ['*'] }, 'url'],
      ['an ftp url', { url: 'ftp://example.com/in', event_types: ['*'] }, 'url'],
      ['a javascript: url', { url: 'javascript:alert(1)', event_types: ['*'] }, 'url'],
      [
        'credentials in the url',
        { url: 'https://user:secret@example.com/in', event_types: ['*'] },
        'url',
      ],
      [
        'a url over 2000 characters',
        { url: `https://example.com/${'a'.repeat(2000)}`, event_types: ['*'] },
        'url',
      ],
      ['a url that is not a string', { url: 42, event_types: ['*'] }, 'url'],
      ['no event types', { url: 'https://example.com/in' }, 'event_types'],
      ['an empty list of types', { url: 'https://example.com/in', event_types: [] }, 'event_types'],
      [
        'an unknown event type',
        { url: 'https://example.com/in', event_types: ['customer.deleted'] },
        'event_types',
      ],
      [
        '* with other types',
        { url: 'https://example.com/in', event_types: ['*', 'customer.disabled'] },
        'event_types',
      ],
      [
        'a type twice',
        { url: 'https://example.com/in', event_types: ['hold.placed', 'hold.placed'] },
        'event_types',
      ],
      [
        'types that are not a list',
        { url: 'https://example.com/in', event_types: 'customer.disabled' },
        'event_types',
      ],
      [
        'a description over 500 characters',
        { url: 'https://example.com/in', event_types: ['*'], description: 'x'.repeat(501) },
        'description',
      ],
      [
        'an unknown field',
        { url: 'https://example.com/in', event_types: ['*'], secret: 'whsec_x' },
        'secret',
      ],
    ];

    it.each(invalid)('creating with %s: 400 validation_failed', async (_name, body, field) => {
      const response = await request(t.http)
        .post('/api/v1/webhook-endpoints')
        .set(developer.header)
        .send(body)
        .expect(400);
      expect(response.body.code).toBe('validation_failed');
      expect(response.body.errors.map((e: { field: string }) => e.field)).toContain(field);
    });

    it.each(invalid.filter(([, body]) => 'url' in body && 'event_types' in body))(
      'patching with %s: 400 validation_failed',
      async (_name, body, field) => {
        const response = await request(t.http)
          .patch(`/api/v1/webhook-endpoints/${endpoint.id}`)
          .set(developer.header)
          .send(body)
          .expect(400);
        expect(response.body.code).toBe('validation_failed');
        expect(response.body.errors.map((e: { field: string }) => e.field)).toContain(field);
      },
    );

    it.each([
      ['patching', 'patch', (id: string) => `/api/v1/webhook-endpoints/${id}`, { enabled: false }],
      ['deleting', 'delete', (id: string) => `/api/v1/webhook-endpoints/${id}`, undefined],
      [
        'rotating',
        'post',
        (id: string) => `/api/v1/webhook-endpoints/${id}/rotate-secret`,
        undefined,
      ],
      ['testing', 'post', (id: string) => `/api/v1/webhook-endpoints/${id}/test`, undefined],
      [
        'listing the deliveries of',
        'get',
        (id: string) => `/api/v1/webhook-endpoints/${id}/deliveries`,
        undefined,
      ],
    ] as const)(
      '%s an unknown endpoint: 404, a malformed id: 400',
      async (_name, method, path, body) => {
        const agent = request(t.http);
        const unknown = await agent[method](path(UNKNOWN_ID)).set(developer.header).send(body);
        expect(unknown.status).toBe(404);
        expect(unknown.body.code).toBe('not_found');
        const malformed = await agent[method](path(MALFORMED_ID)).set(developer.header).send(body);
        expect(malformed.status).toBe(400);
        expect(malformed.body.code).toBe('validation_failed');
      },
    );

    it('redelivering an unknown event or to an unknown endpoint: 404; malformed: 400', async () => {
      const customer = await createCustomer(t);
      await disableCustomer(t, customer.id, support.header).expect(200);
      const [event] = await eventsOf(customer.id);
      await settled(endpoint.id);
      before = await countRows(t, TABLES);
      const redeliver = (eventId: string, body: object) =>
        request(t.http)
          .post(`/api/v1/events/${eventId}/redeliver`)
          .set(developer.header)
          .send(body);
      const unknownEvent = await redeliver(UNKNOWN_ID, { endpoint_id: endpoint.id }).expect(404);
      expect(unknownEvent.body.code).toBe('not_found');
      const unknownEndpoint = await redeliver(event.id, { endpoint_id: UNKNOWN_ID }).expect(404);
      expect(unknownEndpoint.body.code).toBe('not_found');
      for (const [eventId, body] of [
        [MALFORMED_ID, { endpoint_id: endpoint.id }],
        [event.id, { endpoint_id: MALFORMED_ID }],
        [event.id, {}],
      ] as const) {
        const response = await redeliver(eventId, body).expect(400);
        expect(response.body.code).toBe('validation_failed');
      }
    });

    it('a developer role at least: 403 for an account manager', async () => {
      const manager = await signIn(t, 'account_manager');
      const response = await request(t.http)
        .post('/api/v1/webhook-endpoints')
        .set(manager.header)
        .send({ url: 'https://example.com/in', event_types: ['*'] })
        .expect(403);
      expect(response.body.code).toBe('forbidden');
    });
  });
});
