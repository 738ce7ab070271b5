import request from 'supertest';
import { CUSTOMER_CHANGES_CHANNEL } from '../../src/changes/customer-changes';
import type { TestApp } from './test-app';

/**
 * Helpers for the holds acceptance tests (issue 9), written from the contract
 * (../shared/API.md, "Holds"): they speak HTTP, and SQL only where the contract gives no way in
 * (a hold of the `overdue` source, a review date in the past) or to count rows.
 */

export const UNKNOWN_ID = '6f1c1a52-9a43-4d5b-8a55-1b1d2f0c0c0c';
export const MALFORMED_ID = 'not-a-uuid';
export const DAY_MS = 86_400_000;

export interface ActorBody {
  type: 'user' | 'api_key' | 'system';
  id: string | null;
  name: string;
}

export interface HoldBody {
  id: string;
  customer_id: string;
  source: 'manual' | 'overdue';
  reason_code: string;
  reason: string | null;
  starts_at: string;
  ends_at: string | null;
  pause_billing: boolean;
  state: 'scheduled' | 'active' | 'lifted' | 'expired';
  placed_by: ActorBody;
  placed_at: string;
  lifted_by: ActorBody | null;
  lifted_at: string | null;
  lift_reason: string | null;
  review_at: string | null;
}

export interface AuditEntryBody {
  id: string;
  action: string;
  customer_id: string | null;
  hold_id?: string | null;
  effective_at?: string | null;
  seq?: number | string;
  actor: ActorBody;
  reason: string | null;
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
  request_id: string | null;
  created_at: string;
}

export interface LimitsBody {
  customer_id: string;
  status: 'enabled' | 'disabled';
  disabled: boolean;
  holds: { id: string; source: string; reason_code: string; since: string; until: string | null }[];
  user_count: number;
  features: string[];
  limits: Record<string, number>;
  as_of: string;
}

export type Headers = Record<string, string>;

export const placeHold = (t: TestApp, customerId: string, headers: Headers, body: object) =>
  request(t.http).post(`/api/v1/customers/${customerId}/holds`).set(headers).send(body);

export const liftHold = (t: TestApp, holdId: string, headers: Headers, body: object = {}) =>
  request(t.http).post(`/api/v1/holds/${holdId}/lift`).set(headers).send(body);

export const reviewHold = (t: TestApp, holdId: string, headers: Headers, body: object) =>
  request(t.http).post(`/api/v1/holds/${holdId}/review`).set(headers).send(body);

export const disableCustomer = (t: TestApp, id: string, headers: Headers, body: object = {}) =>
  request(t.http).post(`/api/v1/customers/${id}/disable`).set(headers).send(body);

export const enableCustomer = (t: TestApp, id: string, headers: Headers, body: object = {}) =>
  request(t.http).post(`/api/v1/customers/${id}/enable`).set(headers).send(body);

export async function getCustomer(t: TestApp, id: string, headers: Headers) {
  return (await request(t.http).get(`/api/v1/customers/${id}`).set(headers).expect(200))
    .body as Record<string, unknown> & {
    status: string;
    holds: {
      id: string;
      source: string;
      reason_code: string;
      starts_at: string;
      ends_at: string | null;
    }[];
    disabled_at: string | null;
    disabled_reason: string | null;
    billing_paused: boolean;
  };
}

export async function getLimits(t: TestApp, id: string, headers: Headers): Promise<LimitsBody> {
  return (await request(t.http).get(`/api/v1/customers/${id}/limits`).set(headers).expect(200))
    .body as LimitsBody;
}

/** Every item of a paged list (`{data, next_cursor}`), walking the cursors. */
export async function allPages<T>(t: TestApp, path: string, headers: Headers): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | null = null;
  for (let pages = 0; pages < 100; pages += 1) {
    const separator = path.includes('?') ? '&' : '?';
    const url: string =
      `${path}${separator}limit=200` + (cursor ? `&cursor=${encodeURIComponent(cursor)}` : '');
    const response = await request(t.http).get(url).set(headers).expect(200);
    const body = response.body as { data: T[]; next_cursor: string | null };
    items.push(...body.data);
    cursor = body.next_cursor;
    if (!cursor) return items;
  }
  throw new Error(`More than 100 pages at ${path}`);
}

/**
 * A customer's audit entries in the log's own order, oldest first: by `seq` where entries have
 * one (the second wave's gap-free commit order), else as the API lists them (newest first,
 * reversed).
 */
