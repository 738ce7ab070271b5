import { Client } from 'pg';
import request from 'supertest';
import { AccessGuard } from '../../src/auth/access.guard';
import { CustomerChangeFeed } from '../../src/changes/customer-change-feed';
import { LimitsFastLane, globalEnhancersOf } from '../../src/limits/limits-fast-lane';
import { LimitsStore } from '../../src/limits/limits-store';
import { createApiKey, TestApiKey } from '../support/api-keys';
import { DatabaseProxy } from '../support/database-proxy';
import { createCustomer, insertHold, signIn, StaffSession } from '../support/factories';
import { eventually, UNKNOWN_ID } from '../support/holds';
import { createFeature, createPlan, createSubscription } from '../support/plans';
import { startTestApp, TestApp } from '../support/test-app';
import { onEmbeddedDatabase } from '../support/test-env';

const HOUR = 3_600_000;
const AS_OF = /"as_of":"[^"]*"/;

// Several instances on one database, and a proxy in front of it: a PostgreSQL server.
/** How the change feed's LISTEN connection names itself to PostgreSQL (application_name). */
const LISTENER = '-listener';
const describeOnPostgres = onEmbeddedDatabase() ? describe.skip : describe;

/**
 * The limits store (every customer in memory, kept by the change feed) answers what the database
 * answers, byte for byte but the instant it was computed; before its load completes, while its
 * feed is down, and after a key's revoke, as the issue asks.
 */
