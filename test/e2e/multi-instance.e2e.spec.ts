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

    describe('a staff member changed through the other instance (kept in memory by each)', () => {
      let admin: StaffSession;
      beforeAll(async () => {
        admin = await signIn(a, 'admin');
      });

      /** Polls B with `session` until it answers `status`; how long that took. */
      const untilB = (session: StaffSession, path: string, status: number) =>
        timeUntil(
          async () => (await request(b.http).get(path).set(session.header)).status === status,
          2000,
        );

      it(`refuses a signed-out member's token within ${WITHIN_MS} ms`, async () => {
        const member = await signIn(a, 'user');
        await request(b.http).get('/api/v1/customers').set(member.header).expect(200); // kept on B
        await request(a.http).post('/api/v1/auth/logout').set(member.header).expect(204);
        expect(await untilB(member, '/api/v1/customers', 401)).toBeLessThanOrEqual(WITHIN_MS);
      });

      it(`refuses a deactivated member and one whose password was reset within ${WITHIN_MS} ms`, async () => {
        const [deactivated, reset] = [await signIn(a, 'user'), await signIn(a, 'user')];
        for (const member of [deactivated, reset]) {
          await request(b.http).get('/api/v1/customers').set(member.header).expect(200);
        }
        await request(a.http)
          .patch(`/api/v1/users/${deactivated.user.id}`)
          .set(admin.header)
          .send({ active: false })
          .expect(200);
        expect(await untilB(deactivated, '/api/v1/customers', 401)).toBeLessThanOrEqual(WITHIN_MS);
        await request(a.http)
          .patch(`/api/v1/users/${reset.user.id}`)
          .set(admin.header)
          .send({ password: 'a new Passphrase for the reset 42!' })
          .expect(200);
        expect(await untilB(reset, '/api/v1/customers', 401)).toBeLessThanOrEqual(WITHIN_MS);
      });

      it(`applies a role change to the next request within ${WITHIN_MS} ms`, async () => {
        const member = await signIn(a, 'developer');
        await request(b.http).get('/api/v1/events').set(member.header).expect(200);
        await request(a.http)
          .patch(`/api/v1/users/${member.user.id}`)
          .set(admin.header)
          .send({ role: 'user' })
          .expect(200);
        expect(await untilB(member, '/api/v1/events', 403)).toBeLessThanOrEqual(WITHIN_MS);
      });
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

    describe('holds starting and ending with no request (the boundary scheduler)', () => {
      const TRIALS = 20;
      const AHEAD_MS = 4000;
      const LENGTH_MS = 1700;

      const urls = new Map<TestApp, string>();
      beforeAll(async () => {
        // One listening server per instance (supertest would open one per request).
        for (const app of [a, b]) {
          await new Promise<void>((resolve) => app.http.listen(0, '127.0.0.1', resolve));
          const address = app.http.address();
          if (address === null || typeof address === 'string') throw new Error('no port');
          urls.set(app, `http://127.0.0.1:${address.port}`);
        }
      });

      /**
       * When `status` is first seen on `app` at or after `instant`, in ms after the instant. It
       * asks from 30 ms before the instant on, so that the pollers of staggered holds do not all
       * compete for the two cores at once.
       */
      async function delayUntil(app: TestApp, customerId: string, status: string, instant: number) {
        const wait = instant - 30 - Date.now();
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
        for (;;) {
          const response = await request(urls.get(app)!)
            .get(`/api/v1/customers/${customerId}/limits`)
            .set(platform.header)
            .expect(200);
          const seen = (response.body as { status: string }).status;
          const now = Date.now();
          if (seen === status) {
            if (now < instant) throw new Error(`${status} ${instant - now} ms before the instant`);
            return now - instant;
          }
          if (now - instant > 5000) throw new Error(`Still not ${status} 5 s after the instant`);
          await new Promise((resolve) => setTimeout(resolve, 2));
        }
      }

      it('changes the status on both instances within 1 s of a hold’s start and end, and records each transition once, by system, at the instant', async () => {
        const customers = await Promise.all(
          Array.from({ length: TRIALS }, async () => {
            const feature = await createFeature(a);
            const customer = await createCustomer(a);
            const plan = await createPlan(a, { grants: { [feature.code]: 5 }, userCount: 3 });
            await createSubscription(a, customer.id, plan.id);
            return customer;
          }),
        );
        const base = Date.now() + AHEAD_MS;
        const holds = await Promise.all(
          customers.map(async (customer, i) => {
            const startsAt = new Date(base + i * 331);
            const endsAt = new Date(startsAt.getTime() + LENGTH_MS);
            const response = await request(a.http)
              .post(`/api/v1/customers/${customer.id}/holds`)
              .set(support.header)
              .send({
                reason_code: 'customer_request',
                starts_at: startsAt.toISOString(),
                ends_at: endsAt.toISOString(),
              })
              .expect(201);
            expect(response.body.state).toBe('scheduled');
            return { customer, id: response.body.id as string, startsAt, endsAt };
          }),
        );
        // Both instances answer "enabled" from their caches before the start.
        for (const { customer } of holds) {
          expect((await limitsOn(a, customer.id)).status).toBe('enabled');
          expect((await limitsOn(b, customer.id)).status).toBe('enabled');
        }

        const measured = await Promise.all(
          holds.flatMap(({ customer, startsAt, endsAt }) =>
            [a, b].map(async (app) => [
              await delayUntil(app, customer.id, 'disabled', startsAt.getTime()),
              await delayUntil(app, customer.id, 'enabled', endsAt.getTime()),
            ]),
          ),
        );
        const delays = measured.flat().sort((x, y) => x - y);
        const p50 = delays[Math.floor(delays.length / 2)];
        // The figures the issue asks for (starts and ends, both instances).
        console.log(
          `boundary delays over ${delays.length} observations (${TRIALS} holds x start/end x 2 instances): ` +
            `p50 ${p50} ms, max ${delays[delays.length - 1]} ms; all: ${delays.join(', ')}`,
        );
        for (const delay of delays) expect(delay).toBeLessThan(1000);

        // Each instance ran its scheduler; give them a few more rounds to write twice, if they could.
        await new Promise((resolve) => setTimeout(resolve, 1000));
        for (const { customer, id, startsAt, endsAt } of holds) {
          const entries = await a.db.query<
            {
              action: string;
              actor_type: string;
              actor_id: string | null;
              effective_at: Date;
              hold_id: string;
            }[]
          >(
            `SELECT action, actor_type, actor_id, effective_at, hold_id FROM audit_logs
              WHERE customer_id = $1 ORDER BY created_at`,
            [customer.id],
          );
          expect(
            entries.map((e) => [e.action, e.actor_type, e.effective_at.getTime(), e.hold_id]),
          ).toEqual([
            ['hold.placed', 'user', expect.any(Number), id],
            ['customer.disabled', 'system', startsAt.getTime(), id],
            ['hold.expired', 'system', endsAt.getTime(), id],
            ['customer.enabled', 'system', endsAt.getTime(), id],
          ]);
          const [row] = await a.db.query<{ status: string; next_boundary_at: Date | null }[]>(
            'SELECT status, next_boundary_at FROM customers WHERE id = $1',
            [customer.id],
          );
          expect(row).toEqual({ status: 'enabled', next_boundary_at: null });
        }
      }, 40_000);
    });
  },
);
