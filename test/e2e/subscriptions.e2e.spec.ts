import request from 'supertest';
import { nextPeriodEnd } from '../../src/subscriptions/billing-period';
import { Subscription } from '../../src/subscriptions/entities/subscription.entity';
import { createApiKey, TestApiKey } from '../support/api-keys';
import { countRows, createCustomer, signIn, StaffSession } from '../support/factories';
import { createFeature, createPlan, createSubscription } from '../support/plans';
import { startTestApp, TestApp } from '../support/test-app';

const UNKNOWN_ID = '6f1c1a52-9a43-4d5b-8a55-1b1d2f0c0c0c';
const DAY = 86_400_000;

describe('subscriptions', () => {
  let t: TestApp;
  let manager: StaffSession;
  let support: StaffSession;
  let reader: StaffSession;
  let platform: TestApiKey;

  beforeAll(async () => {
    t = await startTestApp();
    [manager, support, reader] = await Promise.all([
      signIn(t, 'account_manager'),
      signIn(t, 'customer_support'),
      signIn(t, 'user'),
    ]);
    platform = await createApiKey(t);
  });
  afterAll(() => t.close());

  const subscriptions = () => t.db.getRepository(Subscription);
  const subscribe = (
    customerId: string,
    body: object,
    header: Record<string, string> = manager.header,
  ) => request(t.http).post(`/api/v1/customers/${customerId}/subscriptions`).set(header).send(body);

  describe('POST /customers/{id}/subscriptions', () => {
    it('subscribes the customer, its first period starting now and ending a month later', async () => {
      const customer = await createCustomer(t);
      const plan = await createPlan(t, { interval: 'month' });
      const before = Date.now();
      const response = await subscribe(customer.id, { plan_code: plan.code }).expect(201);
      expect(response.body).toEqual({
        id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        customer_id: customer.id,
        plan_code: plan.code,
        status: 'active',
        current_period_start: expect.any(String),
        current_period_end: expect.any(String),
        cancelled_at: null,
        created_at: expect.any(String),
        updated_at: expect.any(String),
      });
      const start = new Date(response.body.current_period_start);
      const end = new Date(response.body.current_period_end);
      expect(start.getTime()).toBeGreaterThanOrEqual(before - 5);
      expect(end).toEqual(nextPeriodEnd(start, 'month', start));
      expect((end.getTime() - start.getTime()) / DAY).toBeGreaterThanOrEqual(28);
      expect((end.getTime() - start.getTime()) / DAY).toBeLessThanOrEqual(31);
      expect(await subscriptions().findOneByOrFail({ id: response.body.id })).toMatchObject({
        customerId: customer.id,
        planId: plan.id,
        status: 'active',
      });
    });

    it('lets a platform key subscribe a customer, for a year on a yearly plan', async () => {
      const customer = await createCustomer(t);
      const plan = await createPlan(t, { interval: 'year' });
      const response = await subscribe(customer.id, { plan_code: plan.code }, platform.header);
      expect(response.status).toBe(201);
      const start = new Date(response.body.current_period_start);
      const end = new Date(response.body.current_period_end);
      expect(end.getUTCFullYear()).toBe(start.getUTCFullYear() + 1);
    });

    it('answers 404 for an unknown customer or plan and stores nothing', async () => {
      const plan = await createPlan(t);
      const customer = await createCustomer(t);
      const before = await countRows(t, ['subscriptions']);
      const noCustomer = await subscribe(UNKNOWN_ID, { plan_code: plan.code }).expect(404);
      expect(noCustomer.body.code).toBe('not_found');
      const noPlan = await subscribe(customer.id, { plan_code: 'no_such_plan' }).expect(404);
      expect(noPlan.body.code).toBe('not_found');
      expect(await countRows(t, ['subscriptions'])).toEqual(before);
    });

    it.each([
      [{}, 'plan_code'],
      [{ plan_code: 42 }, 'plan_code'],
      [{ plan_code: 'Not A Code' }, 'plan_code'],
      [{ plan_code: 'pro', status: 'cancelled' }, 'status'],
    ])('refuses %j with 400 naming %s and stores nothing', async (body, field) => {
      const customer = await createCustomer(t);
      const before = await countRows(t, ['subscriptions']);
      const response = await subscribe(customer.id, body).expect(400);
      expect(response.body.errors.map((e: { field: string }) => e.field)).toContain(field);
      expect(await countRows(t, ['subscriptions'])).toEqual(before);
    });

    it('answers 400 for a malformed customer id', async () => {
      const response = await subscribe('nope', { plan_code: 'pro' }).expect(400);
      expect(response.body.errors).toEqual([{ field: 'id', message: 'must be a UUID' }]);
    });
  });

  describe('GET /customers/{id}/subscriptions', () => {
    it('lists the customer’s subscriptions newest first, cancelled ones too, in pages', async () => {
      const customer = await createCustomer(t);
      const plan = await createPlan(t);
      const older = await createSubscription(t, customer.id, plan.id);
      const newer = await createSubscription(t, customer.id, plan.id);
      await subscriptions().update(older.id, { status: 'cancelled', cancelledAt: new Date() });
      await createSubscription(t, (await createCustomer(t)).id, plan.id); // someone else's

      const first = await request(t.http)
        .get(`/api/v1/customers/${customer.id}/subscriptions?limit=1`)
        .set(reader.header)
        .expect(200);
      expect(first.body.data.map((s: { id: string }) => s.id)).toEqual([newer.id]);
      const second = await request(t.http)
        .get(
          `/api/v1/customers/${customer.id}/subscriptions?limit=1&cursor=${first.body.next_cursor}`,
        )
        .set(platform.header)
        .expect(200);
      expect(second.body).toEqual({
        data: [
          expect.objectContaining({ id: older.id, status: 'cancelled', plan_code: plan.code }),
        ],
        next_cursor: null,
      });
    });

    it('answers 404 for an unknown customer', async () => {
      const response = await request(t.http)
        .get(`/api/v1/customers/${UNKNOWN_ID}/subscriptions`)
        .set(reader.header)
        .expect(404);
      expect(response.body.code).toBe('not_found');
    });
  });

  describe('PATCH /subscriptions/{id}', () => {
    it('moves the subscription to another plan and keeps its period', async () => {
      const customer = await createCustomer(t);
      const [from, to] = [await createPlan(t), await createPlan(t)];
      const subscription = await createSubscription(t, customer.id, from.id);
      const response = await request(t.http)
        .patch(`/api/v1/subscriptions/${subscription.id}`)
        .set(manager.header)
        .send({ plan_code: to.code })
        .expect(200);
      expect(response.body).toMatchObject({
        id: subscription.id,
        plan_code: to.code,
        status: 'active',
        current_period_start: subscription.currentPeriodStart.toISOString(),
        current_period_end: subscription.currentPeriodEnd.toISOString(),
      });
      expect((await subscriptions().findOneByOrFail({ id: subscription.id })).planId).toBe(to.id);
    });

    it('refuses to change a cancelled subscription with 409 and changes nothing', async () => {
      const customer = await createCustomer(t);
      const [from, to] = [await createPlan(t), await createPlan(t)];
      const subscription = await createSubscription(t, customer.id, from.id);
      await subscriptions().update(subscription.id, {
        status: 'cancelled',
        cancelledAt: new Date(),
      });
      const response = await request(t.http)
        .patch(`/api/v1/subscriptions/${subscription.id}`)
        .set(manager.header)
        .send({ plan_code: to.code })
        .expect(409);
      expect(response.body.code).toBe('conflict');
      expect((await subscriptions().findOneByOrFail({ id: subscription.id })).planId).toBe(from.id);
    });

    it('answers 404 for an unknown subscription or plan, 400 for bad input, and changes nothing', async () => {
      const customer = await createCustomer(t);
      const plan = await createPlan(t);
      const subscription = await createSubscription(t, customer.id, plan.id);
      const patch = (id: string, body: object) =>
        request(t.http).patch(`/api/v1/subscriptions/${id}`).set(manager.header).send(body);
      expect((await patch(UNKNOWN_ID, { plan_code: plan.code })).status).toBe(404);
      expect((await patch(subscription.id, { plan_code: 'no_such_plan' })).status).toBe(404);
      expect((await patch(subscription.id, {})).status).toBe(400);
      expect((await patch(subscription.id, { plan_code: plan.code, status: 'x' })).status).toBe(
        400,
      );
      expect((await patch('123', { plan_code: plan.code })).status).toBe(400);
      expect((await subscriptions().findOneByOrFail({ id: subscription.id })).planId).toBe(plan.id);
    });
  });

  describe('POST /subscriptions/{id}/cancel', () => {
    it('cancels at once; cancelling again changes nothing', async () => {
      const customer = await createCustomer(t);
      const plan = await createPlan(t);
      const subscription = await createSubscription(t, customer.id, plan.id);
      const response = await request(t.http)
        .post(`/api/v1/subscriptions/${subscription.id}/cancel`)
        .set(support.header)
        .expect(200);
      expect(response.body).toMatchObject({
        status: 'cancelled',
        cancelled_at: expect.any(String),
      });
      const again = await request(t.http)
        .post(`/api/v1/subscriptions/${subscription.id}/cancel`)
        .set(platform.header)
        .expect(200);
      expect(again.body.cancelled_at).toBe(response.body.cancelled_at);
      expect(await subscriptions().findOneByOrFail({ id: subscription.id })).toMatchObject({
        status: 'cancelled',
        cancelledAt: new Date(response.body.cancelled_at),
      });
    });

    it('answers 404 for an unknown subscription and 400 for a malformed id', async () => {
      await request(t.http)
        .post(`/api/v1/subscriptions/${UNKNOWN_ID}/cancel`)
        .set(support.header)
        .expect(404);
      await request(t.http).post('/api/v1/subscriptions/x/cancel').set(support.header).expect(400);
    });
  });

  describe('what the limits see', () => {
    it('answers the new limits as soon as a subscription is added, changed or cancelled', async () => {
      const customer = await createCustomer(t);
      const feature = await createFeature(t);
      const small = await createPlan(t, { grants: { [feature.code]: 10 }, userCount: 2 });
      const large = await createPlan(t, { grants: { [feature.code]: 100 }, userCount: 20 });
      const limits = async () =>
        (
          await request(t.http)
            .get(`/api/v1/customers/${customer.id}/limits`)
            .set(platform.header)
            .expect(200)
        ).body;

      expect(await limits()).toMatchObject({ user_count: 0, features: [], limits: {} });
      const created = await subscribe(customer.id, { plan_code: small.code }).expect(201);
      expect(await limits()).toMatchObject({ user_count: 2, limits: { [feature.code]: 10 } });
      await request(t.http)
        .patch(`/api/v1/subscriptions/${created.body.id}`)
        .set(manager.header)
        .send({ plan_code: large.code })
        .expect(200);
      expect(await limits()).toMatchObject({ user_count: 20, limits: { [feature.code]: 100 } });
      await request(t.http)
        .post(`/api/v1/subscriptions/${created.body.id}/cancel`)
        .set(support.header)
        .expect(200);
      expect(await limits()).toMatchObject({ user_count: 0, features: [], limits: {} });
    });
  });
});
