import request from 'supertest';
import { holdsInPlaySql } from '../../src/customers/access/holds-in-play';
import { Hold, holdFromRow } from '../../src/customers/entities/hold.entity';
import { createCustomer, signIn, StaffSession } from '../support/factories';
import {
  allPages,
  AuditEntryBody,
  auditOf,
  disableCustomer,
  enableCustomer,
  eventually,
  getCustomer,
  HoldBody,
  iso,
  placeHold,
} from '../support/holds';
import { startTestApp, TestApp, TestClock } from '../support/test-app';

const HISTORY = 300;
const HOUR_MS = 3_600_000;

/**
 * Issue 12: a status change reads the holds that can matter to the customer's access, not every
 * hold it ever had. A customer toggled hundreds of times keeps its lifted and expired holds (they
 * are its history, paged by GET /customers/{id}/holds), but a disable, an enable, the scheduler's
 * catch-up and the customer read read only the live ones and the disabled stretch they are in,
 * and answer as they did with the whole history.
 */
describe('holds: a long history is not read by a status change', () => {
  let t: TestApp;
  let clock: TestClock;
  let support: StaffSession;
  let reader: StaffSession;

  beforeAll(async () => {
    clock = new TestClock();
    clock.freeze();
    t = await startTestApp({}, { clock });
    [support, reader] = await Promise.all([signIn(t, 'customer_support'), signIn(t, 'user')]);
  });
  afterAll(() => t.close());

  /**
   * HISTORY holds lifted a minute after they started, an hour apart, the newest ending two hours
   * before the clock; and 20 holds that expired on their own, before those.
   */
  async function customerWithHistory() {
    const customer = await createCustomer(t);
    const now = clock.now().getTime();
    await t.asOwner(
      `INSERT INTO holds (customer_id, source, reason_code, starts_at, lifted_at, lifted_by_type,
                          lifted_by_name, pause_billing, placed_by_type, placed_by_name, placed_at)
       SELECT $1, 'manual', 'other', s, s + interval '1 minute', 'system', 'system', false,
              'system', 'system', s
         FROM (SELECT $2::timestamptz - g * interval '1 hour' AS s
                 FROM generate_series(2, $3 + 1) g) starts`,
      [customer.id, iso(now), HISTORY],
    );
    await t.asOwner(
      `INSERT INTO holds (customer_id, source, reason_code, starts_at, ends_at, pause_billing,
                          placed_by_type, placed_by_name, placed_at)
       SELECT $1, 'manual', 'other', s, s + interval '10 minutes', false, 'system', 'system', s
         FROM (SELECT $2::timestamptz - g * interval '1 hour' AS s
                 FROM generate_series($3 + 2, $3 + 21) g) starts`,
      [customer.id, iso(now), HISTORY],
    );
    return customer;
  }

  /** What a status change reads under the customer's lock (lock_customer), from `from` on. */
  const inPlay = async (customerId: string, from: Date): Promise<Hold[]> =>
    (
      await t.db.query<Record<string, unknown>[]>(
        `${holdsInPlaySql('$1::uuid', '$2')} ORDER BY h.starts_at, h.id`,
        [customerId, from.toISOString()],
      )
    ).map(holdFromRow);

  const transitions = (entries: AuditEntryBody[]) =>
    entries
      .filter((e) => ['customer.disabled', 'customer.enabled', 'hold.expired'].includes(e.action))
      .map((e) => [e.action, e.actor.type, e.effective_at]);

  it('reads only the live holds of a customer with hundreds of lifted and expired ones', async () => {
    const customer = await customerWithHistory();
    const now = clock.now().getTime();
    expect(await inPlay(customer.id, clock.now())).toEqual([]);

    const active = (
      await placeHold(t, customer.id, support.header, { reason_code: 'other' }).expect(201)
    ).body as HoldBody;
    const scheduled = (
      await placeHold(t, customer.id, support.header, {
        reason_code: 'other',
        starts_at: iso(now + HOUR_MS),
        ends_at: iso(now + 2 * HOUR_MS),
      }).expect(201)
    ).body as HoldBody;
    const read = await inPlay(customer.id, clock.now());
    expect(read.map((h) => h.id)).toEqual([active.id, scheduled.id]);

    // The history is still all there for the paged read.
    const all = await allPages<HoldBody>(
      t,
      `/api/v1/customers/${customer.id}/holds`,
      reader.header,
    );
    expect(all).toHaveLength(HISTORY + 20 + 2);
    expect(all.filter((h) => h.state === 'lifted')).toHaveLength(HISTORY);
    expect(all.filter((h) => h.state === 'expired')).toHaveLength(20);

    // A hold of the history, not read under the lock, is still refused as it was.
    const old = all.find((h) => h.state === 'lifted')!;
    const refused = await request(t.http)
      .post(`/api/v1/holds/${old.id}/lift`)
      .set(support.header)
      .send({})
      .expect(409);
    expect(refused.body).toMatchObject({ code: 'hold_not_active' });
    const expired = all.find((h) => h.state === 'expired')!;
    await request(t.http)
      .post(`/api/v1/holds/${expired.id}/review`)
      .set(support.header)
      .send({ review_at: iso(now + HOUR_MS) })
      .expect(409);
  });

  it('reads the lifted holds of the disabled stretch a hold joins, and no older ones', async () => {
    const customer = await customerWithHistory();
    const start = clock.now().getTime();
    // Three holds in a row, each lifted after the next began (the last one touching): one stretch.
    const first = (
      await disableCustomer(t, customer.id, support.header, { reason: 'first' }).expect(200)
    ).body as { disabled_at: string };
    expect(first.disabled_at).toBe(iso(start));
    clock.advance(20_000);
    await enableCustomer(t, customer.id, support.header).expect(200);
    clock.advance(10_000);
    // Starts 20 s ago, while the first hold was still active: the stretch goes on from `start`.
    const second = (
      await placeHold(t, customer.id, support.header, {
        reason_code: 'other',
        reason: 'second',
        starts_at: iso(start + 10_000),
      }).expect(201)
    ).body as HoldBody;
    let view = await getCustomer(t, customer.id, reader.header);
    expect(view).toMatchObject({ status: 'disabled', disabled_at: iso(start) });
    // The stored projection too: the change read the first hold, placed before its lock.
    const [stored] = await t.asOwner<{ status: string; disabled_at: Date }>(
      'SELECT status, disabled_at FROM customers WHERE id = $1',
      [customer.id],
    );
    expect(stored).toEqual({ status: 'disabled', disabled_at: new Date(start) });

    const read = await inPlay(customer.id, clock.now());
    expect(read.map((h) => h.reason)).toEqual(['first', 'second']);
    expect(read[1].id).toBe(second.id);
    expect(read[0].liftedAt).toEqual(new Date(start + 20_000));

    // Lifted, the stretch is over: nothing of it is read any more.
    clock.advance(5_000);
    await enableCustomer(t, customer.id, support.header).expect(200);
    expect(await inPlay(customer.id, new Date(clock.now().getTime() + 1))).toEqual([]);
    view = await getCustomer(t, customer.id, reader.header);
    expect(view).toMatchObject({ status: 'enabled', disabled_at: null, holds: [] });
  });

  it('disables, enables and crosses scheduled boundaries as before, with a long history', async () => {
    const customer = await customerWithHistory();
    const t0 = clock.now().getTime();

    for (let i = 0; i < 3; i += 1) {
      const disabled = (await disableCustomer(t, customer.id, support.header).expect(200)).body as {
        status: string;
        disabled_at: string;
        holds: unknown[];
      };
      expect(disabled).toMatchObject({
        status: 'disabled',
        disabled_at: iso(clock.now().getTime()),
      });
      expect(disabled.holds).toHaveLength(1);
      clock.advance(1_000);
      // Disabling again while a manual hold is active places nothing.
      await disableCustomer(t, customer.id, support.header).expect(200);
      clock.advance(1_000);
      const enabled = (await enableCustomer(t, customer.id, support.header).expect(200)).body as {
        status: string;
        holds: unknown[];
      };
      expect(enabled).toMatchObject({ status: 'enabled', holds: [] });
      clock.advance(1_000);
    }

    // A hold from 1 min ahead for 1 min; the clock then jumps past both boundaries at once, and
    // the scheduler catches up on both, each transition at its instant.
    const from = clock.now().getTime() + 60_000;
    const hold = (
      await placeHold(t, customer.id, support.header, {
        reason_code: 'other',
        starts_at: iso(from),
        ends_at: iso(from + 60_000),
      }).expect(201)
    ).body as HoldBody;
    clock.advance(3 * 60_000);
    await eventually(
      async () => {
        const [row] = await t.asOwner<{ status: string; next_boundary_at: Date | null }>(
          'SELECT status, next_boundary_at FROM customers WHERE id = $1',
          [customer.id],
        );
        return row.next_boundary_at === null ? row : undefined;
      },
      10_000,
      'the scheduler caught up',
    );
    const entries = await auditOf(t, customer.id, reader.header);
    const disables = Array.from({ length: 3 }, (_, i) => [
      ['customer.disabled', 'user', iso(t0 + i * 3_000)],
      ['customer.enabled', 'user', iso(t0 + i * 3_000 + 2_000)],
    ]).flat();
    expect(transitions(entries)).toEqual([
      ...disables,
      ['customer.disabled', 'system', iso(from)],
      ['hold.expired', 'system', iso(from + 60_000)],
      ['customer.enabled', 'system', iso(from + 60_000)],
    ]);
    expect(entries.find((e) => e.action === 'hold.expired')?.hold_id).toBe(hold.id);
    expect(await getCustomer(t, customer.id, reader.header)).toMatchObject({
      status: 'enabled',
      disabled_at: null,
      holds: [],
    });
    const all = await allPages<HoldBody>(
      t,
      `/api/v1/customers/${customer.id}/holds`,
      reader.header,
    );
    expect(all).toHaveLength(HISTORY + 20 + 4);
  });
});
