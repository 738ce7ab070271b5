import request from 'supertest';
import { DAY_MS, type Headers } from './holds';
import { createPlan, createSubscription } from './plans';
import type { TestApp, TestClock } from './test-app';

/**
 * Helpers for the dunning acceptance tests (issue 11), from the contract (../shared/API.md,
 * "Dunning"): invoices are issued by a real billing run at the test clock's time, and time moves
 * by advancing that clock.
 */

export interface InvoiceBody {
  id: string;
  number: string;
  customer_id: string;
  subscription_id: string;
  plan_code: string;
  amount: number;
  currency: string;
  period_start: string;
  period_end: string;
  status: 'open' | 'paid' | 'void';
  due_at: string;
  amount_due: number;
  amount_paid: number;
  days_overdue: number;
  paid_at: string | null;
  voided_at: string | null;
  void_reason: string | null;
  created_at: string;
}

export interface DunningRunBody {
  evaluated: number;
  holds_placed: number;
  holds_lifted: number;
  warnings_sent: number;
}

export interface EventBody {
  id: string;
  type: string;
  created_at: string;
  data: Record<string, unknown> & {
    customer: { id: string; status: string; dunning_exempt: boolean };
    invoice?: InvoiceBody;
    hold?: { id: string; source: string };
    days_overdue?: number;
    step?: number;
  };
}

/** The headers of a developer (runs) and of an account manager (payments, voids, exemption). */
export interface DunningCallers {
  developer: Headers;
  manager: Headers;
}

/**
 * An invoice for `customerId`, issued by a real billing run at the clock's time: a subscription
 * whose period ends a minute from now, the clock moved past it, POST /billing/runs. The
 * subscription is then cancelled unless `keep`, so that later runs in the file do not invoice it
 * again as the clock moves on.
 */
export async function issueInvoice(
  t: TestApp,
  clock: TestClock,
  callers: DunningCallers,
  customerId: string,
  options: { amount?: number; keep?: boolean } = {},
): Promise<InvoiceBody> {
  const plan = await createPlan(t, { amount: options.amount ?? 4900 });
  const now = clock.now().getTime();
  const subscription = await createSubscription(t, customerId, plan.id, {
    start: new Date(now - DAY_MS),
    end: new Date(now + 60_000),
  });
  clock.advance(61_000);
  await request(t.http).post('/api/v1/billing/runs').set(callers.developer).send().expect(201);
  if (!options.keep) {
    await t.db.query(`UPDATE subscriptions SET status = 'cancelled' WHERE id = $1`, [
      subscription.id,
    ]);
  }
  const invoices = await invoicesOf(t, customerId, callers.developer);
  const invoice = invoices.find((i) => i.subscription_id === subscription.id);
  if (!invoice) throw new Error(`The billing run issued no invoice for ${subscription.id}`);
  return invoice;
}

/** Moves the clock to `days` past the invoice's due date (and a minute more). */
export function advanceToDaysOverdue(clock: TestClock, invoice: InvoiceBody, days: number): void {
  const target = Date.parse(invoice.due_at) + days * DAY_MS + 60_000;
  const by = target - clock.now().getTime();
  if (by < 0) throw new Error(`The clock is already past ${days} days overdue`);
  clock.advance(by);
}

export async function invoicesOf(
  t: TestApp,
  customerId: string,
  headers: Headers,
): Promise<InvoiceBody[]> {
  const response = await request(t.http)
    .get(`/api/v1/customers/${customerId}/invoices?limit=200`)
    .set(headers)
    .expect(200);
  return (response.body as { data: InvoiceBody[] }).data;
}

/** The invoice as the service shows it now (GET /invoices?customer_id=). */
export async function reload(
  t: TestApp,
  invoice: Pick<InvoiceBody, 'id' | 'customer_id'>,
  headers: Headers,
): Promise<InvoiceBody> {
  const response = await request(t.http)
    .get(`/api/v1/invoices?customer_id=${invoice.customer_id}&limit=200`)
    .set(headers)
    .expect(200);
  const found = (response.body as { data: InvoiceBody[] }).data.find((i) => i.id === invoice.id);
  if (!found) throw new Error(`No invoice ${invoice.id}`);
  return found;
}

export const runDunning = (t: TestApp, headers: Headers) =>
  request(t.http).post('/api/v1/dunning/runs').set(headers).send();

export const pay = (t: TestApp, invoiceId: string, headers: Headers, body: object) =>
  request(t.http).post(`/api/v1/invoices/${invoiceId}/payments`).set(headers).send(body);

export const voidInvoice = (t: TestApp, invoiceId: string, headers: Headers, body: object) =>
  request(t.http).post(`/api/v1/invoices/${invoiceId}/void`).set(headers).send(body);

export const setExempt = (t: TestApp, customerId: string, headers: Headers, exempt: boolean) =>
  request(t.http)
    .patch(`/api/v1/customers/${customerId}`)
    .set(headers)
    .send({ dunning_exempt: exempt });

/** The customer's events of one type, oldest first (from GET /events, as the developer). */
export async function eventsOf(
  t: TestApp,
  customerId: string,
  headers: Headers,
  type?: string,
): Promise<EventBody[]> {
  const response = await request(t.http)
    .get(`/api/v1/events?customer_id=${customerId}&limit=200${type ? `&type=${type}` : ''}`)
    .set(headers)
    .expect(200);
  return [...(response.body as { data: EventBody[] }).data].reverse();
}
