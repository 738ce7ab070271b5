import request from 'supertest';
import { encodeCursor } from '../../src/common/pagination';
import { LimitsFastLane } from '../../src/limits/limits-fast-lane';
import { createApiKey, TestApiKey } from '../support/api-keys';
import { createCustomer, signIn, StaffSession } from '../support/factories';
import { createFeature, createPlan, createSubscription } from '../support/plans';
import { startTestApp, TestApp } from '../support/test-app';
import { onEmbeddedDatabase } from '../support/test-env';

const WITHIN_MS = 100;

/** The same uuid with every letter upper-case. */
const upper = (id: string): string => id.toUpperCase();
/** The same uuid with its letters alternately upper- and lower-case. */
const mixed = (id: string): string => {
  let count = 0;
  return id.replace(/[a-f]/g, (letter) => (count++ % 2 === 0 ? letter.toUpperCase() : letter));
};
/** The mixed spelling with every letter's case swapped: yet another spelling. */
const swapped = (id: string): string =>
  mixed(id).replace(/[a-fA-F]/g, (letter) =>
    letter === letter.toLowerCase() ? letter.toUpperCase() : letter.toLowerCase(),
  );
const SPELLINGS = { upper, mixed } as const;

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

/**
 * A uuid may be written in any case; the service canonicalises it (lower case) where it enters,
 * so no cache or comparison ever sees two spellings of one id, and answers echo the canonical id.
 */
