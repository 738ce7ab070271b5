import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { createApiKey, TestApiKey } from '../../../test/support/api-keys';
import { createCustomer, signIn, StaffSession } from '../../../test/support/factories';
import { disableCustomer, enableCustomer, iso, sleep } from '../../../test/support/holds';
import { createFeature, createPlan, createSubscription } from '../../../test/support/plans';
import { DatabaseProxy } from '../../../test/support/database-proxy';
import { TcpProxy } from '../../../test/support/tcp-proxy';
import { startTestApp, TestApp } from '../../../test/support/test-app';
import { onEmbeddedDatabase } from '../../../test/support/test-env';
import {
  AccessClient,
  AccessClientError,
  type AccessClientOptions,
  createRestClient,
} from '../src';
import { CustomerChanges } from '../../../src/changes/customer-changes';
import { UnitOfWork } from '../../../src/database/unit-of-work';

/** The service beats often here, so that a test waits little for "current" again. */
const SERVICE_ENV = {
  STREAM_HEARTBEAT_MS: '100',
  // Hold boundaries are then announced by nobody during a test: the client's own expiry shows.
  HOLD_SCHEDULER_INTERVAL_MS: '60000',
};
/** Far above what a change takes to arrive, far below "never". */
const GENEROUS_MS = 3000;
const STREAM = /^GET \/api\/v1\/access\/stream/;

async function listen(t: TestApp): Promise<string> {
  await t.app.listen(0, '127.0.0.1');
  return `http://127.0.0.1:${(t.app.getHttpServer().address() as AddressInfo).port}`;
}

async function waitFor(probe: () => boolean | Promise<boolean>, timeoutMs: number, what: string) {
  const started = performance.now();
  while (!(await probe())) {
    if (performance.now() - started > timeoutMs)
      throw new Error(`${what}: not after ${timeoutMs} ms`);
    await sleep(5);
  }
  return performance.now() - started;
}

// Two instances need NOTIFY between connections, which the embedded engine does not deliver.
const onPostgres = !onEmbeddedDatabase();
const itOnPostgres = onPostgres ? it : it.skip;