export async function auditOf(
  t: TestApp,
  customerId: string,
  headers: Headers,
): Promise<AuditEntryBody[]> {
  const newestFirst = await allPages<AuditEntryBody>(
    t,
    `/api/v1/audit-logs?customer_id=${customerId}`,
    headers,
  );
  const entries = [...newestFirst].reverse();
  if (entries.every((e) => e.seq !== undefined && e.seq !== null)) {
    entries.sort((x, y) => Number(x.seq) - Number(y.seq));
    return entries;
  }
  // Entries of one transaction share their time and request: the log cannot order them, so
  // within each run of entries of the same time, a request's entries stay together and its
  // hold entries come before the status transition they caused.
  const rank = (e: AuditEntryBody) => (TRANSITIONS.includes(e.action) ? 1 : 0);
  const ordered: AuditEntryBody[] = [];
  for (let start = 0; start < entries.length;) {
    let end = start;
    while (end < entries.length && entries[end].created_at === entries[start].created_at) end += 1;
    const run = entries.slice(start, end);
    const firstSeen = new Map<string, number>();
    run.forEach((e, i) => {
      if (!firstSeen.has(e.request_id ?? '')) firstSeen.set(e.request_id ?? '', i);
    });
    ordered.push(
      ...run
        .map((entry, index) => ({ entry, index }))
        .sort(
          (x, y) =>
            firstSeen.get(x.entry.request_id ?? '')! - firstSeen.get(y.entry.request_id ?? '')! ||
            rank(x.entry) - rank(y.entry) ||
            x.index - y.index,
        )
        .map((x) => x.entry),
    );
    start = end;
  }
  return ordered;
}

export const TRANSITIONS = ['customer.disabled', 'customer.enabled'];

/** What must not move when a request is refused: row counts, and the customer's own row. */
export async function snapshot(t: TestApp, customerId: string) {
  const counts = await t.asOwner<{ holds: string; audit: string; notes: string }>(
    `SELECT (SELECT count(*) FROM holds)::text AS holds,
            (SELECT count(*) FROM audit_logs)::text AS audit,
            (SELECT count(*) FROM customer_notes)::text AS notes`,
  );
  const holds = await t.asOwner(`SELECT * FROM holds WHERE customer_id = $1 ORDER BY id`, [
    customerId,
  ]);
  const customer = await t.asOwner(`SELECT * FROM customers WHERE id = $1`, [customerId]);
  return { counts: counts[0], holds, customer };
}

/**
 * A hold of the `overdue` source, as the dunning rules (issue 11) will place one: straight into
 * the database as the owner, with the customer's projection brought in line, then announced on
 * the change feed so that every cache of the customer is dropped.
 */
export async function insertOverdueHold(
  t: TestApp,
  customerId: string,
  options: { reason?: string; pauseBilling?: boolean } = {},
): Promise<string> {
  const [{ id }] = await t.asOwner<{ id: string }>(
    `INSERT INTO holds (customer_id, source, reason_code, reason, starts_at, pause_billing,
                        placed_by_type, placed_by_id, placed_by_name, placed_at, review_at)
     VALUES ($1, 'overdue', 'non_payment', $2, now(), $3, 'system', NULL, 'system', now(),
             now() + interval '30 days')
     RETURNING id`,
    [customerId, options.reason ?? 'Invoice overdue', options.pauseBilling ?? true],
  );
  await t.asOwner(
    `UPDATE customers
        SET status = 'disabled',
            disabled_at = coalesce(disabled_at, now()),
            disabled_reason = coalesce(disabled_reason, $2),
            billing_paused = billing_paused OR $3
      WHERE id = $1`,
    [customerId, options.reason ?? 'Invoice overdue', options.pauseBilling ?? true],
  );
  await t.asOwner('SELECT pg_notify($1, $2)', [CUSTOMER_CHANGES_CHANNEL, customerId]);
  return id;
}

/** Polls `probe` until it answers a value (not undefined), or throws after `timeoutMs`. */
export async function eventually<T>(
  probe: () => Promise<T | undefined>,
  timeoutMs: number,
  what: string,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: still not so after ${timeoutMs} ms`);
    await sleep(25);
  }
}

export const sleep = (ms: number) =>
  new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, ms)));

export const iso = (ms: number) => new Date(ms).toISOString();
