import { Client } from 'pg';
import request from 'supertest';
import { CustomerChangeFeed } from '../../src/changes/customer-change-feed';
import { createApiKey, TestApiKey } from '../support/api-keys';
import { createCustomer, insertHold, signIn, StaffSession } from '../support/factories';
import { createFeature, createPlan, createSubscription } from '../support/plans';
import { startTestApp, TestApp } from '../support/test-app';
import { onEmbeddedDatabase } from '../support/test-env';

const WITHIN_MS = 100;

/** Polls `probe` until it is true; returns how long that took, or throws after `timeoutMs`. */
async function timeUntil(probe: () => Promise<boolean>, timeoutMs: number): Promise<number> {
  const started = performance.now();
  for (;;) {
    if (await probe()) return performance.now() - started;
    if (performance.now() - started > timeoutMs) {
      throw new Error(`Still not true after ${timeoutMs} ms`);
    }
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

// The embedded engine (PGlite) delivers no NOTIFY between connections and serves one instance.
const describeOnPostgres = onEmbeddedDatabase() ? describe.skip : describe;

describeOnPostgres(
  'two instances on one database (needs NOTIFY between connections: skipped on the embedded engine)',
  () => {
    let a: TestApp;
    let b: TestApp;
    let support: StaffSession;
    let manager: StaffSession;
    let developer: StaffSession;
    let platform: TestApiKey;

    beforeAll(async () => {
      a = await startTestApp();
      b = await startTestApp({}, { database: a.database });
      [support, manager, developer] = await Promise.all([
        signIn(a, 'customer_support'),
        signIn(a, 'account_manager'),
        signIn(a, 'developer'),
      ]);
      platform = await createApiKey(a);
    });
    afterAll(async () => {
      await b.close();
      await a.close();
    });

    const limitsOn = async (app: TestApp, customerId: string) =>
      (
        await request(app.http)
          .get(`/api/v1/customers/${customerId}/limits`)
          .set(platform.header)
          .expect(200)
      ).body as { status: string; user_count: number };

    /** A customer with a subscription, its limits cached as "enabled" by instance B. */
    async function cachedOnB() {
      const feature = await createFeature(a);
      const customer = await createCustomer(a);
      const plan = await createPlan(a, { grants: { [feature.code]: 5 }, userCount: 3 });
      await createSubscription(a, customer.id, plan.id);
      expect(await limitsOn(b, customer.id)).toMatchObject({ status: 'enabled', user_count: 3 });
      // Behind the service's back (no NOTIFY): B answering from memory still says enabled.
      await a.db.query(`UPDATE customers SET name = 'cached' WHERE id = $1`, [customer.id]);
      return { customer, plan };
    }

    it(`sees a disable through the other instance within ${WITHIN_MS} ms, and the enable too`, async () => {
      const { customer } = await cachedOnB();
      await request(a.http)
        .post(`/api/v1/customers/${customer.id}/disable`)
        .set(support.header)
        .send({})
        .expect(200);
      const disabledAfter = await timeUntil(
        async () => (await limitsOn(b, customer.id)).status === 'disabled',
        2000,
      );
      expect(disabledAfter).toBeLessThanOrEqual(WITHIN_MS);

      await request(a.http)
        .post(`/api/v1/customers/${customer.id}/enable`)
        .set(support.header)
        .send({})
        .expect(200);
      const enabledAfter = await timeUntil(
        async () => (await limitsOn(b, customer.id)).status === 'enabled',
        2000,
      );
      expect(enabledAfter).toBeLessThanOrEqual(WITHIN_MS);
    });

    it(`refuses a customer key on the other instance within ${WITHIN_MS} ms of a disable`, async () => {
      const { customer } = await cachedOnB();
      const own = await createApiKey(a, customer.id);
      await request(b.http).get(`/api/v1/customers/${customer.id}`).set(own.header).expect(200);
      await request(a.http)
        .post(`/api/v1/customers/${customer.id}/disable`)
        .set(support.header)
        .send({})
        .expect(200);
      const refusedAfter = await timeUntil(async () => {
        const response = await request(b.http)
          .get(`/api/v1/customers/${customer.id}`)
          .set(own.header);
        return response.status === 403 && response.body.code === 'customer_disabled';
      }, 2000);
      expect(refusedAfter).toBeLessThanOrEqual(WITHIN_MS);
    });

    it(`refuses a key revoked through the other instance within ${WITHIN_MS} ms`, async () => {
      const created = await request(a.http)
        .post('/api/v1/api-keys')
        .set(developer.header)
        .send({ name: 'Revoked elsewhere' })
        .expect(201);
      const header = { 'X-API-Key': created.body.key as string };
      await request(b.http).get('/api/v1/customers').set(header).expect(200); // cached on B
      await request(a.http)
        .delete(`/api/v1/api-keys/${created.body.id}`)
        .set(developer.header)
        .expect(204);
      const refusedAfter = await timeUntil(
        async () => (await request(b.http).get('/api/v1/customers').set(header)).status === 401,
        2000,
      );
      expect(refusedAfter).toBeLessThanOrEqual(WITHIN_MS);
    });

    it(`sees a subscription added through the other instance within ${WITHIN_MS} ms`, async () => {
      const { customer, plan } = await cachedOnB();
      await request(a.http)
        .post(`/api/v1/customers/${customer.id}/subscriptions`)
        .set(manager.header)
        .send({ plan_code: plan.code })
        .expect(201);
      const seenAfter = await timeUntil(
        async () => (await limitsOn(b, customer.id)).user_count === 6,
        2000,
      );
      expect(seenAfter).toBeLessThanOrEqual(WITHIN_MS);
    });

    it('never answers "enabled" again once it answered "disabled", though reads were in flight when the disable landed', async () => {
      const { customer, plan } = await cachedOnB();
      // Thousands of subscriptions make each read of the database take a few milliseconds: long
      // enough for reads to straddle the disable's commit.
      await a.db.query(
        `INSERT INTO subscriptions (customer_id, plan_id, started_at, current_period_start, current_period_end)
         SELECT $1, $2, now(), now(), now() + interval '1 month' FROM generate_series(1, 20000)`,
        [customer.id, plan.id],
      );
      const answers: { started: number; ended: number; status: string }[] = [];
      // When B last heard of a change to the customer (the disable's, as the churn stops first).
      let lastHeard = Infinity;
      const unsubscribe = b.app.get(CustomerChangeFeed).subscribe((customerId) => {
        if (customerId === customer.id) lastHeard = performance.now();
      });
      let stopReading = false;
      let stopChurning = false;
      // Thirty-two readers on B all the time, while B's entry is dropped about every millisecond
      // (announcements with no change), so that many reads are in flight, between the database
      // and the cache, at the moment the disable's announcement arrives.
      const readers = Array.from({ length: 32 }, async () => {
        while (!stopReading) {
          const started = performance.now();
          const { status } = await limitsOn(b, customer.id);
          answers.push({ started, ended: performance.now(), status });
        }
      });
      const churner = new Client({ connectionString: a.database.url });
      await churner.connect();
      const churn = (async () => {
        while (!stopChurning) {
          await churner.query(`SELECT pg_notify('customer_access_changes', $1)`, [customer.id]);
        }
      })();
      try {
        await new Promise((resolve) => setTimeout(resolve, 200));
        // The last drop leaves B's entry empty: the reads now in flight began before the commit.
        stopChurning = true;
        await churn;
        await request(a.http)
          .post(`/api/v1/customers/${customer.id}/disable`)
          .set(support.header)
          .send({})
          .expect(200);
        await new Promise((resolve) => setTimeout(resolve, 500));
      } finally {
        stopChurning = true;
        stopReading = true;
        await Promise.all(readers);
        await churner.end();
        unsubscribe();
      }

      // Once B has heard of the disable, no request it starts answers "enabled": no read that
      // began before the commit may put the old answer back into the cache. (This catches a
      // missing generation check about every other run; ChangeAwareCache's unit test is the
      // deterministic proof.)
      const afterHeard = answers.filter((x) => x.started > lastHeard);
      expect(afterHeard.length).toBeGreaterThan(0);
      expect(afterHeard.filter((x) => x.status !== 'disabled')).toEqual([]);
    });

    describe('when the LISTEN connection is lost', () => {
      const databaseName = () => new URL(a.database.url).pathname.slice(1);
      let admin: Client;

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

      it('drops the cache and reads the database until it is back, then caches and hears changes again', async () => {
        const feed = b.app.get(CustomerChangeFeed);
        const { customer } = await cachedOnB();
        // Keep B from reconnecting for a while: new connections to the database are refused.
        // B's pool keeps the connections it has, so B still answers from the database.
        await Promise.all(Array.from({ length: 4 }, () => limitsOn(b, customer.id)));
        await admin.query(`ALTER DATABASE "${databaseName()}" ALLOW_CONNECTIONS false`);
        await admin.query('SELECT pg_terminate_backend($1)', [feed.backendPid]);
        await timeUntil(() => Promise.resolve(!feed.live), 2000);

        // A change nobody announces: only a bypassed cache can see it at once.
        const hold = await insertHold(a.db, customer.id);
        for (let i = 0; i < 3; i += 1) {
          expect((await limitsOn(b, customer.id)).status).toBe('disabled');
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        expect(feed.live).toBe(false);

        await admin.query(`ALTER DATABASE "${databaseName()}" ALLOW_CONNECTIONS true`);
        await timeUntil(() => Promise.resolve(feed.live), 10_000);

        // Back: answers are cached again (a silent change is not seen)...
        expect((await limitsOn(b, customer.id)).status).toBe('disabled');
        await a.db.query(`UPDATE holds SET lifted_at = now() WHERE id = $1`, [hold.id]);
        expect((await limitsOn(b, customer.id)).status).toBe('disabled');
        // ...and announced changes are heard again.
        await a.db.query(`SELECT pg_notify('customer_access_changes', $1)`, [customer.id]);
        const heardAfter = await timeUntil(
          async () => (await limitsOn(b, customer.id)).status === 'enabled',
          2000,
        );
        expect(heardAfter).toBeLessThanOrEqual(WITHIN_MS);
      });
    });
  },
);
