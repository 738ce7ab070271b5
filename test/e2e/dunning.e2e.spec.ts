import request from 'supertest';
import { createCustomer, signIn, StaffSession } from '../support/factories';
import {
  advanceToDaysOverdue,
  DunningCallers,
  DunningRunBody,
  eventsOf,
  issueInvoice,
  pay,
  reload,
  runDunning,
  setExempt,
  voidInvoice,
} from '../support/dunning';
import {
  auditOf,
  disableCustomer,
  getCustomer,
  getLimits,
  HoldBody,
  liftHold,
  allPages,
} from '../support/holds';
import { startTestApp, TestApp, TestClock } from '../support/test-app';

/**
 * The dunning rules (API.md, "Dunning"), on a real billing run and a clock the test moves:
 * warnings at 7 and 21 days past due, one `overdue` hold at 30, lifted by the rules themselves
 * when no invoice is that late any more, never a manual hold, never twice for invoices whose hold
 * a person lifted, never on an exempt customer.
 */
describe('dunning: overdue invoices warn, then hold; payment lifts the hold', () => {
  let t: TestApp;
  let clock: TestClock;
  let developer: StaffSession;
  let manager: StaffSession;
  let support: StaffSession;
  let callers: DunningCallers;

  beforeAll(async () => {
    clock = new TestClock();
    t = await startTestApp({}, { clock });
    [developer, manager, support] = await Promise.all([
      signIn(t, 'developer'),
      signIn(t, 'account_manager'),
      signIn(t, 'customer_support'),
    ]);
    callers = { developer: developer.header, manager: manager.header };
  });
  afterAll(() => t.close());

  const run = async (): Promise<DunningRunBody> =>
    (await runDunning(t, developer.header).expect(201)).body as DunningRunBody;
  const holdsOf = (customerId: string) =>
    allPages<HoldBody>(t, `/api/v1/customers/${customerId}/holds`, developer.header);
  const overdueHolds = async (customerId: string) =>
    (await holdsOf(customerId)).filter((h) => h.source === 'overdue');

  it('warns at 8 days past due with an invoice.overdue event (step 7), once, and holds nobody', async () => {
    const customer = await createCustomer(t);
    const invoice = await issueInvoice(t, clock, callers, customer.id);
    expect(Date.parse(invoice.due_at) - Date.parse(invoice.created_at)).toBe(14 * 86_400_000);
    expect(Math.abs(Date.parse(invoice.created_at) - clock.now().getTime())).toBeLessThan(60_000);

    advanceToDaysOverdue(clock, invoice, 6);
    await run();
    expect(await eventsOf(t, customer.id, developer.header, 'invoice.overdue')).toEqual([]);

    advanceToDaysOverdue(clock, invoice, 8);
    const first = await run();
    expect(first.warnings_sent).toBeGreaterThanOrEqual(1);
    const events = await eventsOf(t, customer.id, developer.header, 'invoice.overdue');
    expect(events).toHaveLength(1);
    expect(events[0].data).toEqual({
      customer: expect.objectContaining({ id: customer.id, status: 'enabled' }),
      invoice: expect.objectContaining({
        id: invoice.id,
        number: invoice.number,
        status: 'open',
        days_overdue: 8,
      }),
      days_overdue: 8,
      step: 7,
    });
    expect(await holdsOf(customer.id)).toEqual([]);
    expect((await getCustomer(t, customer.id, developer.header)).status).toBe('enabled');
    expect((await reload(t, invoice, developer.header)).days_overdue).toBe(8);

    // Once per invoice and step: the next runs (and the next days) send nothing more.
    await run();
    advanceToDaysOverdue(clock, invoice, 12);
    await run();
    expect(await eventsOf(t, customer.id, developer.header, 'invoice.overdue')).toHaveLength(1);
  });

  it('holds at 31 days: one overdue hold by system naming the invoice; the customer is disabled, its limits say so', async () => {
    const customer = await createCustomer(t);
    const invoice = await issueInvoice(t, clock, callers, customer.id, { keep: true });
    advanceToDaysOverdue(clock, invoice, 8);
    await run();
    advanceToDaysOverdue(clock, invoice, 22);
    await run();
    advanceToDaysOverdue(clock, invoice, 29);
    await run();
    expect(await holdsOf(customer.id)).toEqual([]);

    advanceToDaysOverdue(clock, invoice, 31);
    const result = await run();
    expect(result.holds_placed).toBeGreaterThanOrEqual(1);
    const holds = await holdsOf(customer.id);
    expect(holds).toHaveLength(1);
    expect(holds[0]).toMatchObject({
      source: 'overdue',
      reason_code: 'non_payment',
      state: 'active',
      pause_billing: true,
      placed_by: { type: 'system', id: null, name: 'system' },
      ends_at: null,
    });
    expect(holds[0].reason).toContain(invoice.number);
    expect(holds[0].reason).toContain('31 days past due');

    const shown = await getCustomer(t, customer.id, developer.header);
    expect(shown).toMatchObject({ status: 'disabled', billing_paused: true });
    expect(shown.holds).toEqual([expect.objectContaining({ id: holds[0].id, source: 'overdue' })]);
    const limits = await getLimits(t, customer.id, developer.header);
    expect(limits).toMatchObject({ status: 'disabled', disabled: true, features: [], limits: {} });
    expect(limits.holds).toEqual([
      expect.objectContaining({ id: holds[0].id, source: 'overdue', reason_code: 'non_payment' }),
    ]);

    const audit = await auditOf(t, customer.id, developer.header);
    expect(audit.map((e) => [e.action, e.actor.type])).toEqual([
      ['hold.placed', 'system'],
      ['customer.disabled', 'system'],
    ]);
    const types = (await eventsOf(t, customer.id, developer.header)).map((e) => [
      e.type,
      e.data.step,
    ]);
    expect(types).toEqual([
      ['invoice.overdue', 7],
      ['invoice.overdue', 21],
      ['hold.placed', undefined],
      ['customer.disabled', undefined],
    ]);
  });

  it('places one hold for several overdue invoices, naming each', async () => {
    const customer = await createCustomer(t);
    const older = await issueInvoice(t, clock, callers, customer.id);
    clock.advance(3 * 86_400_000);
    const newer = await issueInvoice(t, clock, callers, customer.id);
    advanceToDaysOverdue(clock, newer, 30);
    await run();
    const holds = await overdueHolds(customer.id);
    expect(holds).toHaveLength(1);
    expect(holds[0].reason).toContain(`${older.number} (33 days past due)`);
    expect(holds[0].reason).toContain(`${newer.number} (30 days past due)`);
    // Both jumped past 7 and 21 days at once: one warning each, for the latest step.
    const warnings = await eventsOf(t, customer.id, developer.header, 'invoice.overdue');
    expect(warnings.map((e) => [e.data.invoice?.number, e.data.step]).sort()).toEqual(
      [
        [older.number, 21],
        [newer.number, 21],
      ].sort(),
    );
  });

  it('lifts its hold as system once a payment covers the invoice, while a manual hold placed meanwhile stays', async () => {
    const customer = await createCustomer(t);
    const invoice = await issueInvoice(t, clock, callers, customer.id, { amount: 5000 });
    advanceToDaysOverdue(clock, invoice, 31);
    await run();
    const [overdue] = await overdueHolds(customer.id);
    expect(overdue.state).toBe('active');
    await disableCustomer(t, customer.id, support.header, {
      reason_code: 'dispute',
      reason: 'Chargeback under review',
    }).expect(200);

    const paid = await pay(t, invoice.id, manager.header, {
      amount: 5000,
      reference: 'SEPA-77',
    }).expect(201);
    expect(paid.body).toMatchObject({
      invoice_id: invoice.id,
      amount: 5000,
      reference: 'SEPA-77',
      recorded_by: { type: 'user', id: manager.user.id },
      invoice: { status: 'paid', amount_paid: 5000, days_overdue: 0 },
    });
    expect(paid.body.invoice.paid_at).toBe(paid.body.created_at);

    const holds = await holdsOf(customer.id);
    const lifted = holds.find((h) => h.id === overdue.id)!;
    expect(lifted).toMatchObject({
      state: 'lifted',
      lifted_by: { type: 'system', id: null, name: 'system' },
      lift_reason: 'No invoice is 30 or more days past due any more',
    });
    expect(holds.find((h) => h.source === 'manual')?.state).toBe('active');
    expect((await getCustomer(t, customer.id, developer.header)).status).toBe('disabled');
    expect((await getLimits(t, customer.id, developer.header)).holds).toEqual([
      expect.objectContaining({ source: 'manual', reason_code: 'dispute' }),
    ]);
    const liftEntry = (await auditOf(t, customer.id, developer.header)).find(
      (e) => e.action === 'hold.lifted',
    );
    expect(liftEntry).toMatchObject({ hold_id: overdue.id, actor: { type: 'system' } });

    const paidEvents = await eventsOf(t, customer.id, developer.header, 'invoice.paid');
    expect(paidEvents).toHaveLength(1);
    expect(paidEvents[0].data).toEqual({
      customer: expect.objectContaining({ id: customer.id, status: 'disabled' }),
      invoice: expect.objectContaining({ id: invoice.id, status: 'paid', amount_paid: 5000 }),
    });
  });

  it('keeps the hold through a partial payment (a partly paid invoice is still overdue); the rest lifts it', async () => {
    const customer = await createCustomer(t);
    const invoice = await issueInvoice(t, clock, callers, customer.id, { amount: 3000 });
    advanceToDaysOverdue(clock, invoice, 31);
    await run();

    const part = await pay(t, invoice.id, manager.header, { amount: 1000 }).expect(201);
    expect(part.body.invoice).toMatchObject({ status: 'open', amount_paid: 1000, paid_at: null });
    await run();
    expect((await overdueHolds(customer.id)).map((h) => h.state)).toEqual(['active']);
    expect((await getCustomer(t, customer.id, developer.header)).status).toBe('disabled');
    expect(await eventsOf(t, customer.id, developer.header, 'invoice.paid')).toEqual([]);

    await pay(t, invoice.id, manager.header, { amount: 2000 }).expect(201);
    expect((await overdueHolds(customer.id)).map((h) => h.state)).toEqual(['lifted']);
    expect((await getCustomer(t, customer.id, developer.header)).status).toBe('enabled');
    expect(await reload(t, invoice, developer.header)).toMatchObject({
      status: 'paid',
      amount_paid: 3000,
    });
  });

  it('lifts its hold when the invoice is voided', async () => {
    const customer = await createCustomer(t);
    const invoice = await issueInvoice(t, clock, callers, customer.id);
    advanceToDaysOverdue(clock, invoice, 40);
    await run();
    expect((await getCustomer(t, customer.id, developer.header)).status).toBe('disabled');

    const voided = await voidInvoice(t, invoice.id, manager.header, {
      reason: 'Billed twice',
    }).expect(200);
    expect(voided.body).toMatchObject({
      id: invoice.id,
      status: 'void',
      void_reason: 'Billed twice',
      days_overdue: 0,
    });
    expect((await overdueHolds(customer.id))[0]).toMatchObject({
      state: 'lifted',
      lifted_by: { type: 'system' },
    });
    expect((await getCustomer(t, customer.id, developer.header)).status).toBe('enabled');
  });

  it('respects a person’s lift: no new hold for the same invoices, but a new invoice 30 days late holds again', async () => {
    const customer = await createCustomer(t);
    const first = await issueInvoice(t, clock, callers, customer.id);
    advanceToDaysOverdue(clock, first, 31);
    await run();
    const [placed] = await overdueHolds(customer.id);
    await liftHold(t, placed.id, manager.header, { reason: 'Promised to pay on Friday' }).expect(
      200,
    );
    expect((await getCustomer(t, customer.id, developer.header)).status).toBe('enabled');

    for (const days of [32, 45, 60]) {
      advanceToDaysOverdue(clock, first, days);
      await run();
      expect(await overdueHolds(customer.id)).toHaveLength(1);
    }
    expect((await getCustomer(t, customer.id, developer.header)).status).toBe('enabled');

    // The same after an enable (a person lifting every hold).
    const second = await issueInvoice(t, clock, callers, customer.id);
    advanceToDaysOverdue(clock, second, 29);
    await run();
    expect(await overdueHolds(customer.id)).toHaveLength(1);
    advanceToDaysOverdue(clock, second, 30);
    await run();
    const holds = await overdueHolds(customer.id);
    expect(holds.map((h) => h.state)).toEqual(['active', 'lifted']);
    expect(holds[0].reason).toContain(first.number);
    expect(holds[0].reason).toContain(second.number);
    expect((await getCustomer(t, customer.id, developer.header)).status).toBe('disabled');

    await request(t.http)
      .post(`/api/v1/customers/${customer.id}/enable`)
      .set(support.header)
      .send({ reason: 'Settled by phone' })
      .expect(200);
    advanceToDaysOverdue(clock, second, 40);
    await run();
    expect((await overdueHolds(customer.id)).map((h) => h.state)).toEqual(['lifted', 'lifted']);
    expect((await getCustomer(t, customer.id, developer.header)).status).toBe('enabled');
  });

  it('never holds an exempt customer (it is still warned); becoming exempt lifts the rules’ hold, and not exempt holds again', async () => {
    const exempt = await createCustomer(t);
    const marked = await setExempt(t, exempt.id, manager.header, true).expect(200);
    expect(marked.body).toMatchObject({ id: exempt.id, dunning_exempt: true });
    const invoice = await issueInvoice(t, clock, callers, exempt.id);
    advanceToDaysOverdue(clock, invoice, 45);
    await run();
    expect(await holdsOf(exempt.id)).toEqual([]);
    expect(await eventsOf(t, exempt.id, developer.header, 'invoice.overdue')).toHaveLength(1);

    const held = await createCustomer(t);
    const late = await issueInvoice(t, clock, callers, held.id);
    advanceToDaysOverdue(clock, late, 31);
    await run();
    expect((await getCustomer(t, held.id, developer.header)).status).toBe('disabled');

    const exempted = await setExempt(t, held.id, manager.header, true).expect(200);
    expect(exempted.body).toMatchObject({ dunning_exempt: true, status: 'enabled', holds: [] });
    expect((await overdueHolds(held.id))[0]).toMatchObject({
      state: 'lifted',
      lifted_by: { type: 'system' },
      lift_reason: 'The customer is dunning exempt',
    });
    await run();
    expect((await getCustomer(t, held.id, developer.header)).status).toBe('enabled');

    // Not exempt any more: the rules act at once, in the same request.
    const again = await setExempt(t, held.id, manager.header, false).expect(200);
    expect(again.body).toMatchObject({ dunning_exempt: false, status: 'disabled' });
    expect((await overdueHolds(held.id)).map((h) => h.state)).toEqual(['active', 'lifted']);
  });

  it('changes nothing when run twice', async () => {
    const customer = await createCustomer(t);
    const invoice = await issueInvoice(t, clock, callers, customer.id);
    advanceToDaysOverdue(clock, invoice, 35);
    await run();
    const counts = async () =>
      (
        await t.db.query<Record<string, number>[]>(
          `SELECT (SELECT count(*) FROM holds)::int AS holds,
                  (SELECT count(*) FROM events)::int AS events,
                  (SELECT count(*) FROM audit_logs)::int AS audit,
                  (SELECT count(*) FROM dunning_warnings)::int AS warnings,
                  (SELECT count(*) FROM hold_invoices)::int AS covered`,
        )
      )[0];
    const before = await counts();
    const second = await run();
    expect(second).toEqual({
      evaluated: expect.any(Number),
      holds_placed: 0,
      holds_lifted: 0,
      warnings_sent: 0,
    });
    expect(second.evaluated).toBeGreaterThanOrEqual(1);
    expect(await counts()).toEqual(before);
    expect(await overdueHolds(customer.id)).toHaveLength(1);
  });

  it('refuses a run to a role below developer', async () => {
    const response = await runDunning(t, manager.header).expect(403);
    expect(response.body.code).toBe('forbidden');
  });
});
