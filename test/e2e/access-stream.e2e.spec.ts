import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { AccessStream } from '../../src/access-stream/access-stream';
import { CustomerChangeFeed } from '../../src/changes/customer-change-feed';
import { CUSTOMER_CHANGES_CHANNEL } from '../../src/changes/customer-changes';
import { createApiKey, TestApiKey } from '../support/api-keys';
import { DatabaseProxy } from '../support/database-proxy';
import { dataOf, EventStreamReader, ReceivedEvent } from '../support/event-stream';
import { createCustomer, signIn, StaffSession } from '../support/factories';
import { disableCustomer, enableCustomer } from '../support/holds';
import { createPlan } from '../support/plans';
import { startTestApp, TestApp } from '../support/test-app';
import { onEmbeddedDatabase } from '../support/test-env';
import { UnitOfWork } from '../../src/database/unit-of-work';
import { CustomerChanges } from '../../src/changes/customer-changes';

const HEARTBEAT_MS = 200;
/** Room for a busy two-core machine: far above the period, far below "never". */
const GENEROUS_MS = 5000;
const STREAM = '/api/v1/access/stream';

async function listen(t: TestApp): Promise<string> {
  await t.app.listen(0, '127.0.0.1');
  return `http://127.0.0.1:${(t.app.getHttpServer().address() as AddressInfo).port}`;
}

const isChangeOf = (customerId: string) => (e: ReceivedEvent) =>
  e.event === 'changed' && dataOf(e).customer_id === customerId;

// The embedded engine (PGlite) delivers no NOTIFY between connections and serves one instance.
const describeOnPostgres = onEmbeddedDatabase() ? describe.skip : describe;
const itOnPostgres = onEmbeddedDatabase() ? it.skip : it;

