import { Client } from 'pg';
import { holdsInPlaySql } from '../../src/customers/access/holds-in-play';
import { LimitsStore } from '../../src/limits/limits-store';
import { countRows, createCustomer, signIn, StaffSession } from '../support/factories';
import { disableCustomer, enableCustomer, getCustomer } from '../support/holds';
import { socketWritesDuring } from '../support/socket-writes';
import { startTestApp, TestApp } from '../support/test-app';
import { onEmbeddedDatabase } from '../support/test-env';

/**
 * On a server only: the pool pipelines (the embedded engine's socket server could mix up
 * pipelined messages), and the limits store's memory, which chooses a status change's path, is
 * live (no other instance is heard on the embedded engine).
 */
const itOnServer = onEmbeddedDatabase() ? it.skip : it;

const UNKNOWN_ID = '6f1c1a52-9a43-4d5b-8a55-1b1d2f0c0c0c';

/**
 * A status change's transaction makes PostgreSQL keep its statements' generic plans (the lock
 * sets plan_cache_mode locally, holds.service.ts), and the holds in play are read through
 * `holds_in_play`, whose walk is planned once per connection. Neither may change what the pooled
 * connection does afterwards for everything else.
 */
describe('statement plans of the status changes', () => {
  let t: TestApp;
  let support: StaffSession;

  beforeAll(async () => {
    // One connection in the pool: every statement below runs on the one the changes used.
    t = await startTestApp({ DATABASE_POOL_SIZE: '1' });
    support = await signIn(t, 'customer_support');
  });
  afterAll(() => t.close());

  const planCacheMode = async () =>
    (await t.db.query<{ plan_cache_mode: string }[]>('SHOW plan_cache_mode'))[0].plan_cache_mode;

  it('leaves plan_cache_mode to the transaction that set it, after a change and after a refusal', async () => {
    expect(await planCacheMode()).toBe('auto');
    const customer = await createCustomer(t);

    await disableCustomer(t, customer.id, support.header, { reason: 'Chargeback' }).expect(200);
    expect(await planCacheMode()).toBe('auto');
    await enableCustomer(t, customer.id, support.header).expect(200);
    expect(await planCacheMode()).toBe('auto');

    await disableCustomer(t, UNKNOWN_ID, support.header).expect(404);
    expect(await planCacheMode()).toBe('auto');
  });

  it('locks the customer and reads its holds in one statement: a disable and an enable take four, one that changes nothing one', async () => {
    const customer = await createCustomer(t);
    // Every statement sent through `pg`, with the connection it went on: a round trip each.
    const query = jest.spyOn(Client.prototype, 'query');
    const transaction = async (change: () => Promise<unknown>) => {
      query.mockClear();
      await change();
      const calls = query.mock.calls.map((args, i) => ({
        on: query.mock.contexts[i],
        text: textOf(args[0]),
      }));
      // The transaction's statements: on its connection, from its start to its end (the pool's
      // one connection also serves the boundary scheduler's poll between requests).
      const start = calls.findIndex((call) => call.text === 'START TRANSACTION');
      const own = calls.slice(start).filter((call) => call.on === calls[start]?.on);
      const end = own.findIndex((call) => call.text === 'COMMIT' || call.text === 'ROLLBACK');
      return own.slice(0, end + 1).map((call) => kindOf(call.text));
    };
    try {
      const four = ['START TRANSACTION', 'lock and holds', 'writes', 'COMMIT'];
      expect(
        await transaction(() => disableCustomer(t, customer.id, support.header).expect(200)),
      ).toEqual(four);
      expect(
        await transaction(() => enableCustomer(t, customer.id, support.header).expect(200)),
      ).toEqual(four);
      // A change that changes nothing (a second disable, an enable of a customer that does not
      // exist) reads the customer and its holds in one statement, and opens no transaction.
      await disableCustomer(t, customer.id, support.header).expect(200);
      for (const unchanged of [
        () => enableCustomer(t, UNKNOWN_ID, support.header).expect(404),
        () => disableCustomer(t, customer.id, support.header).expect(200),
      ]) {
        query.mockClear();
        await unchanged();
        const texts = query.mock.calls.map((args) => kindOf(textOf(args[0])));
        expect(texts.filter((text) => text.includes('FROM customers c'))).toHaveLength(1);
        expect(texts).not.toContain('lock and holds');
      }
    } finally {
      query.mockRestore();
    }
  });

  itOnServer(
    'sends a disable and an enable in two round trips: the START with the lock, the writes with the COMMIT',
    async () => {
      const customer = await createCustomer(t);
      const store = t.app.get(LimitsStore);
      // With the customer in memory, memory says each change changes something: no read before
      // the lock.
      const expected = [
        ['START TRANSACTION', 'lock and holds'],
        ['writes', 'COMMIT'],
      ];
      await store.limitsOf(customer.id);
      expect(
        await roundTripsOf(t.database.url, async () => {
          await disableCustomer(t, customer.id, support.header).expect(200);
        }),
      ).toEqual(expected);
      await store.limitsOf(customer.id);
      expect(
        await roundTripsOf(t.database.url, async () => {
          await enableCustomer(t, customer.id, support.header).expect(200);
        }),
      ).toEqual(expected);
      const now = await getCustomer(t, customer.id, support.header);
      expect(now).toMatchObject({ status: 'enabled', holds: [] });
    },
  );

  itOnServer(
    'locks at once when memory says the change changes something, and decides again under the lock',
    async () => {
      const customer = await createCustomer(t);
      const store = t.app.get(LimitsStore);
      await store.limitsOf(customer.id);
      expect(store.holdsInPlay(customer.id)).toEqual([]);
      // Disabled behind this instance's back (as another instance would, unheard here yet): a
      // manual hold and the projection, with no announcement.
      await t.asOwner(
        `INSERT INTO holds (customer_id, source, reason_code, reason, starts_at, pause_billing,
                          placed_by_type, placed_by_id, placed_by_name, placed_at)
       VALUES ($1, 'manual', 'other', 'Elsewhere', now(), false, 'system', NULL, 'system', now())`,
        [customer.id],
      );
      await t.asOwner(
        `UPDATE customers SET status = 'disabled', disabled_at = now(), disabled_reason = 'Elsewhere'
        WHERE id = $1`,
        [customer.id],
      );
      expect(store.holdsInPlay(customer.id)).toEqual([]);
      const tables = ['holds', 'audit_logs', 'events', 'customer_notes'];
      const before = await countRows(t, tables);
      const flights = await roundTripsOf(t.database.url, async () => {
        const response = await disableCustomer(t, customer.id, support.header).expect(200);
        expect(response.body).toMatchObject({ id: customer.id, status: 'disabled' });
        expect(response.body.holds).toEqual([
          expect.objectContaining({ source: 'manual', reason_code: 'other' }),
        ]);
      });
      // No read before the lock; under it, the disable found the hold and wrote nothing.
      expect(flights).toEqual([['START TRANSACTION', 'lock and holds'], ['COMMIT']]);
      expect(await countRows(t, tables)).toEqual(before);
    },
  );

  it('reads the holds in play through holds_in_play, the same on every call of a connection', async () => {
    const customer = await createCustomer(t);
    // More calls than PostgreSQL's five custom plans, on the one connection, over changes.
    for (let i = 0; i < 4; i++) {
      await disableCustomer(t, customer.id, support.header, { reason: `Round ${i}` }).expect(200);
      const disabled = await getCustomer(t, customer.id, support.header);
      expect(disabled.status).toBe('disabled');
      expect(disabled.holds).toHaveLength(1);
      await enableCustomer(t, customer.id, support.header).expect(200);
      const enabled = await getCustomer(t, customer.id, support.header);
      expect(enabled.status).toBe('enabled');
      expect(enabled.holds).toEqual([]);
    }
    expect(await planCacheMode()).toBe('auto');
  });

  it('finds the same holds as the walk written inline before the function, on random histories', async () => {
    const random = seeded(12);
    const base = Date.parse('2026-06-01T00:00:00Z');
    const at = (offsetMs: number) => new Date(base + Math.round(offsetMs)).toISOString();
    const customers = [];
    for (let c = 0; c < 4; c++) {
      const customer = await createCustomer(t);
      customers.push(customer.id);
      for (let h = 0; h < 30; h++) {
        const starts = (random() * 12 - 10) * DAY_MS;
        const ends = random() < 0.4 ? null : starts + (0.001 + random() * 3) * DAY_MS;
        // Lifted before its start too: a scheduled hold cancelled.
        const lifted = random() < 0.5 ? null : starts + (random() * 3 - 0.5) * DAY_MS;
        await t.asOwner(
          `INSERT INTO holds (customer_id, source, reason_code, starts_at, ends_at, lifted_at,
                              lifted_by_type, lifted_by_name, pause_billing, placed_by_type,
                              placed_by_name, placed_at)
           VALUES ($1, 'manual', 'other', $2, $3, $4, CASE WHEN $4::timestamptz IS NOT NULL
                   THEN 'system' END, CASE WHEN $4::timestamptz IS NOT NULL THEN 'system' END,
                   false, 'system', 'system', $2)`,
          [
            customer.id,
            at(starts),
            ends === null ? null : at(ends),
            lifted === null ? null : at(lifted),
          ],
        );
      }
    }
    let compared = 0;
    for (const customerId of customers) {
      for (let i = 0; i < 25; i++) {
        const from = at((random() * 14 - 11) * DAY_MS);
        const ids = async (sql: string) =>
          (await t.db.query<{ id: string }[]>(`${sql} ORDER BY h.id`, [customerId, from])).map(
            (row) => row.id,
          );
        const now = await ids(holdsInPlaySql('$1::uuid', '$2'));
        expect(now).toEqual(await ids(INLINE_WALK));
        compared += now.length;
      }
    }
    // The instants found holds in play, not only empty answers.
    expect(compared).toBeGreaterThan(100);
  });
});