describe('uuids in upper or mixed case', () => {
  let t: TestApp;
  let lane: LimitsFastLane;
  let support: StaffSession;
  let reader: StaffSession;
  let developer: StaffSession;
  let platform: TestApiKey;

  beforeAll(async () => {
    t = await startTestApp();
    lane = t.app.get(LimitsFastLane);
    [support, reader, developer] = await Promise.all([
      signIn(t, 'customer_support'),
      signIn(t, 'user'),
      signIn(t, 'developer'),
    ]);
    platform = await createApiKey(t);
  });
  afterAll(() => t.close());

  /** An enabled customer with a subscription; its id has letters, so spellings differ. */
  async function customerWithPlan(app: TestApp = t) {
    for (;;) {
      const feature = await createFeature(app);
      const customer = await createCustomer(app);
      if (!/[a-f]/.test(customer.id)) continue;
      const plan = await createPlan(app, { grants: { [feature.code]: 7 }, userCount: 4 });
      await createSubscription(app, customer.id, plan.id);
      return customer;
    }
  }

  const limits = (app: TestApp, id: string, headers: Record<string, string>) =>
    request(app.http).get(`/api/v1/customers/${id}/limits`).set(headers).expect(200);

  /** The answer, and whether the fast lane gave it. */
  async function limitsWithLane(id: string, headers: Record<string, string>) {
    const before = lane.served;
    const response = await limits(t, id, headers);
    return { body: response.body as Record<string, unknown>, fast: lane.served - before === 1 };
  }

  const disable = (app: TestApp, id: string) =>
    request(app.http)
      .post(`/api/v1/customers/${id}/disable`)
      .set(support.header)
      .send({ reason: 'Spelled differently' })
      .expect(200);

  describe.each(Object.entries(SPELLINGS))('written in %s case', (_name, spell) => {
    it('answers disabled at once on the fast lane after a disable through another spelling', async () => {
      const customer = await customerWithPlan();
      const typed = spell(customer.id);
      expect(typed).not.toBe(customer.id);
      // Cached under both spellings, if the cache keyed on the id as typed.
      for (const id of [typed, customer.id, typed]) await limits(t, id, platform.header);
      expect(await limitsWithLane(typed, platform.header)).toMatchObject({
        fast: true,
        body: { customer_id: customer.id, status: 'enabled', user_count: 4 },
      });

      const disabled = await disable(t, customer.id);
      expect(disabled.body).toMatchObject({ id: customer.id, status: 'disabled' });

      for (const id of [typed, customer.id, upper(customer.id), mixed(customer.id)]) {
        const answer = await limitsWithLane(id, platform.header);
        expect(answer.body).toEqual({
          customer_id: customer.id,
          status: 'disabled',
          disabled: true,
          holds: [expect.objectContaining({ source: 'manual', reason_code: 'other' })],
          user_count: 0,
          features: [],
          limits: {},
          as_of: expect.any(String),
        });
      }
      expect((await limitsWithLane(typed, platform.header)).fast).toBe(true);
    });

    it('answers disabled at once on the Nest route after a disable through that spelling', async () => {
      const customer = await customerWithPlan();
      const typed = spell(customer.id);
      for (const id of [customer.id, typed, customer.id]) {
        const answer = await limitsWithLane(id, reader.header);
        expect(answer).toMatchObject({
          fast: false,
          body: { customer_id: customer.id, status: 'enabled' },
        });
      }

      // The disable's own spelling is what the change announces.
      const disabled = await disable(t, typed);
      expect(disabled.body).toMatchObject({ id: customer.id, status: 'disabled' });

      for (const id of [customer.id, typed, upper(customer.id)]) {
        const answer = await limitsWithLane(id, reader.header);
        expect(answer).toMatchObject({
          fast: false,
          body: { customer_id: customer.id, status: 'disabled', disabled: true, features: [] },
        });
      }
    });

    it('admits the customer’s own key under that spelling, on both lanes, and refuses it once disabled', async () => {
      const customer = await customerWithPlan();
      const typed = spell(customer.id);
      const own = await createApiKey(t, customer.id);
      await limits(t, typed, own.header);
      expect(await limitsWithLane(typed, own.header)).toMatchObject({
        fast: true,
        body: { customer_id: customer.id, status: 'enabled' },
      });
      const fetched = await request(t.http)
        .get(`/api/v1/customers/${typed}`)
        .set(own.header)
        .expect(200);
      expect(fetched.body).toMatchObject({ id: customer.id });

      await disable(t, typed);
      expect(await limitsWithLane(typed, own.header)).toMatchObject({
        body: { customer_id: customer.id, status: 'disabled' },
      });
      await request(t.http)
        .get(`/api/v1/customers/${typed}`)
        .set(own.header)
        .expect(403)
        .expect((response) => expect(response.body.code).toBe('customer_disabled'));
    });

    it('returns the customer with its canonical id, and sees a subscription added through that spelling', async () => {
      const customer = await customerWithPlan();
      const typed = spell(customer.id);
      const fetched = await request(t.http)
        .get(`/api/v1/customers/${typed}`)
        .set(reader.header)
        .expect(200);
      expect(fetched.body).toMatchObject({ id: customer.id });

      for (let i = 0; i < 2; i += 1) await limits(t, customer.id, platform.header); // cached
      const plan = await createPlan(t, { userCount: 10 });
      const created = await request(t.http)
        .post(`/api/v1/customers/${typed}/subscriptions`)
        .set((await signIn(t, 'account_manager')).header)
        .send({ plan_code: plan.code })
        .expect(201);
      expect(created.body).toMatchObject({ customer_id: customer.id });
      expect((await limitsWithLane(customer.id, platform.header)).body).toMatchObject({
        customer_id: customer.id,
        user_count: 14,
      });
    });

    it('revokes an API key named in that spelling, and the key is refused', async () => {
      const customer = await customerWithPlan();
      const created = await request(t.http)
        .post('/api/v1/api-keys')
        .set(developer.header)
        .send({ name: 'Spelled key', customer_id: spell(customer.id) })
        .expect(201);
      expect(created.body).toMatchObject({ customer_id: customer.id });
      const header = { 'X-API-Key': created.body.key as string };
      const keyId = created.body.id as string;
      for (let i = 0; i < 2; i += 1) await limits(t, customer.id, header); // key cached

      await request(t.http)
        .delete(`/api/v1/api-keys/${spell(keyId)}`)
        .set(developer.header)
        .expect(204);
      await request(t.http).get(`/api/v1/customers/${customer.id}/limits`).set(header).expect(401);
      const [row] = await t.db.query<{ revoked: boolean }[]>(
        'SELECT revoked_at IS NOT NULL AS revoked FROM api_keys WHERE id = $1',
        [keyId],
      );
      expect(row.revoked).toBe(true);
    });

    it('filters the audit log by a customer or actor id in that spelling, and takes a cursor carrying it', async () => {
      const customer = await customerWithPlan();
      await disable(t, customer.id);
      const page = await request(t.http)
        .get('/api/v1/audit-logs')
        .query({ customer_id: spell(customer.id), actor_id: spell(support.user.id), limit: 1 })
        .set(reader.header)
        .expect(200);
      expect(page.body.data).toHaveLength(1);
      expect(page.body.data[0]).toMatchObject({ customer_id: customer.id });

      // A cursor naming an id in another spelling is the same position.
      const [created, id] = JSON.parse(
        Buffer.from(
          (
            await request(t.http)
              .get('/api/v1/api-keys')
              .query({ limit: 1 })
              .set(developer.header)
              .expect(200)
          ).body.next_cursor as string,
          'base64url',
        ).toString('utf8'),
      ) as [string, string];
      const pages = await Promise.all(
        [id, spell(id)].map((cursorId) =>
          request(t.http)
            .get('/api/v1/api-keys')
            .query({ limit: 2, cursor: encodeCursor([created, cursorId]) })
            .set(developer.header)
            .expect(200),
        ),
      );
      expect(pages[1].body).toEqual(pages[0].body);
    });

    it('updates a staff user named in that spelling', async () => {
      const admin = await signIn(t, 'admin');
      const updated = await request(t.http)
        .patch(`/api/v1/users/${spell(reader.user.id)}`)
        .set(admin.header)
        .send({ name: 'Renamed reader' })
        .expect(200);
      expect(updated.body).toMatchObject({ id: reader.user.id, name: 'Renamed reader' });
    });
  });

  // The embedded engine (PGlite) serves one instance and delivers no NOTIFY between connections.
  const describeOnPostgres = onEmbeddedDatabase() ? describe.skip : describe;

  describeOnPostgres('on two instances (needs NOTIFY between connections)', () => {
    let b: TestApp;

    beforeAll(async () => {
      b = await startTestApp({}, { database: t.database });
    });
    afterAll(() => b.close());

    it.each(Object.entries(SPELLINGS))(
      'answers disabled at once on both after a disable through the %s case spelling on one',
      async (_name, spell) => {
        const customer = await customerWithPlan();
        const [typed, other] = [spell(customer.id), swapped(customer.id)];
        // Each instance caches the limits under several spellings, on both lanes.
        for (const app of [t, b]) {
          for (const id of [typed, other, customer.id, typed]) {
            await limits(app, id, platform.header);
            await limits(app, id, reader.header);
          }
        }

        await disable(b, typed);

        // The other instance hears of it through NOTIFY: a few milliseconds, as for any change
        // (multi-instance.e2e.spec.ts); never, before ids were canonical.
        for (const app of [t, b]) {
          for (const id of [customer.id, typed, other, upper(customer.id)]) {
            for (const headers of [platform.header, reader.header]) {
              let last: Record<string, unknown> = {};
              const after = await timeUntil(async () => {
                last = (await limits(app, id, headers)).body as Record<string, unknown>;
                return last.status === 'disabled';
              }, 2000);
              expect(after).toBeLessThanOrEqual(WITHIN_MS);
              expect(last).toMatchObject({ customer_id: customer.id, disabled: true });
            }
          }
        }
      },
    );
  });
});