describe('GET /access/stream', () => {
  let t: TestApp;
  let url: string;
  let platform: TestApiKey;
  let support: StaffSession;
  let developer: StaffSession;
  const open: EventStreamReader[] = [];

  async function stream(headers: Record<string, string> = platform.header, base = url) {
    const reader = await EventStreamReader.open(`${base}${STREAM}`, headers);
    open.push(reader);
    return reader;
  }

  beforeAll(async () => {
    t = await startTestApp({ STREAM_HEARTBEAT_MS: String(HEARTBEAT_MS) });
    url = await listen(t);
    platform = await createApiKey(t);
    [support, developer] = await Promise.all([
      signIn(t, 'customer_support'),
      signIn(t, 'developer'),
    ]);
  });
  afterEach(() => {
    for (const reader of open.splice(0)) reader.close();
  });
  afterAll(() => t.close());

  it('refuses no credentials (401), staff of any role and a customer key (403), and opens nothing', async () => {
    const before = t.app.get(AccessStream).connected;
    const admin = await signIn(t, 'admin');
    const customerKey = await createApiKey(t, (await createCustomer(t)).id);
    const cases: [Record<string, string>, number, string][] = [
      [{}, 401, 'unauthenticated'],
      [{ 'X-API-Key': `ca_${'x'.repeat(43)}` }, 401, 'unauthenticated'],
      [admin.header, 403, 'forbidden'],
      [support.header, 403, 'forbidden'],
      [customerKey.header, 403, 'forbidden'],
    ];
    for (const [headers, status, code] of cases) {
      const reader = await stream(headers);
      expect(reader.status).toBe(status);
      expect(reader.response.headers['content-type']).toContain('application/problem+json');
      expect(JSON.parse(await reader.body())).toMatchObject({ status, code });
    }
    expect(t.app.get(AccessStream).connected).toBe(before);
  });

  it('opens with a reset, then sends a heartbeat at least every STREAM_HEARTBEAT_MS', async () => {
    const reader = await stream();
    expect(reader.status).toBe(200);
    expect(reader.response.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(reader.response.headers['cache-control']).toBe('no-store');
    expect(reader.response.headers['x-request-id']).toEqual(expect.any(String));
    expect(reader.response.headers['x-content-type-options']).toBe('nosniff');

    await reader.until(() => reader.of('heartbeat').length >= 6, GENEROUS_MS, '6 heartbeats');
    // A new stream knows nothing of what the client holds: it starts with a reset.
    expect(reader.events[0]).toMatchObject({ event: 'reset' });
    expect(dataOf(reader.events[0]).reason).toBe('new_stream');
    const beats = reader.of('heartbeat');
    // The first comes at once; the gaps stay near the period (generously bounded).
    expect(beats[0].at - reader.events[0].at).toBeLessThan(1000);
    for (let i = 1; i < beats.length; i += 1) {
      expect(beats[i].at - beats[i - 1].at).toBeLessThan(HEARTBEAT_MS + 1000);
    }
    for (const beat of beats) {
      expect(beat.id).toMatch(/^[\w-]+:\d+$/);
      expect(Date.parse(dataOf(beat).at)).not.toBeNaN();
    }
  });

  it('sends changed for a disable and an enable made through this instance, with ids that grow', async () => {
    const customer = await createCustomer(t);
    const reader = await stream();
    await reader.next((e) => e.event === 'heartbeat');
    const before = Date.now();
    await disableCustomer(t, customer.id, support.header).expect(200);
    const disabled = await reader.next(isChangeOf(customer.id));
    await enableCustomer(t, customer.id, support.header).expect(200);
    const from = reader.events.indexOf(disabled) + 1;
    const enabled = await reader.next(isChangeOf(customer.id), { from });

    expect(dataOf(disabled)).toEqual({ customer_id: customer.id, at: expect.any(String) });
    expect(Date.parse(dataOf(disabled).at)).toBeGreaterThanOrEqual(before - 1000);
    const [instance, n] = disabled.id!.split(':');
    const [sameInstance, later] = enabled.id!.split(':');
    expect(sameInstance).toBe(instance);
    expect(Number(later)).toBeGreaterThan(Number(n));
    // Nothing about other customers' changes is invented: every changed names a real change.
    expect(reader.of('changed').every((e) => dataOf(e).customer_id === customer.id)).toBe(true);
  });

  it('sends reset (everything_changed) on a change to every customer, and none for a revoked key', async () => {
    const reader = await stream();
    await reader.next((e) => e.event === 'heartbeat');
    const from = reader.events.length;
    // Keys have a cache of their own: revoking one changes no customer's limits.
    const doomed = await createApiKey(t);
    await request(t.http).delete(`/api/v1/api-keys/${doomed.id}`).set(developer.header).expect(204);
    const everything = () =>
      reader.events
        .slice(from)
        .filter((e) => e.event === 'reset' && dataOf(e).reason === 'everything_changed');
    // A heartbeat proves every change committed before it was sent has been told.
    await reader.next((e) => e.event === 'heartbeat', { from: reader.events.length });
    expect(everything()).toEqual([]);

    await t.app.get(UnitOfWork).run(() => t.app.get(CustomerChanges).changed(null));
    await reader.next((e) => e.event === 'reset', { from });
    expect(everything().length).toBeGreaterThanOrEqual(1);
  });

  it('replays what a client missed when it resumes with Last-Event-ID, and nothing it had', async () => {
    const [first, second, third] = await Promise.all([1, 2, 3].map(() => createCustomer(t)));
    const reader = await stream();
    await disableCustomer(t, first.id, support.header).expect(200);
    const seen = await reader.next(isChangeOf(first.id));
    reader.close();
    const seenN = Number(seen.id!.split(':')[1]);

    await disableCustomer(t, second.id, support.header).expect(200);
    await disableCustomer(t, third.id, support.header).expect(200);
    const resumed = await stream({ ...platform.header, 'Last-Event-ID': seen.id! });
    await resumed.next(isChangeOf(third.id));
    await resumed.next((e) => e.event === 'heartbeat');
    const changedIds = resumed.of('changed').map((e) => dataOf(e).customer_id);
    expect(changedIds).toContain(second.id);
    expect(changedIds.indexOf(second.id)).toBeLessThan(changedIds.indexOf(third.id));
    expect(resumed.of('reset')).toEqual([]);
    // Only events after the one it had (a change made here is told twice: once by this instance
    // after its commit, once by PostgreSQL's NOTIFY; both are real announcements of it).
    const numbers = resumed.events.filter((e) => e.event === 'changed').map((e) => e.id!);
    for (const id of numbers) expect(Number(id.split(':')[1])).toBeGreaterThan(seenN);
    expect(numbers).toEqual(
      [...numbers].sort((x, y) => Number(x.split(':')[1]) - Number(y.split(':')[1])),
    );

    // A heartbeat's id is the latest event's: resuming from it replays nothing.
    const beatAt = resumed.events.findLastIndex((e) => e.event === 'heartbeat');
    const beat = resumed.events[beatAt];
    const latest = resumed.events.slice(0, beatAt).findLast((e) => e.event !== 'heartbeat');
    expect(beat.id).toBe(latest!.id);
    resumed.close();
    const caughtUp = await stream({ ...platform.header, 'Last-Event-ID': beat.id! });
    await caughtUp.next((e) => e.event === 'heartbeat');
    // Nothing replayed, no reset: at most PostgreSQL's late echo of a change it already heard
    // (told live, after the heartbeat, with a new id).
    const after = caughtUp.events.filter((e) => e.event !== 'heartbeat');
    expect(after.filter((e) => e.event !== 'changed')).toEqual([]);
    for (const echo of after) {
      expect([first.id, second.id, third.id]).toContain(dataOf(echo).customer_id);
      expect(Number(echo.id!.split(':')[1])).toBeGreaterThan(Number(beat.id!.split(':')[1]));
    }
  });

  it.each([
    ['an id of another instance', 'someOtherInstance:3'],
    ['an id from the future', 'SELF:999999999'],
    ['garbage', 'not an id'],
  ])('answers %s in Last-Event-ID with a reset (unknown_event_id)', async (_case, given) => {
    const instance = t.app.get(AccessStream).instanceId;
    const reader = await stream({
      ...platform.header,
      'Last-Event-ID': given.replace('SELF', instance),
    });
    const reset = await reader.next((e) => e.event === 'reset');
    expect(reader.events[0]).toBe(reset);
    expect(dataOf(reset).reason).toBe('unknown_event_id');
    expect(reset.id).toBe(t.app.get(AccessStream).lastEventId);
  });

  itOnPostgres(
    'leaves out events for a client too far behind, then sends it a reset for them',
    async () => {
      const accessStream = t.app.get(AccessStream);
      const reader = await stream();
      await reader.next((e) => e.event === 'heartbeat');
      const from = reader.events.length;
      const before = accessStream.stats;

      // 100,000 changes at once, committed by another connection.
      await t.asOwner(
        `SELECT pg_notify($1, gen_random_uuid()::text) FROM generate_series(1, 100000)`,
        [CUSTOMER_CHANGES_CHANNEL],
      );
      // The reader shares this process with the server, so the burst outruns it: it gets what was
      // written before it fell MAX_UNREAD_BYTES behind, then a reset standing for the rest.
      const reset = await reader.next((e) => e.event === 'reset', { from, timeoutMs: 30_000 });
      expect(dataOf(reset).reason).toBe('fell_behind');
      expect(accessStream.stats.fellBehind).toBeGreaterThan(before.fellBehind);
      const written = reader.events.slice(from, reader.events.indexOf(reset));
      const changed = written.filter((e) => e.event === 'changed');
      expect(changed.length).toBeGreaterThan(0);
      expect(changed.length).toBeLessThan(100_000);
      expect(written.every((e) => e.event === 'changed' || e.event === 'heartbeat')).toBe(true);
      // It stays connected, and heartbeats (which waited while it was behind) come again.
      await reader.next((e) => e.event === 'heartbeat', { from: reader.events.indexOf(reset) });
      expect(reader.closed).toBe(false);
      expect(accessStream.stats.cutOff).toBe(before.cutOff);
    },
    60_000,
  );

  itOnPostgres('ends every stream when the app shuts down, promptly', async () => {
    const other = await startTestApp(
      { STREAM_HEARTBEAT_MS: String(HEARTBEAT_MS) },
      {
        database: { ...t.database, drop: () => Promise.resolve() },
      },
    );
    const otherUrl = await listen(other);
    const readers = await Promise.all([1, 2, 3].map(() => stream(platform.header, otherUrl)));
    for (const reader of readers) await reader.next((e) => e.event === 'heartbeat');
    const started = performance.now();
    await other.close();
    const took = performance.now() - started;
    for (const reader of readers) await reader.until(() => reader.closed, 1000, 'the end');
    expect(took).toBeLessThan(GENEROUS_MS);
  });
});

describeOnPostgres('GET /access/stream with two instances and a change feed that hangs', () => {
  let a: TestApp;
  let b: TestApp;
  let urlA: string;
  let platform: TestApiKey;
  let support: StaffSession;
  const open: EventStreamReader[] = [];

  beforeAll(async () => {
    a = await startTestApp({ STREAM_HEARTBEAT_MS: String(HEARTBEAT_MS) });
    b = await startTestApp({}, { database: a.database });
    urlA = await listen(a);
    platform = await createApiKey(a);
    support = await signIn(a, 'customer_support');
  });
  afterEach(() => {
    for (const reader of open.splice(0)) reader.close();
  });
  afterAll(async () => {
    await b.close();
    await a.close();
  });

  it('sends changed on one instance for a disable made through the other', async () => {
    const customer = await createCustomer(a);
    const reader = await EventStreamReader.open(`${urlA}${STREAM}`, platform.header);
    open.push(reader);
    await reader.next((e) => e.event === 'heartbeat');
    await disableCustomer(b, customer.id, support.header).expect(200);
    const changed = await reader.next(isChangeOf(customer.id), { timeoutMs: GENEROUS_MS });
    expect(changed.id!.split(':')[0]).toBe(a.app.get(AccessStream).instanceId);
    // An id of instance A means nothing to instance B: a client switching over gets a reset.
    const onB = await EventStreamReader.open(`${await listen(b)}${STREAM}`, {
      ...platform.header,
      'Last-Event-ID': changed.id!,
    });
    open.push(onB);
    expect(dataOf(await onB.next((e) => e.event === 'reset'))).toMatchObject({
      reason: 'unknown_event_id',
    });
  });

  // A change to the holds alone (applied by the limits store from memory, its NOTIFY skipped) and
  // a change to the subscriptions (read again when its NOTIFY comes back): both heard twice.
  const ownChanges: [string, (t: TestApp, customerId: string) => Promise<unknown>, string][] = [
    ['a disable', (t, id) => disableCustomer(t, id, support.header).expect(200), 'disabled'],
    [
      'a subscription',
      async (t, id) =>
        request(t.http)
          .post(`/api/v1/customers/${id}/subscriptions`)
          .set(platform.header)
          .send({ plan_code: (await createPlan(a)).code })
          .expect(201),
      'enabled',
    ],
  ];
  it.each(ownChanges)(
    'announces a change of its own once (%s), as of the answer its limits store gives for it',
    async (_, change, status) => {
      // Its LISTEN connection through a proxy that holds it during the change: the instance's own
      // word of the change comes first, its NOTIFY after (unheld, the load decides the order).
      const proxy = await DatabaseProxy.start(a.database.runtimeUrl);
      const proxied = await startTestApp(
        { STREAM_HEARTBEAT_MS: String(HEARTBEAT_MS) },
        {
          database: {
            url: a.database.url,
            runtimeUrl: proxy.urlFor(a.database.runtimeUrl),
            drop: () => Promise.resolve(),
          },
        },
      );
      try {
        const [customer, marker] = [await createCustomer(a), await createCustomer(a)];
        const reader = await EventStreamReader.open(
          `${await listen(proxied)}${STREAM}`,
          platform.header,
        );
        open.push(reader);
        await reader.next((e) => e.event === 'heartbeat');

        proxy.freezeLatestEndingIn('-listener');
        await change(proxied, customer.id);
        await reader.next(isChangeOf(customer.id), { timeoutMs: GENEROUS_MS });
        proxy.thawLatestEndingIn('-listener');
        // A change through the other instance, heard after the held NOTIFY (commit order).
        await disableCustomer(b, marker.id, support.header).expect(200);
        await reader.next(isChangeOf(marker.id), { timeoutMs: GENEROUS_MS });

        const announced = reader.events.filter(isChangeOf(customer.id));
        expect(announced).toHaveLength(1);
        const limits = await request(proxied.http)
          .get(`/api/v1/customers/${customer.id}/limits`)
          .set(platform.header)
          .expect(200);
        expect(limits.body).toMatchObject({ status });
        // What a client checks before keeping an answer: not computed before the change it heard.
        const asOf = Date.parse((limits.body as { as_of: string }).as_of);
        expect(asOf).toBeGreaterThanOrEqual(Date.parse(dataOf(announced[0]).at));
      } finally {
        await proxied.close();
        await proxy.close();
      }
    },
  );

  it('stops heartbeats while its change feed hangs, and resets when the feed is back', async () => {
    const proxy = await DatabaseProxy.start(a.database.runtimeUrl);
    const proxied = await startTestApp(
      {
        STREAM_HEARTBEAT_MS: String(HEARTBEAT_MS),
        CHANGE_FEED_HEARTBEAT_MS: '100',
        CHANGE_FEED_STALE_MS: '600',
      },
      {
        database: {
          url: a.database.url,
          runtimeUrl: proxy.urlFor(a.database.runtimeUrl),
          drop: () => Promise.resolve(),
        },
      },
    );
    try {
      const feed = proxied.app.get(CustomerChangeFeed);
      const reader = await EventStreamReader.open(
        `${await listen(proxied)}${STREAM}`,
        platform.header,
      );
      open.push(reader);
      await reader.next((e) => e.event === 'heartbeat');
      expect(feed.live).toBe(true);

      proxy.freezeLatestEndingIn('-listener');
      const frozenAt = reader.events.length;
      // The feed gives up on the hung connection: a reset says what was held may be stale.
      const lost = await reader.next((e) => e.event === 'reset', {
        from: frozenAt,
        timeoutMs: GENEROUS_MS,
      });
      expect(dataOf(lost).reason).toBe('feed_interrupted');
      const lostAt = reader.events.indexOf(lost);
      // It reconnects (a new connection, not frozen): reset again, then heartbeats resume.
      const back = await reader.next((e) => e.event === 'reset', {
        from: lostAt + 1,
        timeoutMs: 15_000,
      });
      expect(dataOf(back).reason).toBe('feed_interrupted');
      const backAt = reader.events.indexOf(back);
      await reader.next((e) => e.event === 'heartbeat', { from: backAt });
      // Between losing the feed and getting it back, no heartbeat vouched for anything.
      const between = reader.events.slice(lostAt + 1, backAt);
      expect(between.filter((e) => e.event === 'heartbeat')).toEqual([]);
      expect(feed.live).toBe(true);
    } finally {
      await proxied.close();
      await proxy.close();
    }
  }, 40_000);
});