const DAY_MS = 86_400_000;

/**
 * What `change` sent of a status change's statements on the connection of its transaction (the
 * pool's one), a write to the socket at a time (a round trip each: DeadlineClient sends what one
 * tick queues in one write), up to the write with its COMMIT; each as the statements in it.
 */
async function roundTripsOf(url: string, change: () => Promise<void>): Promise<string[][]> {
  const writes = (await socketWritesDuring(url, change)).map((w) => ({
    socket: w.socket,
    kinds: statementsIn(w.text),
  }));
  const start = writes.find((w) => w.kinds.includes('START TRANSACTION'));
  // The pool's one connection: what it sent of the status changes' statements (the boundary
  // scheduler's poll may go on it too), up to the COMMIT.
  const own = writes.filter((w) => w.socket === start?.socket && w.kinds.length > 0);
  const end = own.findIndex((w) => w.kinds.includes('COMMIT'));
  if (start === undefined || end < 0) throw new Error('No transaction was sent');
  return own.slice(0, end + 1).map((w) => w.kinds);
}

/** The statements a write to the server carries, by kind, in order. */
function statementsIn(bytes: string): string[] {
  const found: { at: number; kind: string }[] = [];
  const mark = (needle: string, kind: string) => {
    for (let at = bytes.indexOf(needle); at >= 0; at = bytes.indexOf(needle, at + 1)) {
      found.push({ at, kind });
    }
  };
  mark('customer_with_holds', 'read');
  mark('START TRANSACTION', 'START TRANSACTION');
  mark('holds_lock_customer', 'lock and holds');
  mark('holds_save_writes', 'writes');
  mark('COMMIT', 'COMMIT');
  // A named statement appears in its Bind, and in its Parse the first time: once per kind.
  const kinds: string[] = [];
  for (const { kind } of found.sort((a, b) => a.at - b.at)) {
    if (kinds[kinds.length - 1] !== kind) kinds.push(kind);
  }
  return kinds;
}