describeOnPostgres('every customer’s limits in memory (LimitsStore)', () => {
  let a: TestApp; // where the changes are made
  let b: TestApp; // started once the customers below exist: it loads them all at its start
  let direct: TestApp; // LIMITS_CACHE=false: every answer read from the database
  let support: StaffSession;
  let developer: StaffSession;
  let platform: TestApiKey;
  const customers: Record<string, string> = {};

  beforeAll(async () => {
    a = await startTestApp();
    [support, developer] = await Promise.all([
      signIn(a, 'customer_support'),
      signIn(a, 'developer'),
    ]);
    platform = await createApiKey(a);
    const [calls, seats, sso] = [
      await createFeature(a),
      await createFeature(a),
      await createFeature(a),
    ];
    const small = await createPlan(a, {
      grants: { [calls.code]: 10, [sso.code]: null },
      userCount: 2,
    });
    const large = await createPlan(a, {
      grants: { [calls.code]: 15, [seats.code]: 3 },
      userCount: 5,
    });
    const customer = async (name: string, plans: { id: string }[]) => {
      const { id } = await createCustomer(a);
      for (const plan of plans) await createSubscription(a, id, plan.id);
      customers[name] = id;
      return id;
    };
    await customer('no subscription', []);
    await customer('two plans', [small, large]);
    await customer('the same two plans', [large, small]);
    await customer('one plan twice', [small, small]);
    const disabled = await customer('disabled', [small]);
    await request(a.http)
      .post(`/api/v1/customers/${disabled}/disable`)
      .set(support.header)
      .send({ reason_code: 'non_payment' })
      .expect(200);
    const scheduled = await customer('hold scheduled', [large]);
    await request(a.http)
      .post(`/api/v1/customers/${scheduled}/holds`)
      .set(support.header)
      .send({ reason_code: 'dispute', starts_at: new Date(Date.now() + HOUR).toISOString() })
      .expect(201);
    const ending = await customer('hold ending', [large]);
    await request(a.http)
      .post(`/api/v1/customers/${ending}/holds`)
      .set(support.header)
      .send({ reason_code: 'security', ends_at: new Date(Date.now() + HOUR).toISOString() })
      .expect(201);
    const expired = await customer('hold expired', [small]);
    await insertHold(a.db, expired, {
      startsAt: new Date(Date.now() - 2 * HOUR),
      endsAt: new Date(Date.now() - HOUR),
    });
    const lifted = await customer('hold lifted', [small, large]);
    await request(a.http)
      .post(`/api/v1/customers/${lifted}/disable`)
      .set(support.header)
      .send({})
      .expect(200);
    await request(a.http)
      .post(`/api/v1/customers/${lifted}/enable`)
      .set(support.header)
      .send({})
      .expect(200);
    const cancelled = await customer('subscription cancelled', [small, large]);
    await a.db.query(
      `UPDATE subscriptions SET status = 'cancelled', cancelled_at = now()
        WHERE customer_id = $1 AND plan_id = $2`,
      [cancelled, large.id],
    );

    b = await startTestApp({}, { database: a.database });
    direct = await startTestApp({ LIMITS_CACHE: 'false' }, { database: a.database });
    await eventually(
      () => Promise.resolve(storeOf(b).stats().loaded || undefined),
      10_000,
      'B has every customer in memory',
    );
    // The platform key in B's key cache: every answer below can come from memory.
    expect((await limits(b, UNKNOWN_ID)).status).toBe(404);
  });
  afterAll(async () => {
    await direct?.close();
    await b?.close();
    await a?.close();
  });

  const storeOf = (t: TestApp) => t.app.get(LimitsStore);
  const laneOf = (t: TestApp) => t.app.get(LimitsFastLane);

  /** The answer's text, and whether the fast lane (memory alone) gave it. */
  async function limits(t: TestApp, id: string, headers: Record<string, string> = platform.header) {
    const served = laneOf(t).served;
    const response = await request(t.http).get(`/api/v1/customers/${id}/limits`).set(headers);
    return { status: response.status, text: response.text, fast: laneOf(t).served === served + 1 };
  }

  /** The database's answer, its instant left out. */
  const fromDatabase = async (id: string) => (await limits(direct, id)).text.replace(AS_OF, '');

  it('loads every customer at start, and answers each from memory exactly as the database does', async () => {
    const readsBefore = storeOf(b).stats().customerReads;
    for (const [name, id] of Object.entries(customers)) {
      const answer = await limits(b, id);
      expect({ name, status: answer.status, fast: answer.fast }).toEqual({
        name,
        status: 200,
        fast: true,
      });
      expect({ name, text: answer.text.replace(AS_OF, '') }).toEqual({
        name,
        text: await fromDatabase(id),
      });
    }
    expect(storeOf(b).stats()).toMatchObject({
      customerReads: readsBefore,
      // '', small + large (twice), small x 2, small, large
      planSets: 5,
    });
    const statuses = await Promise.all(
      Object.values(customers).map(async (id) => JSON.parse((await limits(b, id)).text).status),
    );
    expect(statuses.filter((status) => status === 'disabled')).toHaveLength(2);
  });

  it('reads a customer created since the start once, then answers it from memory; an unknown one is 404', async () => {
    const { id } = await createCustomer(a);
    const store = storeOf(b);
    const { customerReads, customers: inMemory } = store.stats();
    const first = await limits(b, id);
    expect(first).toMatchObject({ status: 200, fast: false });
    expect(store.stats().customerReads).toBe(customerReads + 1);
    expect(await limits(b, id)).toMatchObject({ status: 200, fast: true, text: first.text });
    expect(store.stats().customerReads).toBe(customerReads + 1);

    expect((await limits(b, UNKNOWN_ID)).status).toBe(404);
    expect((await limits(b, UNKNOWN_ID)).status).toBe(404);
    expect(store.stats().customers).toBe(inMemory + 1);
  });

  it('hears a change made through another instance, reloads that customer, and answers it from memory again', async () => {
    const id = customers['two plans'];
    expect(JSON.parse((await limits(b, id)).text).status).toBe('enabled');
    const { customerReads } = storeOf(b).stats();
    await request(a.http)
      .post(`/api/v1/customers/${id}/disable`)
      .set(support.header)
      .send({})
      .expect(200);
    await eventually(
      async () => (JSON.parse((await limits(b, id)).text).status === 'disabled' ? true : undefined),
      5000,
      'B answers disabled',
    );
    await eventually(
      async () => ((await limits(b, id)).fast ? true : undefined),
      5000,
      'from memory',
    );
    expect((await limits(b, id)).text.replace(AS_OF, '')).toBe(await fromDatabase(id));
    expect(storeOf(b).stats().customerReads).toBeGreaterThan(customerReads);
    await request(a.http)
      .post(`/api/v1/customers/${id}/enable`)
      .set(support.header)
      .send({})
      .expect(200);
    await eventually(
      async () => {
        const answer = await limits(b, id);
        return answer.fast && JSON.parse(answer.text).status === 'enabled' ? true : undefined;
      },
      5000,
      'enabled again, from memory',
    );
  });

  it('applies its own disables and enables to a customer in memory rather than reading it again; another instance reads them', async () => {
    // Customers of their own: the changes below leave the others as they were.
    const { id } = await createCustomer(a);
    const { id: marker } = await createCustomer(a);
    // The changes are made by an instance whose LISTEN connection goes through a proxy that holds
    // it during each change, until the instance has applied the change from its own word: its
    // NOTIFY then comes back after that word every time. Unheld, which of the two comes first is
    // a race that the machine's load decides (a NOTIFY heard first is read, as it must be).
    const proxy = await DatabaseProxy.start(a.database.runtimeUrl);
    const own = await startTestApp(
      {},
      {
        database: {
          url: a.database.url,
          runtimeUrl: proxy.urlFor(a.database.runtimeUrl),
          drop: () => Promise.resolve(),
        },
      },
    );
    try {
      const inMemoryOn = async (t: TestApp, customerId: string, status: string) =>
        eventually(
          async () => {
            const answer = await limits(t, customerId);
            return answer.fast && JSON.parse(answer.text).status === status ? true : undefined;
          },
          5000,
          `${status}, from memory`,
        );
      await eventually(
        () => Promise.resolve(proxy.connectionsEndingIn(LISTENER) === 1 ? true : undefined),
        5000,
        'the LISTEN connection through the proxy',
      );
      await inMemoryOn(own, id, 'enabled');
      await inMemoryOn(own, marker, 'enabled');
      await inMemoryOn(b, id, 'enabled');
      const before = storeOf(own).stats().customerReads;

      const changes = 10;
      for (let i = 0; i < changes; i += 1) {
        const change = i % 2 === 0 ? 'disable' : 'enable';
        proxy.freezeLatestEndingIn(LISTENER);
        await request(own.http)
          .post(`/api/v1/customers/${id}/${change}`)
          .set(support.header)
          .send({})
          .expect(200);
        // From memory while its NOTIFY is held: applied from the instance's own word, unread.
        await inMemoryOn(own, id, `${change}d`);
        proxy.thawLatestEndingIn(LISTENER);
        expect((await limits(own, id)).text.replace(AS_OF, '')).toBe(await fromDatabase(id));
      }
      // B hears every change, reads it and answers as the database does.
      await inMemoryOn(b, id, 'enabled');
      expect((await limits(b, id)).text.replace(AS_OF, '')).toBe(await fromDatabase(id));

      // A change through B, heard after every NOTIFY of the instance's own (commit order).
      await request(b.http)
        .post(`/api/v1/customers/${marker}/disable`)
        .set(support.header)
        .send({})
        .expect(200);
      await inMemoryOn(own, marker, 'disabled');
      // Its own NOTIFYs, heard back, were not read again: the marker was, once.
      expect(storeOf(own).stats().customerReads - before).toBe(1);
      expect((await limits(own, id)).text.replace(AS_OF, '')).toBe(await fromDatabase(id));
    } finally {
      await own.close();
      await proxy.close();
    }
  });

  it('keeps every customer’s limits in memory when a platform key is revoked', async () => {
    const other = await createApiKey(a);
    expect((await limits(b, customers['no subscription'], other.header)).status).toBe(200);
    expect((await limits(b, customers['no subscription'], other.header)).fast).toBe(true);
    const { customerReads, loads } = storeOf(b).stats();

    await request(a.http).delete(`/api/v1/api-keys/${other.id}`).set(developer.header).expect(204);
    await eventually(
      async () =>
        (await limits(b, customers['no subscription'], other.header)).status === 401
          ? true
          : undefined,
      5000,
      'B refuses the revoked key',
    );

    for (const [name, id] of Object.entries(customers)) {
      expect({ name, fast: (await limits(b, id)).fast }).toEqual({ name, fast: true });
    }
    expect(storeOf(b).stats()).toMatchObject({ customerReads, loads });
  });

  it('sees the global guard and pipes that Nest runs, which the fast lane checked at the start', () => {
    const globals = globalEnhancersOf(b.app);
    expect(globals.guards.some((guard) => guard instanceof AccessGuard)).toBe(true);
    expect(globals.pipes).toHaveLength(1);
    expect(globals.interceptors).toEqual([]);
  });

  describe('before the load of every customer completes', () => {
    let proxy: DatabaseProxy;
    let early: TestApp;

    beforeAll(async () => {
      // The load has a connection of its own (`…-loader`): held at its first byte, it never
      // gets through, while the pool's connections do.
      proxy = await DatabaseProxy.start(a.database.runtimeUrl);
      proxy.freezeNewEndingIn('-loader');
      early = await startTestApp(
        { DATABASE_CONNECT_TIMEOUT_MS: '500' },
        {
          database: {
            url: a.database.url,
            runtimeUrl: proxy.urlFor(a.database.runtimeUrl),
            drop: () => Promise.resolve(),
          },
        },
      );
    });
    afterAll(async () => {
      await early?.close();
      await proxy?.close();
    });

    it('answers each customer as the database does, reading it once, then from memory; then loads the rest', async () => {
      const store = storeOf(early);
      expect(store.stats().loaded).toBe(false);
      for (const [name, id] of Object.entries(customers)) {
        const reads = store.stats().customerReads;
        const first = await limits(early, id);
        expect({ name, status: first.status, fast: first.fast }).toEqual({
          name,
          status: 200,
          fast: false,
        });
        expect({ name, text: first.text.replace(AS_OF, '') }).toEqual({
          name,
          text: await fromDatabase(id),
        });
        expect(store.stats().customerReads).toBe(reads + 1);
        expect(await limits(early, id)).toMatchObject({ fast: true, text: first.text });
      }
      expect(store.stats().loaded).toBe(false);

      proxy.stopFreezingNew();
      await eventually(
        () => Promise.resolve(store.stats().loaded || undefined),
        15_000,
        'the load completes once its connection gets through',
      );
      const { customerReads } = store.stats();
      for (const id of Object.values(customers)) {
        const answer = await limits(early, id);
        expect(answer.fast).toBe(true);
        expect(answer.text.replace(AS_OF, '')).toBe(await fromDatabase(id));
      }
      expect(store.stats().customerReads).toBe(customerReads);
    }, 60_000);
  });

  describe('when the change feed loses its connection', () => {
    let admin: Client;
    const databaseName = () => new URL(a.database.url).pathname.slice(1);

    beforeAll(async () => {
      const url = new URL(a.database.url);
      url.pathname = '/postgres';
      admin = new Client({ connectionString: url.toString() });
      await admin.connect();
    });
    afterAll(async () => {
      await admin.query(`ALTER DATABASE "${databaseName()}" ALLOW_CONNECTIONS true`);
      await admin.end();
    });

    it('answers from the database until it is back, then loads every customer again and answers from memory', async () => {
      const feed = b.app.get(CustomerChangeFeed);
      const store = storeOf(b);
      const id = customers['no subscription'];
      expect(await limits(b, id)).toMatchObject({ fast: true });
      const { loads } = store.stats();

      // A change nobody announces (written while connections are still allowed: A's pool may
      // need a new one): only an answer read from the database shows it.
      await insertHold(a.db, id);
      // B keeps its pooled connections (opened now, by reads at once), but cannot open a new
      // LISTEN connection for a while.
      await Promise.all(Array.from({ length: 4 }, () => limits(b, UNKNOWN_ID)));
      await admin.query(`ALTER DATABASE "${databaseName()}" ALLOW_CONNECTIONS false`);
      await admin.query('SELECT pg_terminate_backend($1)', [feed.backendPid]);
      await eventually(() => Promise.resolve(feed.live ? undefined : true), 5000, 'feed down');

      for (let i = 0; i < 3; i += 1) {
        const answer = await limits(b, id);
        expect({ fast: answer.fast, status: JSON.parse(answer.text).status }).toEqual({
          fast: false,
          status: 'disabled',
        });
      }

      await admin.query(`ALTER DATABASE "${databaseName()}" ALLOW_CONNECTIONS true`);
      await eventually(
        () => Promise.resolve(feed.live && store.stats().loaded ? true : undefined),
        15_000,
        'the feed is back and every customer loaded again',
      );
      expect(store.stats().loads).toBeGreaterThan(loads);
      const answer = await limits(b, id);
      expect(JSON.parse(answer.text).status).toBe('disabled');
      expect((await limits(b, id)).fast).toBe(true);
      expect(answer.text.replace(AS_OF, '')).toBe(await fromDatabase(id));
    }, 60_000);
  });
});
