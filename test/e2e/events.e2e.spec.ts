import { Logger } from '@nestjs/common';
import request from 'supertest';
import { EventRetention } from '../../src/events/event-retention';
import { HoldsService } from '../../src/holds/holds.service';
import { createApiKey, TestApiKey } from '../support/api-keys';
import { countRows, createCustomer, signIn, StaffSession } from '../support/factories';
import {
  allPages,
  auditOf,
  disableCustomer,
  enableCustomer,
  MALFORMED_ID,
  placeHold,
  TRANSITIONS,
} from '../support/holds';
import { startTestApp, TestApp, TestClock } from '../support/test-app';

interface EventBody {
  id: string;
  type: string;
  created_at: string;
  data: {
    customer?: { id: string; status: string; holds: { id: string }[] };
    hold?: { id: string; state: string; reason_code: string };
  };
}

const HOUR_MS = 3_600_000;

/**
 * The outbox, seen through GET /events: one event per real change, written in the change's own
 * transaction (so a rolled-back change publishes nothing), with the customer as the change left it.
 */
describe('events: the outbox and GET /events', () => {
  let t: TestApp;
  let clock: TestClock;
  let support: StaffSession;
  let developer: StaffSession;
  let platform: TestApiKey;

  beforeAll(async () => {
    clock = new TestClock();
    // Boundaries are settled by the tests (settleDue), at the clock's time.
    t = await startTestApp({ HOLD_SCHEDULER_INTERVAL_MS: '60000' }, { clock });
    [support, developer] = await Promise.all([
      signIn(t, 'customer_support'),
      signIn(t, 'developer'),
    ]);
    platform = await createApiKey(t);
  });
  afterAll(() => t.close());

  /** The customer's events, oldest first. */
  const eventsOf = async (customerId: string): Promise<EventBody[]> =>
    (
      await allPages<EventBody>(t, `/api/v1/events?customer_id=${customerId}`, developer.header)
    ).reverse();

  it('a disable publishes hold.placed then customer.disabled, with the customer as it became', async () => {
    const customer = await createCustomer(t);
    const disabled = await disableCustomer(t, customer.id, support.header, {
      reason_code: 'dispute',
      reason: 'Chargeback 4411',
    }).expect(200);

    const events = await eventsOf(customer.id);
    expect(events.map((e) => e.type)).toEqual(['hold.placed', 'customer.disabled']);
    const holdId = disabled.body.holds[0].id as string;
    for (const event of events) {
      expect(event).toEqual({
        id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        type: expect.any(String),
        created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
        data: { customer: expect.any(Object), hold: expect.any(Object) },
      });
      expect(event.data.hold).toMatchObject({
        id: holdId,
        state: 'active',
        reason_code: 'dispute',
      });
    }
    // The customer in the event is the answer of GET /customers/{id} at that moment.
    const shown = await request(t.http)
      .get(`/api/v1/customers/${customer.id}`)
      .set(support.header)
      .expect(200);
    expect(events[1].data.customer).toEqual(shown.body);
  });

  it('a change that changes nothing publishes nothing: a second disable, an enable of an enabled customer', async () => {
    const customer = await createCustomer(t);
    await enableCustomer(t, customer.id, support.header).expect(200);
    expect(await eventsOf(customer.id)).toEqual([]);

    await disableCustomer(t, customer.id, support.header, { reason: 'First' }).expect(200);
    await disableCustomer(t, customer.id, support.header, { reason: 'Again' }).expect(200);
    expect((await eventsOf(customer.id)).map((e) => e.type)).toEqual([
      'hold.placed',
      'customer.disabled',
    ]);
  });

  it('an enable publishes hold.lifted for each hold it lifts, then customer.enabled', async () => {
    const customer = await createCustomer(t);
    await disableCustomer(t, customer.id, support.header, { reason_code: 'dispute' }).expect(200);
    await placeHold(t, customer.id, support.header, { reason_code: 'compliance' }).expect(201);
    await enableCustomer(t, customer.id, support.header, { reason: 'Resolved' }).expect(200);

    const types = (await eventsOf(customer.id)).map((e) => e.type);
    expect(types).toEqual([
      'hold.placed',
      'customer.disabled',
      'hold.placed',
      'hold.lifted',
      'hold.lifted',
      'customer.enabled',
    ]);
    // As many status events as status transitions in the audit log.
    const transitions = (await auditOf(t, customer.id, support.header)).filter((e) =>
      TRANSITIONS.includes(e.action),
    );
    expect(types.filter((type) => type.startsWith('customer.'))).toEqual(
      transitions.map((e) => e.action),
    );
  });

  it('time publishes too: a scheduled hold starts and expires, written by the scheduler once', async () => {
    const customer = await createCustomer(t);
    const start = clock.now().getTime() + HOUR_MS;
    const placed = await placeHold(t, customer.id, support.header, {
      reason_code: 'customer_request',
      starts_at: new Date(start).toISOString(),
      ends_at: new Date(start + HOUR_MS).toISOString(),
    }).expect(201);
    expect((await eventsOf(customer.id)).map((e) => [e.type, e.data.hold?.state])).toEqual([
      ['hold.placed', 'scheduled'],
    ]);

    const holds = t.app.get(HoldsService);
    clock.advance(HOUR_MS + 1000);
    await holds.settleDue();
    await holds.settleDue();
    clock.advance(HOUR_MS);
    await holds.settleDue();

    const events = await eventsOf(customer.id);
    expect(events.map((e) => [e.type, e.data.hold?.id, e.data.customer?.status])).toEqual([
      ['hold.placed', placed.body.id, 'enabled'],
      ['customer.disabled', placed.body.id, 'disabled'],
      ['hold.expired', placed.body.id, 'enabled'],
      ['customer.enabled', placed.body.id, 'enabled'],
    ]);
  });

  describe('a change that is rolled back publishes nothing', () => {
    let errorLog: jest.SpyInstance;
    // The failure is on purpose: its 500 is logged, not printed.
    beforeEach(() => {
      errorLog = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    });
    afterEach(() => errorLog.mockRestore());

    it('when the last event of a disable cannot be written, the hold and the first event go too', async () => {
      const customer = await createCustomer(t);
      const before = await countRows(t, ['events', 'holds', 'audit_logs', 'customer_notes']);
      // The test's own database refuses this customer's customer.disabled event (as the owner:
      // the app's role may not add triggers), after hold.placed was written in the transaction.
      await t.asOwner(`
        CREATE FUNCTION test_refuse_event() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'event insert refused by the test'; END $$`);
      await t.asOwner(`
        CREATE TRIGGER test_refuse_event BEFORE INSERT ON events FOR EACH ROW
        WHEN (NEW.customer_id = '${customer.id}' AND NEW.type = 'customer.disabled')
        EXECUTE FUNCTION test_refuse_event()`);
      try {
        const response = await disableCustomer(t, customer.id, support.header, {
          reason: 'Never published',
        }).expect(500);
        expect(response.body.code).toBe('internal_error');
      } finally {
        await t.asOwner('DROP TRIGGER test_refuse_event ON events');
        await t.asOwner('DROP FUNCTION test_refuse_event()');
      }
      expect(await countRows(t, ['events', 'holds', 'audit_logs', 'customer_notes'])).toEqual(
        before,
      );
      const shown = await request(t.http)
        .get(`/api/v1/customers/${customer.id}`)
        .set(support.header)
        .expect(200);
      expect(shown.body.status).toBe('enabled');
    });
  });

  describe('GET /events', () => {
    it('pages newest first and filters by type and customer, for developers and platform keys', async () => {
      const a = await createCustomer(t);
      const b = await createCustomer(t);
      await disableCustomer(t, a.id, support.header).expect(200);
      await disableCustomer(t, b.id, support.header).expect(200);
      await enableCustomer(t, a.id, support.header).expect(200);

      const first = await request(t.http)
        .get('/api/v1/events?limit=2')
        .set(platform.header)
        .expect(200);
      expect(first.body.data.map((e: EventBody) => [e.type, e.data.customer?.id])).toEqual([
        ['customer.enabled', a.id],
        ['hold.lifted', a.id],
      ]);
      const second = await request(t.http)
        .get(`/api/v1/events?limit=2&cursor=${first.body.next_cursor}`)
        .set(platform.header)
        .expect(200);
      expect(second.body.data.map((e: EventBody) => [e.type, e.data.customer?.id])).toEqual([
        ['customer.disabled', b.id],
        ['hold.placed', b.id],
      ]);

      const disables = await request(t.http)
        .get(`/api/v1/events?type=customer.disabled&customer_id=${a.id.toUpperCase()}`)
        .set(developer.header)
        .expect(200);
      expect(disables.body).toEqual({
        data: [expect.objectContaining({ type: 'customer.disabled' })],
        next_cursor: null,
      });
      expect(disables.body.data[0].data.customer.id).toBe(a.id);
    });

    it.each([
      ['an unknown type', 'type=customer.deleted', 'type'],
      ['a malformed customer id', `customer_id=${MALFORMED_ID}`, 'customer_id'],
      ['a forged cursor', 'cursor=bm90LWEtY3Vyc29y', 'cursor'],
      ['a limit out of range', 'limit=0', 'limit'],
    ])('refuses %s with 400 validation_failed', async (_what, query, field) => {
      const response = await request(t.http)
        .get(`/api/v1/events?${query}`)
        .set(developer.header)
        .expect(400);
      expect(response.body.code).toBe('validation_failed');
      expect(response.body.errors).toEqual([expect.objectContaining({ field })]);
    });

    it('is closed to support staff and customer keys', async () => {
      const customer = await createCustomer(t);
      const own = await createApiKey(t, customer.id);
      expect(
        (await request(t.http).get('/api/v1/events').set(support.header).expect(403)).body.code,
      ).toBe('forbidden');
      expect(
        (await request(t.http).get('/api/v1/events').set(own.header).expect(403)).body.code,
      ).toBe('forbidden');
    });
  });
  // Last: it moves the clock by months.
  it('keeps events EVENT_RETENTION_DAYS (90) days, then removes them in batches', async () => {
    const old = await createCustomer(t);
    await disableCustomer(t, old.id, support.header).expect(200);
    clock.advance(89 * 24 * HOUR_MS);
    const recent = await createCustomer(t);
    await disableCustomer(t, recent.id, support.header).expect(200);
    const retention = t.app.get(EventRetention);

    expect(await retention.prune()).toBe(0);
    expect(await eventsOf(old.id)).toHaveLength(2);

    clock.advance(2 * 24 * HOUR_MS);
    expect(await retention.prune()).toBeGreaterThanOrEqual(2);
    expect(await eventsOf(old.id)).toEqual([]);
    expect(await eventsOf(recent.id)).toHaveLength(2);
  });
});