const textOf = (statement: unknown): string =>
  typeof statement === 'string' ? statement : (statement as { text: string }).text;
/** A statement of a hold use case, by what it does; any other as its text. */
const kindOf = (text: string): string => {
  if (text.includes('FROM lock_customer(')) return 'lock and holds';
  if (text.startsWith('WITH placed AS')) return 'writes';
  return text;
};

/** A small deterministic generator (mulberry32): the same histories at every run. */
function seeded(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let r = Math.imul(state ^ (state >>> 15), 1 | state);
    r = (r + Math.imul(r ^ (r >>> 7), 61 | r)) ^ r;
    return ((r ^ (r >>> 14)) >>> 0) / 4294967296;
  };
}

/** The walk as holdsInPlaySql wrote it inline before migration 1795700000000 ($1, $2). */
const INLINE_STOPS_FROM = (hold: string, at: string) =>
  `((${hold}.lifted_at IS NULL AND ${hold}.ends_at IS NULL)
    OR (${hold}.lifted_at IS NULL AND ${hold}.ends_at >= ${at})
    OR (${hold}.lifted_at >= ${at} AND (${hold}.ends_at IS NULL OR ${hold}.ends_at >= ${at})))`;
const INLINE_WALK = `WITH RECURSIVE horizon(at) AS (
    SELECT $2::timestamptz
    UNION ALL
    SELECT earlier.at
      FROM horizon,
           LATERAL (SELECT min(e.starts_at) AS at FROM holds e
                     WHERE e.customer_id = $1::uuid AND ${INLINE_STOPS_FROM('e', 'horizon.at')}) earlier
     WHERE earlier.at < horizon.at
  ), since AS (SELECT min(at) AS at FROM horizon)
  SELECT h.* FROM holds h, since
   WHERE h.customer_id = $1::uuid AND ${INLINE_STOPS_FROM('h', 'since.at')}`;
