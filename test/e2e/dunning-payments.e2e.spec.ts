import request from 'supertest';
import { createApiKey, TestApiKey } from '../support/api-keys';
import { countRows, createCustomer, signIn, StaffSession } from '../support/factories';
import {
  advanceToDaysOverdue,
  DunningCallers,
  eventsOf,
  InvoiceBody,
  invoicesOf,
  issueInvoice,
  pay,
  reload,
  runDunning,
  voidInvoice,
} from '../support/dunning';
import { allPages, MALFORMED_ID, UNKNOWN_ID } from '../support/holds';
import { startTestApp, TestApp, TestClock } from '../support/test-app';

/**
 * Payments and voids (API.md, "Dunning"): partial payments add up, no credit balance, every
 * refusal a 4xx with a stable code that changes nothing; and GET /invoices with its filters.
 */
describe('dunning: invoices, payments and voids', () => {
  let t: TestApp;
  let clock: TestClock;
  let developer: StaffSession;
  let manager: StaffSession;
  let reader: StaffSession;
  let platform: TestApiKey;
  let callers: DunningCallers;

  beforeAll(async () => {
    clock = new TestClock();
    t = await startTestApp({}, { clock });
    [developer, manager, reader] = await Promise.all([
      signIn(t, 'developer'),
      signIn(t, 'account_manager'),
      signIn(t, 'user'),
    ]);
    platform = await createApiKey(t);
    callers = { developer: developer.header, manager: manager.header };
  });
  afterAll(() => t.close());

  const TABLES = [
    'invoice_payments',
    'holds',
    'events',
    'audit_logs',
    'dunning_warnings',
    'hold_invoices',
  ];
  /** Row counts and the invoice's own row: what a refused request must leave as it was. */
  const snapshot = async (invoiceId: string) => ({
    counts: await countRows(t, TABLES),
    invoice: (await t.db.query('SELECT * FROM invoices WHERE id = $1', [invoiceId]))[0] as unknown,
  });

  async function freshInvoice(amount = 4900): Promise<InvoiceBody> {
    const customer = await createCustomer(t);
    return issueInvoice(t, clock, callers, customer.id, { amount });
  }

  it('audits the payment that settles an invoice and every void, by whoever did it, with the invoice as target', async () => {
    const paid = await freshInvoice(4900);
    await pay(t, paid.id, manager.header, { amount: 900, reference: 'part' }).expect(201);
    await pay(t, paid.id, platform.header, { amount: 4000, reference: 'wire 77' }).expect(201);
    const voided = await freshInvoice(1000);
    await voidInvoice(t, voided.id, manager.header, { reason: 'Issued by mistake' }).expect(200);

    const entries = await t.db.query<
      {
        action: string;
        target_id: string;
        actor_type: string;
        reason: string | null;
        after: unknown;
      }[]
    >(
      `SELECT action, target_id, actor_type, reason, after FROM audit_logs
        WHERE target_type = 'invoice' AND target_id IN ($1, $2) ORDER BY seq`,
      [paid.id, voided.id],
    );
    expect(entries).toEqual([
      {
        action: 'invoice.paid',
        target_id: paid.id,
        actor_type: 'api_key',
        reason: 'wire 77',
        after: { status: 'paid' },
      },
      {
        action: 'invoice.voided',
        target_id: voided.id,
        actor_type: 'user',
        reason: 'Issued by mistake',
        after: { status: 'void' },
      },
    ]);
  });

  describe('POST /invoices/{id}/payments', () => {
    it('records a payment with who recorded it; partial payments add up; the last one makes the invoice paid, once', async () => {
      const invoice = await freshInvoice(10_000);
      expect(invoice).toMatchObject({
        number: expect.stringMatching(/^INV-\d{6,}$/),
        status: 'open',
        amount: 10_000,
        amount_due: 10_000,
        amount_paid: 0,
        paid_at: null,
      });

      const first = await pay(t, invoice.id, platform.header, {
        amount: 2500,
        reference: '  wire 1  ',
      }).expect(201);
      expect(first.body).toEqual({
        id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        invoice_id: invoice.id,
        amount: 2500,
        reference: 'wire 1',
        recorded_by: { type: 'api_key', id: platform.id, name: expect.any(String) },
        created_at: expect.any(String),
        invoice: expect.objectContaining({ status: 'open', amount_paid: 2500, paid_at: null }),
      });
      // The clock's time, not the database's.
      expect(Math.abs(Date.parse(first.body.created_at) - clock.now().getTime())).toBeLessThan(
        60_000,
      );

      await pay(t, invoice.id, manager.header, { amount: 7000 }).expect(201);
      expect(await eventsOf(t, invoice.customer_id, developer.header, 'invoice.paid')).toEqual([]);
      const last = await pay(t, invoice.id, manager.header, { amount: 500 }).expect(201);
      expect(last.body.invoice).toMatchObject({
        status: 'paid',
        amount_paid: 10_000,
        paid_at: last.body.created_at,
      });
      const paid = await eventsOf(t, invoice.customer_id, developer.header, 'invoice.paid');
      expect(paid).toHaveLength(1);
      expect(paid[0].data.invoice).toMatchObject({ id: invoice.id, status: 'paid' });
      expect(paid[0].data.customer).toMatchObject({ id: invoice.customer_id });
      const [{ payments, total }] = await t.db.query<{ payments: number; total: number }[]>(
        `SELECT count(*)::int AS payments, sum(amount)::int AS total
           FROM invoice_payments WHERE invoice_id = $1`,
        [invoice.id],
      );
      expect({ payments, total }).toEqual({ payments: 3, total: 10_000 });
    });

    it.each([
      ['zero', { amount: 0 }],
      ['negative', { amount: -100 }],
      ['fractional', { amount: 10.5 }],
      ['a string', { amount: '100' }],
      ['null', { amount: null }],
      ['missing', {}],
      ['a boolean', { amount: true }],
      ['beyond an integer', { amount: 2_147_483_648 }],
      ['with an unknown field', { amount: 100, currency: 'EUR' }],
      ['with an empty reference', { amount: 100, reference: '  ' }],
    ])('refuses an amount %s with 400 validation_failed and changes nothing', async (_, body) => {
      const invoice = await freshInvoice();
      const before = await snapshot(invoice.id);
      const response = await pay(t, invoice.id, manager.header, body).expect(400);
      expect(response.body).toMatchObject({ status: 400, code: 'validation_failed' });
      expect(await snapshot(invoice.id)).toEqual(before);
    });

    it('refuses more than remains due with 409 payment_exceeds_amount_due (no credit balance) and changes nothing', async () => {
      const invoice = await freshInvoice(4900);
      await pay(t, invoice.id, manager.header, { amount: 4000 }).expect(201);
      const before = await snapshot(invoice.id);
      const response = await pay(t, invoice.id, manager.header, { amount: 901 }).expect(409);
      expect(response.body).toMatchObject({ status: 409, code: 'payment_exceeds_amount_due' });
      expect(response.body.detail).toContain('900 left to pay');
      expect(await snapshot(invoice.id)).toEqual(before);
      // Exactly what remains is fine.
      await pay(t, invoice.id, manager.header, { amount: 900 }).expect(201);
    });

    it('refuses a payment on a paid invoice (409 invoice_paid) and on a void one (409 invoice_void), changing nothing', async () => {
      const paid = await freshInvoice(1000);
      await pay(t, paid.id, manager.header, { amount: 1000 }).expect(201);
      let before = await snapshot(paid.id);
      const again = await pay(t, paid.id, manager.header, { amount: 1 }).expect(409);
      expect(again.body.code).toBe('invoice_paid');
      expect(await snapshot(paid.id)).toEqual(before);

      const voided = await freshInvoice(1000);
      await voidInvoice(t, voided.id, manager.header, { reason: 'Cancelled order' }).expect(200);
      before = await snapshot(voided.id);
      const onVoid = await pay(t, voided.id, manager.header, { amount: 1 }).expect(409);
      expect(onVoid.body.code).toBe('invoice_void');
      expect(await snapshot(voided.id)).toEqual(before);
    });

    it('answers 404 for an unknown invoice and 400 for a malformed id, changing nothing', async () => {
      const before = await countRows(t, TABLES);
      const unknown = await pay(t, UNKNOWN_ID, manager.header, { amount: 100 }).expect(404);
      expect(unknown.body.code).toBe('not_found');
      const malformed = await pay(t, MALFORMED_ID, manager.header, { amount: 100 }).expect(400);
      expect(malformed.body.code).toBe('validation_failed');
      expect(await countRows(t, TABLES)).toEqual(before);
    });

    it('serializes concurrent payments on one invoice: they never add up to more than due', async () => {
      const invoice = await freshInvoice(3000);
      const answers = await Promise.all(
        Array.from({ length: 5 }, () => pay(t, invoice.id, manager.header, { amount: 1000 })),
      );
      expect(answers.map((a) => a.status).sort()).toEqual([201, 201, 201, 409, 409]);
      expect(
        answers.filter((a) => a.status === 409).map((a) => (a.body as { code: string }).code),
      ).toEqual(['invoice_paid', 'invoice_paid']);
      expect(await reload(t, invoice, developer.header)).toMatchObject({
        status: 'paid',
        amount_paid: 3000,
      });
      expect(await eventsOf(t, invoice.customer_id, developer.header, 'invoice.paid')).toHaveLength(
        1,
      );
    });
  });

  describe('POST /invoices/{id}/void', () => {
    it('voids an open invoice, even partly paid, keeping its payments and the reason', async () => {
      const invoice = await freshInvoice(2000);
      await pay(t, invoice.id, manager.header, { amount: 500 }).expect(201);
      const response = await voidInvoice(t, invoice.id, manager.header, {
        reason: ' Duplicate ',
      }).expect(200);
      expect(response.body).toMatchObject({
        id: invoice.id,
        status: 'void',
        void_reason: 'Duplicate',
        amount_paid: 500,
        voided_at: expect.any(String),
        paid_at: null,
      });
      const [row] = await t.db.query<{ voided_by_id: string; voided_by_type: string }[]>(
        'SELECT voided_by_id, voided_by_type FROM invoices WHERE id = $1',
        [invoice.id],
      );
      expect(row).toEqual({ voided_by_id: manager.user.id, voided_by_type: 'user' });
    });

    it('refuses to void a paid invoice (409 invoice_paid) or a void one (409 invoice_void), changing nothing', async () => {
      const paid = await freshInvoice(1000);
      await pay(t, paid.id, manager.header, { amount: 1000 }).expect(201);
      let before = await snapshot(paid.id);
      const onPaid = await voidInvoice(t, paid.id, manager.header, { reason: 'x' }).expect(409);
      expect(onPaid.body.code).toBe('invoice_paid');
      expect(await snapshot(paid.id)).toEqual(before);

      const voided = await freshInvoice(1000);
      await voidInvoice(t, voided.id, manager.header, { reason: 'first' }).expect(200);
      before = await snapshot(voided.id);
      const twice = await voidInvoice(t, voided.id, manager.header, { reason: 'again' }).expect(
        409,
      );
      expect(twice.body.code).toBe('invoice_void');
      expect(await snapshot(voided.id)).toEqual(before);
    });

    it('needs a reason, a known invoice and an account manager, changing nothing', async () => {
      const invoice = await freshInvoice();
      const before = await snapshot(invoice.id);
      for (const body of [{}, { reason: '' }, { reason: '   ' }, { reason: 'x'.repeat(1001) }]) {
        const response = await voidInvoice(t, invoice.id, manager.header, body).expect(400);
        expect(response.body.code).toBe('validation_failed');
      }
      expect((await voidInvoice(t, UNKNOWN_ID, manager.header, { reason: 'x' })).status).toBe(404);
      const support = await signIn(t, 'customer_support');
      const refused = await voidInvoice(t, invoice.id, support.header, { reason: 'x' }).expect(403);
      expect(refused.body.code).toBe('forbidden');
      // The platform key may pay but not void.
      expect((await voidInvoice(t, invoice.id, platform.header, { reason: 'x' })).status).toBe(403);
      expect(await snapshot(invoice.id)).toEqual(before);
    });
  });

  describe('GET /invoices', () => {
    it('filters by status, overdue and customer, and pages newest first', async () => {
      const customer = await createCustomer(t);
      const issue = () => issueInvoice(t, clock, callers, customer.id, { amount: 1000 });
      const paid = await issue();
      const voided = await issue();
      const late = await issue();
      clock.advance(86_400_000);
      const open = await issue();
      await pay(t, paid.id, manager.header, { amount: 1000 }).expect(201);
      await voidInvoice(t, voided.id, manager.header, { reason: 'x' }).expect(200);
      // `late` is a day past due; `open` is issued a day later, not due yet.
      advanceToDaysOverdue(clock, late, 0);
      clock.advance(3_600_000);

      const ids = async (query: string, headers: Record<string, string> = reader.header) =>
        (
          await allPages<InvoiceBody>(
            t,
            `/api/v1/invoices?customer_id=${customer.id}${query}`,
            headers,
          )
        ).map((i) => i.id);
      expect(await ids('')).toEqual([open.id, late.id, voided.id, paid.id]);
      expect(await ids('&status=open')).toEqual([open.id, late.id]);
      expect(await ids('&status=paid')).toEqual([paid.id]);
      expect(await ids('&status=void')).toEqual([voided.id]);
      expect(await ids('&overdue=true')).toEqual([late.id]);
      expect(await ids('&overdue=false')).toEqual([open.id, voided.id, paid.id]);
      expect(await ids('&status=open&overdue=true', platform.header)).toEqual([late.id]);

      const page = await request(t.http)
        .get(`/api/v1/invoices?customer_id=${customer.id}&limit=3`)
        .set(reader.header)
        .expect(200);
      expect(page.body.data).toHaveLength(3);
      const next = await request(t.http)
        .get(`/api/v1/invoices?customer_id=${customer.id}&limit=3&cursor=${page.body.next_cursor}`)
        .set(reader.header)
        .expect(200);
      expect(next.body).toEqual({
        data: [expect.objectContaining({ id: paid.id })],
        next_cursor: null,
      });

      // A customer's own list shows the same fields.
      const own = await invoicesOf(t, customer.id, reader.header);
      expect(own.find((i) => i.id === late.id)).toMatchObject({
        number: late.number,
        status: 'open',
        due_at: late.due_at,
        amount_due: 1000,
        amount_paid: 0,
        days_overdue: 0,
        paid_at: null,
      });
      expect(own.find((i) => i.id === paid.id)).toMatchObject({ status: 'paid', days_overdue: 0 });
      // Numbers are unique and follow the order of issue.
      const numbers = [paid, voided, late, open].map((i) => Number(i.number.slice(4)));
      expect([...numbers].sort((a, b) => a - b)).toEqual(numbers);
      expect(new Set(numbers).size).toBe(4);
    });

    it('refuses a bad filter with 400 validation_failed, and a customer key with 403', async () => {
      for (const query of ['status=late', 'overdue=yes', 'customer_id=nope', 'limit=0']) {
        const response = await request(t.http)
          .get(`/api/v1/invoices?${query}`)
          .set(reader.header)
          .expect(400);
        expect(response.body.code).toBe('validation_failed');
      }
      const customer = await createCustomer(t);
      const own = await createApiKey(t, customer.id);
      await request(t.http).get('/api/v1/invoices').set(own.header).expect(403);
    });

    it('counts days overdue from the clock', async () => {
      const invoice = await freshInvoice();
      advanceToDaysOverdue(clock, invoice, 12);
      expect((await reload(t, invoice, reader.header)).days_overdue).toBe(12);
      // A run warns it (7 days) and holds nothing yet.
      await runDunning(t, developer.header).expect(201);
      expect(
        (await eventsOf(t, invoice.customer_id, developer.header, 'invoice.overdue')).map(
          (e) => e.data.step,
        ),
      ).toEqual([7]);
    });
  });
});
