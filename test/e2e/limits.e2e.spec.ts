import request from 'supertest';
import { CustomerChangeFeed } from '../../src/changes/customer-change-feed';
import { CustomerChanges } from '../../src/changes/customer-changes';
import { UnitOfWork } from '../../src/database/unit-of-work';
import { createApiKey, TestApiKey } from '../support/api-keys';
import { createCustomer, insertHold, signIn, StaffSession } from '../support/factories';
import { createFeature, createPlan, createSubscription } from '../support/plans';
import { startTestApp, TestApp } from '../support/test-app';
import { onEmbeddedDatabase } from '../support/test-env';

const UNKNOWN_ID = '6f1c1a52-9a43-4d5b-8a55-1b1d2f0c0c0c';

describe('GET /customers/{id}/limits', () => {
  let t: TestApp;
  let reader: StaffSession;
  let platform: TestApiKey;

  beforeAll(async () => {
    t = await startTestApp();
    reader = await signIn(t, 'user');
    platform = await createApiKey(t);
  });
  afterAll(() => t.close());

  const limitsOf = (
    app: TestApp,
    customerId: string,
    header: Record<string, string> = platform.header,
  ) => request(app.http).get(`/api/v1/customers/${customerId}/limits`).set(header);

  describe('computed from the active subscriptions', () => {
    it('unites features and sums limits and seats: 10 and 15 give 25', async () => {
      const [calls, seats, sso] = [
        await createFeature(t),
        await createFeature(t),
        await createFeature(t),
      ];
      const customer = await createCustomer(t);
      const a = await createPlan(t, {
        grants: { [calls.code]: 10, [seats.code]: 3 },
        userCount: 5,
      });
      const b = await createPlan(t, {
        grants: { [calls.code]: 15, [sso.code]: null },
        userCount: 7,
      });
      await createSubscription(t, customer.id, a.id);
      await createSubscription(t, customer.id, b.id);

      const response = await limitsOf(t, customer.id).expect(200);
      expect(response.body).toEqual({
        customer_id: customer.id,
        status: 'enabled',
        disabled: false,
        user_count: 12,
        features: [calls.code, seats.code, sso.code].sort(),
        limits: { [calls.code]: 25, [seats.code]: 3 },
        holds: [],
        as_of: expect.any(String),
      });
      expect(Date.parse(response.body.as_of)).toBeGreaterThan(Date.now() - 60_000);
    });

    it('counts a plan twice when the customer has it twice', async () => {
      const feature = await createFeature(t);
      const customer = await createCustomer(t);
      const plan = await createPlan(t, { grants: { [feature.code]: 100 }, userCount: 2 });
      await createSubscription(t, customer.id, plan.id);
      await createSubscription(t, customer.id, plan.id);
      const response = await limitsOf(t, customer.id).expect(200);
      expect(response.body).toMatchObject({ user_count: 4, limits: { [feature.code]: 200 } });
    });

    it('leaves a feature unlimited when any active subscription grants it without a limit', async () => {
      const feature = await createFeature(t);
      const customer = await createCustomer(t);
      await createSubscription(
        t,
        customer.id,
        (await createPlan(t, { grants: { [feature.code]: 10 } })).id,
      );
      await createSubscription(
        t,
        customer.id,
        (await createPlan(t, { grants: { [feature.code]: null } })).id,
      );
      const response = await limitsOf(t, customer.id).expect(200);
      expect(response.body.features).toEqual([feature.code]);
      expect(response.body.limits).toEqual({});
    });

    it('ignores cancelled subscriptions, and grants nothing without an active one', async () => {
      const feature = await createFeature(t);
      const customer = await createCustomer(t);
      const plan = await createPlan(t, { grants: { [feature.code]: 10 }, userCount: 3 });
      const subscription = await createSubscription(t, customer.id, plan.id);
      await t.db.query(
        `UPDATE subscriptions SET status = 'cancelled', cancelled_at = now() WHERE id = $1`,
        [subscription.id],
      );
      const response = await limitsOf(t, customer.id).expect(200);
      expect(response.body).toEqual({
        customer_id: customer.id,
        status: 'enabled',
        disabled: false,
        user_count: 0,
        features: [],
        limits: {},
        holds: [],
        as_of: expect.any(String),
      });
    });

    it('says disabled and grants nothing for a disabled customer, though its subscriptions stay', async () => {
      const feature = await createFeature(t);
      const customer = await createCustomer(t, { status: 'disabled', disabledAt: new Date() });
      const [hold] = await t.db.query<{ id: string; starts_at: Date }[]>(
        'SELECT id, starts_at FROM holds WHERE customer_id = $1',
        [customer.id],
      );
      const plan = await createPlan(t, { grants: { [feature.code]: 10 }, userCount: 3 });
      await createSubscription(t, customer.id, plan.id);
      const response = await limitsOf(t, customer.id).expect(200);
      expect(response.body).toEqual({
        customer_id: customer.id,
        status: 'disabled',
        disabled: true,
        holds: [
          {
            id: hold.id,
            source: 'manual',
            reason_code: 'other',
            since: hold.starts_at.toISOString(),
            until: null,
          },
        ],
        user_count: 0,
        features: [],
        limits: {},
        as_of: expect.any(String),
      });
    });
  });

  describe('who may ask', () => {
    it('answers staff of any role, a platform key and the customer’s own key', async () => {
      const customer = await createCustomer(t);
      const own = await createApiKey(t, customer.id);
      await limitsOf(t, customer.id, reader.header).expect(200);
      await limitsOf(t, customer.id, platform.header).expect(200);
      await limitsOf(t, customer.id, own.header).expect(200);
    });

    it('refuses another customer’s key with 403 forbidden', async () => {
      const [customer, other] = [await createCustomer(t), await createCustomer(t)];
      const response = await limitsOf(t, customer.id, (await createApiKey(t, other.id)).header);
      expect(response.status).toBe(403);
      expect(response.body.code).toBe('forbidden');
    });

    it('answers 404 for an unknown customer and 400 for a malformed id', async () => {
      expect((await limitsOf(t, UNKNOWN_ID).expect(404)).body.code).toBe('not_found');
      expect((await limitsOf(t, 'not-a-uuid').expect(400)).body.errors).toEqual([
        { field: 'id', message: 'must be a UUID' },
      ]);
    });
  });

  describe('the cache', () => {
    it('hears every instance through LISTEN on PostgreSQL, and only itself on the embedded engine', () => {
      const feed = t.app.get(CustomerChangeFeed);
      expect(feed.live).toBe(true);
      expect(feed.backendPid === undefined).toBe(onEmbeddedDatabase());
    });

    it('answers from memory: a change written behind the service’s back is not seen', async () => {
      const customer = await createCustomer(t);
      await limitsOf(t, customer.id).expect(200);
      // No NOTIFY and no local change: only a cache can still say "enabled".
      await insertHold(t.db, customer.id);
      expect((await limitsOf(t, customer.id).expect(200)).body.status).toBe('enabled');
    });

    it('is dropped for a customer when a change to it is announced, and only for it', async () => {
      const [customer, other] = [await createCustomer(t), await createCustomer(t)];
      await limitsOf(t, customer.id).expect(200);
      await limitsOf(t, other.id).expect(200);
      await insertHold(t.db, customer.id);
      await insertHold(t.db, other.id);
      // What every use case does in its transaction: announce the change to this customer.
      await t.app.get(UnitOfWork).run(() => t.app.get(CustomerChanges).changed(customer.id));
      expect((await limitsOf(t, customer.id)).body.status).toBe('disabled');
      expect((await limitsOf(t, other.id)).body.status).toBe('enabled');
    });

    it('is off with LIMITS_CACHE=false: every answer is read from the database', async () => {
      const uncached = await startTestApp({ LIMITS_CACHE: 'false' }, { database: t.database });
      try {
        const customer = await createCustomer(t);
        expect((await limitsOf(uncached, customer.id).expect(200)).body.status).toBe('enabled');
        await insertHold(t.db, customer.id);
        expect((await limitsOf(uncached, customer.id).expect(200)).body.status).toBe('disabled');
      } finally {
        await uncached.close();
      }
    });
  });
});