describe('AccessClient against the service', () => {
  let a: TestApp;
  let b: TestApp | undefined;
  let urlA: string;
  let platform: TestApiKey;
  let support: StaffSession;
  let feature: string;
  let planId: string;
  const clients: AccessClient[] = [];
  const proxies: TcpProxy[] = [];

  beforeAll(async () => {
    a = await startTestApp(SERVICE_ENV);
    urlA = await listen(a);
    if (onPostgres) b = await startTestApp(SERVICE_ENV, { database: a.database });
    platform = await createApiKey(a);
    support = await signIn(a, 'customer_support');
    feature = (await createFeature(a)).code;
    planId = (await createPlan(a, { grants: { [feature]: 10 }, userCount: 3 })).id;
  });
  afterEach(async () => {
    for (const client of clients.splice(0)) await client.close();
    for (const proxy of proxies.splice(0)) await proxy.close();
  });
  afterAll(async () => {
    await b?.close();
    await a.close();
  });

  async function connected(options: Partial<AccessClientOptions> = {}): Promise<AccessClient> {
    const client = new AccessClient({
      baseUrl: urlA,
      apiKey: platform.key,
      staleAfterMs: 1000,
      ...options,
    });
    clients.push(client);
    await client.ready();
    return client;
  }

  /**
   * An enabled customer with a subscription granting `feature`, committed together. These writes
   * go straight to the database, unannounced (the service's own writes announce themselves), and
   * after the reset test both instances load every customer again: a load that read between two
   * commits kept the customer without its plans, which a disable's answer hid until its hold
   * ended ("enabled", no features: a failure in CI).
   */
  async function subscriber(): Promise<string> {
    return a.db.transaction(async (db) => {
      const customer = await createCustomer({ db });
      await createSubscription({ db }, customer.id, planId);
      return customer.id;
    });
  }

  /** Loads the customer into the client's cache; afterwards checks are synchronous. */
  async function cache(client: AccessClient, customerId: string): Promise<void> {
    await client.limits(customerId);
    expect(typeof client.isAllowed(customerId, feature)).toBe('boolean');
  }

  it('has a typed REST client: openapi-fetch over the types generated from openapi.json', async () => {
    const api = createRestClient({ baseUrl: `${urlA}/`, apiKey: platform.key });
    const customerId = await subscriber();
    const limits = await api.GET('/api/v1/customers/{id}/limits', {
      params: { path: { id: customerId } },
    });
    expect(limits.response.status).toBe(200);
    expect(limits.data).toMatchObject({ customer_id: customerId, status: 'enabled' });
    const disabled = await api.POST('/api/v1/customers/{id}/disable', {
      params: { path: { id: customerId } },
      body: { reason: 'Typed client', reason_code: 'other' },
    });
    expect(disabled.data?.status).toBe('disabled');
    const refused = await createRestClient({ baseUrl: urlA }).GET('/api/v1/customers/{id}', {
      params: { path: { id: customerId } },
    });
    expect(refused.response.status).toBe(401);
    expect(refused.error).toMatchObject({ code: 'unauthenticated' });
  });

  it('answers limits and isAllowed from its cache once loaded, without asking again', async () => {
    const client = await connected();
    const customerId = await subscriber();
    const first = client.limits(customerId);
    expect(first).toBeInstanceOf(Promise); // nothing cached yet: it asks the service
    const answer = await first;
    const fromRest = await request(a.http)
      .get(`/api/v1/customers/${customerId}/limits`)
      .set(platform.header)
      .expect(200);
    expect({ ...answer, as_of: undefined }).toEqual({
      ...fromRest.body,
      as_of: undefined,
      stale: false,
    });
    expect(answer).toMatchObject({ status: 'enabled', user_count: 3, features: [feature] });
    const requests = client.stats().requests;

    // From memory now: plain values, not promises, and no request.
    expect(client.isAllowed(customerId, feature)).toBe(true);
    expect(client.isAllowed(customerId, 'not_granted')).toBe(false);
    expect(client.check(customerId, feature)).toEqual({
      allowed: true,
      stale: false,
      source: 'cache',
    });
    expect(client.limits(customerId)).toBe(client.limits(customerId)); // the same frozen object
    expect(Object.isFrozen(client.limits(customerId))).toBe(true);
    expect(client.stats()).toMatchObject({ requests, current: true, connected: true, cached: 1 });
    expect(client.stats().hits).toBeGreaterThanOrEqual(5);
  });

  it('allows an unknown customer nothing, and says so without caching it', async () => {
    const client = await connected();
    const unknown = '6f1c1a52-9a43-4d5b-8a55-1b1d2f0c0c0c';
    expect(await client.isAllowed(unknown, feature)).toBe(false);
    expect(await client.isAllowed('not-a-uuid', feature)).toBe(false);
    await expect(client.limits(unknown)).rejects.toMatchObject({ status: 404, code: 'not_found' });
    expect(client.stats().cached).toBe(0);
  });

  it('hears a disable made through the service within a short time, and the enable after it', async () => {
    const client = await connected();
    const customerId = await subscriber();
    await cache(client, customerId);

    await disableCustomer(a, customerId, support.header).expect(200);
    const disabledAfter = await waitFor(
      async () => (await client.isAllowed(customerId, feature)) === false,
      GENEROUS_MS,
      'disabled',
    );
    expect(await client.limits(customerId)).toMatchObject({ status: 'disabled', features: [] });
    expect(client.stats().changed).toBeGreaterThanOrEqual(1);

    await enableCustomer(a, customerId, support.header).expect(200);
    await waitFor(
      async () => (await client.isAllowed(customerId, feature)) === true,
      GENEROUS_MS,
      'enabled',
    );
    console.log(`Disable reached the client's cache in ${disabledAfter.toFixed(1)} ms`);
  });

  itOnPostgres('hears a disable made through another instance of the service', async () => {
    const client = await connected();
    const customerId = await subscriber();
    await cache(client, customerId);
    await disableCustomer(b!, customerId, support.header).expect(200);
    await waitFor(
      async () => (await client.isAllowed(customerId, feature)) === false,
      GENEROUS_MS,
      'disabled through the other instance',
    );
  });

  it('drops everything on a reset (a change announced for every customer)', async () => {
    const client = await connected();
    const [one, two] = await Promise.all([subscriber(), subscriber()]);
    await cache(client, one);
    await cache(client, two);
    expect(client.stats().cached).toBe(2);
    const resets = client.stats().resets;

    // A change to everything, as any instance announces it (`*` on the channel); revoking a key
    // no longer is one: keys have a cache of their own, and no customer's limits change.
    await a.app.get(UnitOfWork).run(() => a.app.get(CustomerChanges).changed(null));
    await waitFor(() => client.stats().resets > resets, GENEROUS_MS, 'the reset');
    expect(client.stats().cached).toBe(0);
    expect(client.isAllowed(one, feature)).toBeInstanceOf(Promise); // asks again
  });

  it('stops trusting a disabled answer at the end of its hold, with nothing announced', async () => {
    const errors: Error[] = [];
    const client = await connected({ onError: (error) => errors.push(error) });
    const customerId = await subscriber();
    // Far enough ahead that caching it, through the disable's announcements, ends first even on
    // a loaded machine (with 1.5 s, a parallel run once found the hold over by then).
    const endsAt = Date.now() + 4000;
    await disableCustomer(a, customerId, support.header, { ends_at: iso(endsAt) }).expect(200);
    // Cached once the disable's own announcements (this instance's, then NOTIFY's) are past.
    await waitFor(
      async () => {
        await client.limits(customerId);
        await sleep(200);
        return typeof client.isAllowed(customerId, feature) === 'boolean';
      },
      GENEROUS_MS,
      'cached',
    );
    const answer = client.limits(customerId);
    expect(answer).toMatchObject({ status: 'disabled', holds: [{ until: iso(endsAt) }] });
    expect(client.isAllowed(customerId, feature)).toBe(false); // from memory, until the end
    const changed = client.stats().changed;

    await sleep(endsAt - Date.now() + 50);
    const after = client.check(customerId, feature);
    expect(after).toBeInstanceOf(Promise); // the cached answer expired by itself: it asks
    const decided = await after;
    if (!decided.allowed) {
      // Says why: the decision's source, what the service answers now, the client's counts and
      // the errors it reported (CI once printed only `false`: see subscriber()).
      const now = await request(a.http)
        .get(`/api/v1/customers/${customerId}/limits`)
        .set(platform.header);
      throw new Error(
        `Denied ${Date.now() - endsAt} ms after the hold's end: ${JSON.stringify(decided)}; ` +
          `the service answers now ${now.status} ${JSON.stringify(now.body)}; ` +
          `errors ${JSON.stringify(errors.map((e) => e.message))}; ` +
          `client ${JSON.stringify(client.stats())}`,
      );
    }
    expect(decided).toEqual({ allowed: true, stale: false, source: 'service' });
    expect(client.stats().changed).toBe(changed); // no event told it
  });

  it('resumes after a broken connection with Last-Event-ID: it gets the missed change, not a reset', async () => {
    const proxy = await TcpProxy.start(Number(new URL(urlA).port));
    proxies.push(proxy);
    const client = await connected({ baseUrl: proxy.url, reconnectDelayMs: { min: 50, max: 200 } });
    const [missed, kept] = await Promise.all([subscriber(), subscriber()]);
    await cache(client, missed);
    await cache(client, kept);
    const before = client.stats();

    await proxy.close(); // every connection reset, new ones refused
    await disableCustomer(a, missed, support.header).expect(200);
    await proxy.open();
    await waitFor(
      () =>
        client.stats().reconnects > before.reconnects &&
        client.stats().heartbeats > before.heartbeats + 1,
      GENEROUS_MS,
      'reconnected',
    );
    expect(await client.isAllowed(missed, feature)).toBe(false); // replayed: dropped, asked again
    expect(client.isAllowed(kept, feature)).toBe(true); // still cached: no reset happened
    expect(client.stats().resets).toBe(before.resets);
  });

  itOnPostgres(
    'does not keep an answer that another instance computed before a change it had not heard yet',
    async () => {
      // Instance C hears changes late: its LISTEN connection hangs behind a proxy, so for up to
      // CHANGE_FEED_STALE_MS it answers from a cache that a change has made wrong.
      const databaseProxy = await DatabaseProxy.start(a.database.runtimeUrl);
      const c = await startTestApp(SERVICE_ENV, {
        database: {
          url: a.database.url,
          runtimeUrl: databaseProxy.urlFor(a.database.runtimeUrl),
          drop: () => Promise.resolve(),
        },
      });
      try {
        const urlC = await listen(c);
        // The stream from A, the limits from C: two instances behind one address, as it may be.
        const client = await connected({
          fetch: (input) =>
            fetch(
              new Request(
                String(input instanceof Request ? input.url : input).replace(urlA, urlC),
                input as Request,
              ),
            ),
        });
        const customerId = await subscriber();
        await cache(client, customerId); // computed and cached by C too
        databaseProxy.freezeLatestEndingIn('-listener');
        await disableCustomer(a, customerId, support.header).expect(200);
        await waitFor(
          () =>
            client.stats().changed > 0 &&
            typeof client.isAllowed(customerId, feature) !== 'boolean',
          GENEROUS_MS,
          'the change heard',
        );

        // C still says "enabled" from its cache: the client passes that on to a check that raced
        // the change, but never keeps it; once C gives up its hung feed, it says "disabled".
        const answers: boolean[] = [];
        for (;;) {
          const answer = client.isAllowed(customerId, feature);
          if (typeof answer === 'boolean') break; // kept: must be the disabled answer
          answers.push(await answer);
          await sleep(20);
        }
        expect(client.isAllowed(customerId, feature)).toBe(false);
        expect(answers[0]).toBe(true); // the race did happen: C answered from before the change
        expect(answers.at(-1)).toBe(false);
        expect(client.stats().predating).toBeGreaterThan(0);
      } finally {
        await c.close();
        await databaseProxy.close();
      }
    },
    30_000,
  );

  describe('a stream frozen by a proxy', () => {
    const STALE_MS = 600;

    /** A client through a proxy, the customer cached as enabled, then the stream frozen. */
    async function frozen(options: Partial<AccessClientOptions>) {
      const proxy = await TcpProxy.start(Number(new URL(urlA).port));
      proxies.push(proxy);
      const client = await connected({
        baseUrl: proxy.url,
        staleAfterMs: STALE_MS,
        requestTimeoutMs: 300,
        // Keeps the frozen connection instead of replacing it: the stale state lasts.
        idleTimeoutMs: 60_000,
        ...options,
      });
      const customerId = await subscriber();
      await cache(client, customerId);
      expect(client.isAllowed(customerId, feature)).toBe(true);
      expect(proxy.freezeCarrying(STREAM)).toBe(1);
      const frozenAt = performance.now();
      // The service says "disabled" from now on; the client does not hear it.
      await disableCustomer(a, customerId, support.header).expect(200);
      return { proxy, client, customerId, staleFrom: frozenAt + STALE_MS };
    }

    it('closed: once staleAfterMs passed it never answers "enabled" from its cache, it asks the service', async () => {
      const { client, customerId, staleFrom } = await frozen({ failMode: 'closed' });
      const answers: { at: number; allowed: boolean }[] = [];
      while (performance.now() < staleFrom + 1500) {
        const started = performance.now();
        answers.push({ at: started, allowed: await client.isAllowed(customerId, feature) });
        await sleep(10);
      }
      const afterBound = answers.filter((answer) => answer.at >= staleFrom);
      expect(afterBound.length).toBeGreaterThan(10);
      expect(afterBound.filter((answer) => answer.allowed)).toEqual([]);
      expect(await client.check(customerId, feature)).toEqual({
        allowed: false,
        stale: false,
        source: 'service',
      });
      const stats = client.stats();
      expect(stats.current).toBe(false);
      expect(stats.staleAsked).toBeGreaterThanOrEqual(afterBound.length);
      expect(stats.staleServed).toBe(0);
    });

    it('closed: denies when the service cannot be asked either, and counts it', async () => {
      const { proxy, client, customerId, staleFrom } = await frozen({ failMode: 'closed' });
      proxy.freezeAll();
      await sleep(staleFrom - performance.now() + 10);
      const enabledElsewhere = await subscriber(); // nothing cached for it
      expect(await client.isAllowed(customerId, feature)).toBe(false);
      expect(await client.check(enabledElsewhere, feature)).toEqual({
        allowed: false,
        stale: false,
        source: 'unavailable',
      });
      await expect(client.limits(customerId)).rejects.toBeInstanceOf(AccessClientError);
      expect(client.stats()).toMatchObject({ staleDenied: 3, failedClosed: 2 });
    });

    it('open: serves the cached answer marked stale, and counts it', async () => {
      const { proxy, client, customerId, staleFrom } = await frozen({ failMode: 'open' });
      await sleep(staleFrom - performance.now() + 10);
      expect(client.isAllowed(customerId, feature)).toBe(true); // the cache, synchronously
      expect(client.check(customerId, feature)).toEqual({
        allowed: true,
        stale: true,
        source: 'cache',
      });
      expect(client.limits(customerId)).toMatchObject({ status: 'enabled', stale: true });
      // With nothing cached and the service out of reach too, it allows (fail open), counted.
      proxy.freezeAll();
      const uncached = await subscriber();
      expect(await client.isAllowed(uncached, feature)).toBe(true);
      expect(client.stats()).toMatchObject({ staleServed: 3, failedOpen: 1, staleAsked: 0 });
    });
  });
});
