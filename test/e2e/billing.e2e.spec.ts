import { SchedulerRegistry } from '@nestjs/schedule';
import request from 'supertest';
import { BillingScheduler } from '../../src/billing/billing-scheduler';
import { Invoice } from '../../src/billing/entities/invoice.entity';
import { Customer } from '../../src/customers/entities/customer.entity';
import { nextPeriodEnd } from '../../src/subscriptions/billing-period';
import { Subscription } from '../../src/subscriptions/entities/subscription.entity';
import { createCustomer, signIn, StaffSession } from '../support/factories';
import { createPlan, createSubscription } from '../support/plans';
import { startTestApp, TestApp } from '../support/test-app';

const DAY = 86_400_000;
const UNKNOWN_ID = '6f1c1a52-9a43-4d5b-8a55-1b1d2f0c0c0c';
const daysAgo = (days: number) => new Date(Date.now() - days * DAY);

/** A monthly period that started `days` ago, anchored on its start. */
const monthFrom = (start: Date) => ({ start, end: nextPeriodEnd(start, 'month', start) });

describe('billing', () => {
  let t: TestApp;
  let developer: StaffSession;
  let support: StaffSession;
  let reader: StaffSession;

  beforeAll(async () => {
    t = await startTestApp();
    [developer, support, reader] = await Promise.all([
      signIn(t, 'developer'),
      signIn(t, 'customer_support'),
      signIn(t, 'user'),
    ]);
  });
  afterAll(() => t.close());

  const runBilling = (app: TestApp = t) =>
    request(app.http).post('/api/v1/billing/runs').set(developer.header).send();
  /**
   * A run before a test's own data: it bills whatever else is due in the database and answers
   * how many customers every run skips besides the test's (paused ones the test did not make).
   * None in this file's own database; on the embedded engine, where every file shares one, the
   * other files' paused customers.
   */
  const skippedBesides = async (): Promise<number> =>
    ((await runBilling().expect(201)).body as { skipped: number }).skipped;
  const invoicesOf = async (subscriptionId: string) =>
    (
      await t.db.getRepository(Invoice).find({
        where: { subscriptionId },
        order: { periodStart: 'ASC' },
      })
    ).map((i) => [i.periodStart.toISOString(), i.periodEnd.toISOString()]);
  const subscription = (id: string) => t.db.getRepository(Subscription).findOneByOrFail({ id });
  const disable = (customerId: string, body: object = {}, app: TestApp = t) =>
    request(app.http)
      .post(`/api/v1/customers/${customerId}/disable`)
      .set(support.header)
      .send(body)
      .expect(200);
  const enable = (customerId: string) =>
    request(t.http)
      .post(`/api/v1/customers/${customerId}/enable`)
      .set(support.header)
      .send({})
      .expect(200);

  describe('POST /billing/runs', () => {
    it('invoices each ended period at the plan’s price and moves the subscription to its next period', async () => {
      const others = await skippedBesides();
      const customer = await createCustomer(t);
      const plan = await createPlan(t, { amount: 4900 });
      const ended = monthFrom(daysAgo(40));
      const due = await createSubscription(t, customer.id, plan.id, ended);
      const current = await createSubscription(t, customer.id, plan.id, monthFrom(daysAgo(3)));
      const cancelled = await createSubscription(t, customer.id, plan.id, monthFrom(daysAgo(40)));
      await t.db.query(`UPDATE subscriptions SET status = 'cancelled' WHERE id = $1`, [
        cancelled.id,
      ]);

      const response = await runBilling().expect(201);
      expect(response.body).toEqual({
        id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        invoiced: 1,
        skipped: others,
      });
      expect(await invoicesOf(due.id)).toEqual([
        [ended.start.toISOString(), ended.end.toISOString()],
      ]);
      expect(await subscription(due.id)).toMatchObject({
        currentPeriodStart: ended.end,
        currentPeriodEnd: nextPeriodEnd(ended.end, 'month', ended.start),
      });
      expect(await invoicesOf(current.id)).toEqual([]);
      expect(await invoicesOf(cancelled.id)).toEqual([]);
      const [run] = await t.db.query<{ trigger: string; invoiced: number; finished_at: Date }[]>(
        'SELECT "trigger", invoiced, finished_at FROM billing_runs WHERE id = $1',
        [response.body.id],
      );
      expect(run).toMatchObject({ trigger: 'manual', invoiced: 1, finished_at: expect.any(Date) });

      const listed = await request(t.http)
        .get(`/api/v1/customers/${customer.id}/invoices`)
        .set(reader.header)
        .expect(200);
      expect(listed.body).toEqual({
        data: [
          {
            id: expect.any(String),
            number: expect.stringMatching(/^INV-\d{6,}$/),
            customer_id: customer.id,
            subscription_id: due.id,
            plan_code: plan.code,
            amount: 4900,
            currency: 'EUR',
            period_start: ended.start.toISOString(),
            period_end: ended.end.toISOString(),
            status: 'open',
            due_at: expect.any(String),
            amount_due: 4900,
            amount_paid: 0,
            days_overdue: 0,
            paid_at: null,
            voided_at: null,
            void_reason: null,
            created_at: expect.any(String),
          },
        ],
        next_cursor: null,
      });
      // Issued at the run, due INVOICE_TERMS_DAYS (14) later.
      const [shown] = listed.body.data as { due_at: string; created_at: string }[];
      expect(Date.parse(shown.due_at) - Date.parse(shown.created_at)).toBe(14 * DAY);
      expect(Math.abs(Date.parse(shown.created_at) - Date.now())).toBeLessThan(60_000);
    });

    it('invoices every period that ended since the last run, once each, however often it runs', async () => {
      const customer = await createCustomer(t);
      const plan = await createPlan(t);
      const first = monthFrom(daysAgo(75));
      const due = await createSubscription(t, customer.id, plan.id, first);
      await runBilling().expect(201);
      await runBilling().expect(201);
      const second = nextPeriodEnd(first.end, 'month', first.start);
      expect(await invoicesOf(due.id)).toEqual([
        [first.start.toISOString(), first.end.toISOString()],
        [first.end.toISOString(), second.toISOString()],
      ]);
    });

    it('never invoices one period twice when two runs go at once', async () => {
      const plan = await createPlan(t);
      const due: string[] = [];
      for (let i = 0; i < 30; i += 1) {
        const customer = await createCustomer(t);
        due.push((await createSubscription(t, customer.id, plan.id, monthFrom(daysAgo(35)))).id);
      }
      const [a, b] = await Promise.all([runBilling(), runBilling()]);
      expect([a.status, b.status]).toEqual([201, 201]);
      expect(a.body.invoiced + b.body.invoiced).toBe(30);
      const [{ invoices, periods }] = await t.db.query<{ invoices: number; periods: number }[]>(
        `SELECT count(*)::int AS invoices,
                count(DISTINCT (subscription_id, period_start))::int AS periods
           FROM invoices WHERE subscription_id = ANY($1::uuid[])`,
        [due],
      );
      expect({ invoices, periods }).toEqual({ invoices: 30, periods: 30 });
    });

    it('is backed by the database: a second invoice for a period is refused', async () => {
      const customer = await createCustomer(t);
      const plan = await createPlan(t);
      const due = await createSubscription(t, customer.id, plan.id, monthFrom(daysAgo(35)));
      await runBilling().expect(201);
      const [invoice] = await t.db.getRepository(Invoice).findBy({ subscriptionId: due.id });
      await expect(
        t.db.query(
          `INSERT INTO invoices (subscription_id, customer_id, plan_id, billing_run_id, amount,
                                 currency, period_start, period_end, amount_due, due_at)
           SELECT subscription_id, customer_id, plan_id, billing_run_id, amount, currency,
                  period_start, period_end, amount_due, due_at FROM invoices WHERE id = $1`,
          [invoice.id],
        ),
      ).rejects.toMatchObject({
        driverError: { code: '23505', constraint: 'uq_invoices_subscription_period' },
      });
    });
  });

  describe('paused billing', () => {
    it('skips and counts a customer disabled with billing paused, and leaves its subscription as it is', async () => {
      const others = await skippedBesides();
      const customer = await createCustomer(t);
      const plan = await createPlan(t);
      const ended = monthFrom(daysAgo(40));
      const due = await createSubscription(t, customer.id, plan.id, ended);
      await createSubscription(t, customer.id, plan.id, monthFrom(daysAgo(35)));
      await disable(customer.id); // BILLING_PAUSE_ON_DISABLE defaults to true
      expect(
        (await t.db.getRepository(Customer).findOneByOrFail({ id: customer.id })).billingPaused,
      ).toBe(true);

      const response = await runBilling().expect(201);
      expect(response.body.skipped).toBe(others + 1); // one customer, though two subscriptions
      expect(await invoicesOf(due.id)).toEqual([]);
      expect(await subscription(due.id)).toMatchObject({
        status: 'active',
        currentPeriodStart: ended.start,
        currentPeriodEnd: ended.end,
      });
      // Enabled again, it is not skipped any more (and later tests count only their own).
      await enable(customer.id);
      expect((await runBilling().expect(201)).body.skipped).toBe(others);
    });

    it('resumes on enable with the first period that starts after it, without billing the paused time', async () => {
      const customer = await createCustomer(t);
      const plan = await createPlan(t);
      const anchor = daysAgo(130);
      const p1 = monthFrom(anchor);
      const p2End = nextPeriodEnd(p1.end, 'month', anchor);
      const p3End = nextPeriodEnd(p2End, 'month', anchor);
      const p4End = nextPeriodEnd(p3End, 'month', anchor);
      const due = await createSubscription(t, customer.id, plan.id, p1);
      await disable(customer.id);
      await enable(customer.id);
      // The pause the disable and enable recorded, moved back in time: paused during the second
      // period, enabled again during the third.
      const pausedAt = new Date(p1.end.getTime() + 5 * DAY);
      const resumedAt = new Date(p2End.getTime() + 3 * DAY);
      await t.db.query(
        `UPDATE billing_pauses SET paused_at = $2, resumed_at = $3 WHERE customer_id = $1`,
        [customer.id, pausedAt, resumedAt],
      );
      const [{ recorded }] = await t.db.query<{ recorded: number }[]>(
        'SELECT count(*)::int AS recorded FROM billing_pauses WHERE customer_id = $1',
        [customer.id],
      );
      expect(recorded).toBe(1);

      await runBilling().expect(201);
      // p1 ended before the pause: billed. p2 (paused from day 5) and p3 (paused until day 3):
      // free. p4 started after the enable and has ended: billed.
      expect(await invoicesOf(due.id)).toEqual([
        [p1.start.toISOString(), p1.end.toISOString()],
        [p3End.toISOString(), p4End.toISOString()],
      ]);
      expect((await subscription(due.id)).currentPeriodStart).toEqual(p4End);
    });

    it('records each pause by the trigger on billing_paused, however it is flipped', async () => {
      const customer = await createCustomer(t);
      await disable(customer.id);
      const [open] = await t.db.query<{ resumed_at: Date | null }[]>(
        'SELECT resumed_at FROM billing_pauses WHERE customer_id = $1',
        [customer.id],
      );
      expect(open.resumed_at).toBeNull();
      await enable(customer.id);
      const [closed] = await t.db.query<{ paused_at: Date; resumed_at: Date | null }[]>(
        'SELECT paused_at, resumed_at FROM billing_pauses WHERE customer_id = $1',
        [customer.id],
      );
      expect(closed.resumed_at!.getTime()).toBeGreaterThanOrEqual(closed.paused_at.getTime());
    });

    it('bills a customer disabled without pausing billing: pause_billing false, or BILLING_PAUSE_ON_DISABLE=false', async () => {
      const others = await skippedBesides();
      const plan = await createPlan(t);
      const [overridden, configured] = [await createCustomer(t), await createCustomer(t)];
      const a = await createSubscription(t, overridden.id, plan.id, monthFrom(daysAgo(40)));
      const b = await createSubscription(t, configured.id, plan.id, monthFrom(daysAgo(40)));
      await disable(overridden.id, { pause_billing: false });
      const noPause = await startTestApp(
        { BILLING_PAUSE_ON_DISABLE: 'false' },
        { database: t.database },
      );
      try {
        await disable(configured.id, {}, noPause);
      } finally {
        await noPause.close();
      }
      const response = await runBilling().expect(201);
      expect(response.body.skipped).toBe(others);
      expect(await invoicesOf(a.id)).toHaveLength(1);
      expect(await invoicesOf(b.id)).toHaveLength(1);
      const pauses = await t.db.query<unknown[]>(
        'SELECT 1 FROM billing_pauses WHERE customer_id IN ($1, $2)',
        [overridden.id, configured.id],
      );
      expect(pauses).toEqual([]);
    });

    it('pauses billing with pause_billing true even when BILLING_PAUSE_ON_DISABLE=false', async () => {
      const others = await skippedBesides();
      const plan = await createPlan(t);
      const customer = await createCustomer(t);
      const due = await createSubscription(t, customer.id, plan.id, monthFrom(daysAgo(40)));
      const noPause = await startTestApp(
        { BILLING_PAUSE_ON_DISABLE: 'false' },
        { database: t.database },
      );
      try {
        await disable(customer.id, { pause_billing: true }, noPause);
      } finally {
        await noPause.close();
      }
      expect((await runBilling().expect(201)).body.skipped).toBe(others + 1);
      expect(await invoicesOf(due.id)).toEqual([]);
      await enable(customer.id);
    });
  });

  describe('GET /customers/{id}/invoices', () => {
    it('pages newest first', async () => {
      const customer = await createCustomer(t);
      const plan = await createPlan(t);
      await createSubscription(t, customer.id, plan.id, monthFrom(daysAgo(75)));
      await runBilling().expect(201);
      const first = await request(t.http)
        .get(`/api/v1/customers/${customer.id}/invoices?limit=1`)
        .set(reader.header)
        .expect(200);
      const second = await request(t.http)
        .get(`/api/v1/customers/${customer.id}/invoices?limit=1&cursor=${first.body.next_cursor}`)
        .set(reader.header)
        .expect(200);
      expect(first.body.data).toHaveLength(1);
      expect(second.body.next_cursor).toBeNull();
      expect(new Set([first.body.data[0].id, second.body.data[0].id]).size).toBe(2);
    });

    it('answers 404 for an unknown customer and 400 for a malformed id or cursor', async () => {
      await request(t.http)
        .get(`/api/v1/customers/${UNKNOWN_ID}/invoices`)
        .set(reader.header)
        .expect(404);
      await request(t.http).get('/api/v1/customers/42/invoices').set(reader.header).expect(400);
      const customer = await createCustomer(t);
      const bad = await request(t.http)
        .get(`/api/v1/customers/${customer.id}/invoices?cursor=nope`)
        .set(reader.header)
        .expect(400);
      expect(bad.body.errors).toEqual([{ field: 'cursor', message: 'is not a valid cursor' }]);
    });
  });

  describe('the schedule', () => {
    it('is off unless BILLING_RUN_CRON is set', () => {
      expect(t.app.get(BillingScheduler).scheduled).toBe(false);
      expect(t.app.get(SchedulerRegistry).getCronJobs().size).toBe(0);
    });

    it('runs billing on BILLING_RUN_CRON', async () => {
      const customer = await createCustomer(t);
      const plan = await createPlan(t);
      const due = await createSubscription(t, customer.id, plan.id, monthFrom(daysAgo(40)));
      const scheduled = await startTestApp(
        { BILLING_RUN_CRON: '* * * * * *' },
        { database: t.database },
      );
      try {
        expect(scheduled.app.get(SchedulerRegistry).getCronJob('billing-run')).toBeDefined();
        const deadline = Date.now() + 5000;
        while ((await invoicesOf(due.id)).length === 0 && Date.now() < deadline) {
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      } finally {
        await scheduled.close();
      }
      expect(await invoicesOf(due.id)).toHaveLength(1);
      const [{ runs }] = await t.db.query<{ runs: number }[]>(
        `SELECT count(*)::int AS runs FROM billing_runs WHERE "trigger" = 'scheduled'`,
      );
      expect(runs).toBeGreaterThanOrEqual(1);
    });
  });
});
