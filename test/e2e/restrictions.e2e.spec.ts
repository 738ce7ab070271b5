import request from 'supertest';
import { Subscription } from '../../src/subscriptions/entities/subscription.entity';
import { createApiKey, TestApiKey } from '../support/api-keys';
import { countRows, createCustomer, signIn, StaffSession } from '../support/factories';
import { createFeature, createPlan, createSubscription } from '../support/plans';
import { startTestApp, TestApp } from '../support/test-app';

/**
 * What disabling a customer does, through the real disable and enable endpoints, and that
 * enabling undoes each effect.
 */
describe('restrictions while a customer is disabled', () => {
  let t: TestApp;
  let support: StaffSession;
  let manager: StaffSession;
  let platform: TestApiKey;

  beforeAll(async () => {
    t = await startTestApp();
    [support, manager] = await Promise.all([
      signIn(t, 'customer_support'),
      signIn(t, 'account_manager'),
    ]);
    platform = await createApiKey(t, null, 'Operator backend');
  });
  afterAll(() => t.close());

  const disable = (
    customerId: string,
    header: Record<string, string> = support.header,
    body: object = {},
  ) =>
    request(t.http)
      .post(`/api/v1/customers/${customerId}/disable`)
      .set(header)
      .send({ reason: 'Unpaid invoice', ...body })
      .expect(200);
  const enable = (customerId: string, header: Record<string, string> = support.header) =>
    request(t.http).post(`/api/v1/customers/${customerId}/enable`).set(header).send({}).expect(200);
  const limitsOf = (customerId: string, header: Record<string, string> = platform.header) =>
    request(t.http).get(`/api/v1/customers/${customerId}/limits`).set(header);

  async function customerWithPlan() {
    const feature = await createFeature(t);
    const customer = await createCustomer(t);
    const plan = await createPlan(t, { grants: { [feature.code]: 50 }, userCount: 4 });
    const subscription = await createSubscription(t, customer.id, plan.id);
    return { customer, feature, plan, subscription };
  }

  describe('the limits API', () => {
    it('says disabled and grants nothing from the next request on, and grants again on enable', async () => {
      const { customer, feature } = await customerWithPlan();
      const granted = {
        customer_id: customer.id,
        status: 'enabled',
        disabled: false,
        user_count: 4,
        features: [feature.code],
        limits: { [feature.code]: 50 },
        holds: [],
        as_of: expect.any(String),
      };
      expect((await limitsOf(customer.id).expect(200)).body).toEqual(granted); // now cached

      await disable(customer.id);
      expect((await limitsOf(customer.id).expect(200)).body).toEqual({
        customer_id: customer.id,
        status: 'disabled',
        disabled: true,
        holds: [expect.objectContaining({ source: 'manual', reason_code: 'other', until: null })],
        user_count: 0,
        features: [],
        limits: {},
        as_of: expect.any(String),
      });

      await enable(customer.id);
      expect((await limitsOf(customer.id).expect(200)).body).toEqual(granted);
    });
  });

  describe('the customer’s own API key', () => {
    it('is refused everywhere but its limits with 403 customer_disabled, and works again on enable', async () => {
      const { customer } = await customerWithPlan();
      const own = await createApiKey(t, customer.id);
      await request(t.http).get(`/api/v1/customers/${customer.id}`).set(own.header).expect(200);

      await disable(customer.id);
      const refused = await request(t.http)
        .get(`/api/v1/customers/${customer.id}`)
        .set(own.header)
        .expect(403);
      expect(refused.body).toMatchObject({ status: 403, code: 'customer_disabled' });
      // Routes it could never call are refused the same way: the key is refused, not the route.
      for (const path of ['/api/v1/customers', `/api/v1/customers/${customer.id}/subscriptions`]) {
        const response = await request(t.http).get(path).set(own.header);
        expect({ path, status: response.status, code: response.body.code }).toEqual({
          path,
          status: 403,
          code: 'customer_disabled',
        });
      }
      const limits = await limitsOf(customer.id, own.header).expect(200);
      expect(limits.body).toMatchObject({ status: 'disabled', disabled: true });

      await enable(customer.id);
      await request(t.http).get(`/api/v1/customers/${customer.id}`).set(own.header).expect(200);
      expect((await limitsOf(customer.id, own.header).expect(200)).body.disabled).toBe(false);
    });

    it('cannot enable its disabled customer: it is refused with 403 customer_disabled', async () => {
      const customer = await createCustomer(t);
      const own = await createApiKey(t, customer.id);
      await disable(customer.id);
      const response = await request(t.http)
        .post(`/api/v1/customers/${customer.id}/enable`)
        .set(own.header)
        .send({})
        .expect(403);
      expect(response.body.code).toBe('customer_disabled');
      await enable(customer.id);
    });

    it('leaves other customers’ keys and platform keys alone', async () => {
      const [disabled, other] = [await createCustomer(t), await createCustomer(t)];
      const otherKey = await createApiKey(t, other.id);
      await disable(disabled.id);
      await request(t.http).get(`/api/v1/customers/${other.id}`).set(otherKey.header).expect(200);
      await request(t.http)
        .get(`/api/v1/customers/${disabled.id}`)
        .set(platform.header)
        .expect(200);
      await enable(disabled.id);
    });
  });

  describe('subscriptions', () => {
    it('stay active but cannot be added to or changed, by staff or a platform key; cancelling works', async () => {
      const { customer, plan, subscription } = await customerWithPlan();
      const other = await createPlan(t);
      await disable(customer.id);
      const before = await countRows(t, ['subscriptions']);

      for (const header of [manager.header, platform.header]) {
        const added = await request(t.http)
          .post(`/api/v1/customers/${customer.id}/subscriptions`)
          .set(header)
          .send({ plan_code: other.code })
          .expect(403);
        expect(added.body.code).toBe('customer_disabled');
        const changed = await request(t.http)
          .patch(`/api/v1/subscriptions/${subscription.id}`)
          .set(header)
          .send({ plan_code: other.code })
          .expect(403);
        expect(changed.body.code).toBe('customer_disabled');
      }
      expect(await countRows(t, ['subscriptions'])).toEqual(before);
      const kept = await t.db.getRepository(Subscription).findOneByOrFail({ id: subscription.id });
      expect(kept).toMatchObject({ status: 'active', planId: plan.id });

      const listed = await request(t.http)
        .get(`/api/v1/customers/${customer.id}/subscriptions`)
        .set(manager.header)
        .expect(200);
      expect(listed.body.data).toEqual([
        expect.objectContaining({ id: subscription.id, status: 'active' }),
      ]);

      const second = await createSubscription(t, customer.id, plan.id);
      await request(t.http)
        .post(`/api/v1/subscriptions/${second.id}/cancel`)
        .set(support.header)
        .expect(200);
      expect(
        (await t.db.getRepository(Subscription).findOneByOrFail({ id: second.id })).status,
      ).toBe('cancelled');
    });

    it('can be added to and changed again once the customer is enabled', async () => {
      const { customer, subscription } = await customerWithPlan();
      const other = await createPlan(t);
      await disable(customer.id);
      await enable(customer.id);
      await request(t.http)
        .patch(`/api/v1/subscriptions/${subscription.id}`)
        .set(manager.header)
        .send({ plan_code: other.code })
        .expect(200);
      await request(t.http)
        .post(`/api/v1/customers/${customer.id}/subscriptions`)
        .set(manager.header)
        .send({ plan_code: other.code })
        .expect(201);
    });

    it('never gains a subscription after a disable that raced it', async () => {
      const plan = await createPlan(t);
      for (let round = 0; round < 5; round += 1) {
        const customer = await createCustomer(t);
        const [subscribed] = await Promise.all([
          request(t.http)
            .post(`/api/v1/customers/${customer.id}/subscriptions`)
            .set(manager.header)
            .send({ plan_code: plan.code }),
          disable(customer.id),
        ]);
        expect([201, 403]).toContain(subscribed.status);
        const [row] = await t.db.query<{ disabled_at: Date }[]>(
          'SELECT disabled_at FROM customers WHERE id = $1',
          [customer.id],
        );
        const subscriptions = await t.db.getRepository(Subscription).findBy({
          customerId: customer.id,
        });
        // Either the subscription committed before the disable, or it was refused.
        expect(subscriptions).toHaveLength(subscribed.status === 201 ? 1 : 0);
        for (const subscription of subscriptions) {
          expect(subscription.createdAt.getTime()).toBeLessThanOrEqual(row.disabled_at.getTime());
        }
      }
    });
  });

  describe('platform keys', () => {
    it('may disable and enable, and the audit entries name the key', async () => {
      const customer = await createCustomer(t);
      await disable(customer.id, platform.header);
      await enable(customer.id, platform.header);
      const audit = await request(t.http)
        .get(`/api/v1/customers/${customer.id}/audit-logs`)
        .set(support.header)
        .expect(200);
      const byKey = { type: 'api_key', id: platform.id, name: 'Operator backend' };
      expect(audit.body.data).toEqual(
        ['customer.enabled', 'hold.lifted', 'customer.disabled', 'hold.placed'].map((action) =>
          expect.objectContaining({ action, actor: byKey }),
        ),
      );
    });
  });
});
