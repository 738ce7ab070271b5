import request from 'supertest';
import { AuditLog } from '../../src/audit/entities/audit-log.entity';
import { Customer } from '../../src/customers/entities/customer.entity';
import { HoldsService } from '../../src/holds/holds.service';
import { createApiKey } from '../support/api-keys';
import { countRows, createCustomer, insertHold, signIn, StaffSession } from '../support/factories';
import { createPlan } from '../support/plans';
import { BURST_ENV, startTestApp, TestApp, TestClock } from '../support/test-app';

const UNKNOWN_ID = '6f1c1a52-9a43-4d5b-8a55-1b1d2f0c0c0c';
const TABLES = ['customers', 'holds', 'audit_logs', 'customer_notes'];
const HOUR = 3600_000;

describe('holds', () => {
  let t: TestApp;
  let clock: TestClock;
  let support: StaffSession;
  let manager: StaffSession;
  let reader: StaffSession;

  beforeAll(async () => {
    clock = new TestClock();
    // The scheduler is left to the tests (settleDue), so that "before it ran" can be seen.
    // BURST_ENV: the race of places and lifts below.
    t = await startTestApp({ HOLD_SCHEDULER_INTERVAL_MS: '60000', ...BURST_ENV }, { clock });
    [support, manager, reader] = await Promise.all([
      signIn(t, 'customer_support'),
      signIn(t, 'account_manager'),
      signIn(t, 'user'),
    ]);
  });
  afterAll(() => t.close());

  const iso = (ms: number) => new Date(clock.now().getTime() + ms).toISOString();
  const place = (customerId: string, body: object, session = support) =>
    request(t.http).post(`/api/v1/customers/${customerId}/holds`).set(session.header).send(body);
  const lift = (holdId: string, body: object = {}, session = support) =>
    request(t.http).post(`/api/v1/holds/${holdId}/lift`).set(session.header).send(body);
  const customerOf = async (id: string) =>
    (await request(t.http).get(`/api/v1/customers/${id}`).set(reader.header).expect(200)).body;
  const limitsOf = async (id: string) =>
    (await request(t.http).get(`/api/v1/customers/${id}/limits`).set(reader.header).expect(200))
      .body;
  const entriesOf = (customerId: string) =>
    t.db.getRepository(AuditLog).find({ where: { customerId }, order: { createdAt: 'ASC' } });
  const rowOf = (id: string) => t.db.getRepository(Customer).findOneByOrFail({ id });

  describe('POST /customers/{id}/holds', () => {
    it('places an active hold: the customer is disabled at once, with hold.placed, customer.disabled and a note', async () => {
      const customer = await createCustomer(t);
      const response = await place(customer.id, {
        reason_code: 'compliance',
        reason: 'KYC review',
        pause_billing: false,
      }).expect(201);
      expect(response.body).toEqual({
        id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        customer_id: customer.id,
        source: 'manual',
        reason_code: 'compliance',
        reason: 'KYC review',
        starts_at: expect.any(String),
        ends_at: null,
        pause_billing: false,
        state: 'active',
        placed_by: { type: 'user', id: support.user.id, name: support.user.name },
        placed_at: expect.any(String),
        lifted_by: null,
        lifted_at: null,
        lift_reason: null,
        review_at: new Date(Date.parse(response.body.placed_at) + 30 * 24 * HOUR).toISOString(),
      });
      const body = await customerOf(customer.id);
      expect(body).toMatchObject({
        status: 'disabled',
        disabled_reason: 'KYC review',
        disabled_at: response.body.starts_at,
        billing_paused: false,
        holds: [
          {
            id: response.body.id,
            source: 'manual',
            reason_code: 'compliance',
            starts_at: response.body.starts_at,
            ends_at: null,
          },
        ],
      });
      expect((await entriesOf(customer.id)).map((e) => [e.action, e.holdId, e.reason])).toEqual([
        ['hold.placed', response.body.id, 'KYC review'],
        ['customer.disabled', response.body.id, 'KYC review'],
      ]);
      const notes = await t.db.query<{ body: string }[]>(
        'SELECT body FROM customer_notes WHERE customer_id = $1',
        [customer.id],
      );
      expect(notes.map((n) => n.body)).toEqual(['KYC review']);
    });

    it('keeps a customer disabled while any hold is active: lifting one of two changes nothing else', async () => {
      const customer = await createCustomer(t);
      const invoice = (await place(customer.id, { reason_code: 'non_payment', reason: 'Invoice' }))
        .body;
      const review = (await place(customer.id, { reason_code: 'compliance', reason: 'Review' }))
        .body;
      await lift(invoice.id, { reason: 'Paid' }).expect(200);
      expect(await customerOf(customer.id)).toMatchObject({
        status: 'disabled',
        disabled_reason: 'Review',
        holds: [expect.objectContaining({ id: review.id })],
      });
      expect((await limitsOf(customer.id)).holds).toEqual([
        {
          id: review.id,
          source: 'manual',
          reason_code: 'compliance',
          since: review.starts_at,
          until: null,
        },
      ]);
      const lifted = await lift(review.id).expect(200);
      expect(lifted.body).toMatchObject({
        state: 'lifted',
        lifted_by: { type: 'user', id: support.user.id, name: support.user.name },
      });
      expect((await customerOf(customer.id)).status).toBe('enabled');
      expect((await entriesOf(customer.id)).map((e) => e.action)).toEqual([
        'hold.placed',
        'customer.disabled',
        'hold.placed',
        'hold.lifted',
        'hold.lifted',
        'customer.enabled',
      ]);
    });

    it('accepts the configured reason codes only', async () => {
      const custom = await startTestApp(
        { HOLD_REASON_CODES: 'fraud,other' },
        { database: t.database },
      );
      try {
        const customer = await createCustomer(t);
        const session = await signIn(custom, 'customer_support');
        await request(custom.http)
          .post(`/api/v1/customers/${customer.id}/holds`)
          .set(session.header)
          .send({ reason_code: 'fraud' })
          .expect(201);
        const refused = await request(custom.http)
          .post(`/api/v1/customers/${customer.id}/holds`)
          .set(session.header)
          .send({ reason_code: 'compliance' })
          .expect(400);
        expect(refused.body.errors).toEqual([
          { field: 'reason_code', message: 'must be one of fraud, other' },
        ]);
      } finally {
        await custom.close();
      }
    });
  });

  describe('bad input changes nothing', () => {
    let customer: Customer;
    beforeAll(async () => {
      customer = await createCustomer(t);
    });

    it.each([
      [
        'a start more than 60 s in the past',
        () => ({ reason_code: 'other', starts_at: iso(-61_000) }),
        'starts_at',
      ],
      [
        'an end before the start',
        () => ({ reason_code: 'other', starts_at: iso(HOUR), ends_at: iso(HOUR - 1000) }),
        'ends_at',
      ],
      [
        'an end equal to the start',
        () => {
          const at = iso(HOUR);
          return { reason_code: 'other', starts_at: at, ends_at: at };
        },
        'ends_at',
      ],
      [
        'an end in the past',
        () => ({ reason_code: 'other', starts_at: iso(-30_000), ends_at: iso(-1000) }),
        'ends_at',
      ],
      ['an unknown reason code', () => ({ reason_code: 'bored' }), 'reason_code'],
      ['no reason code', () => ({ reason: 'Why not' }), 'reason_code'],
      [
        'a review date in the past',
        () => ({ reason_code: 'other', review_at: iso(-1000) }),
        'review_at',
      ],
      ['a malformed start', () => ({ reason_code: 'other', starts_at: 'monday' }), 'starts_at'],
      [
        'a reason over 1000 characters',
        () => ({ reason_code: 'other', reason: 'r'.repeat(1001) }),
        'reason',
      ],
    ])('refuses %s with 400 naming the field', async (_, body, field) => {
      const before = await countRows(t, TABLES);
      const response = await place(customer.id, body()).expect(400);
      expect(response.body.code).toBe('validation_failed');
      expect(response.body.errors.map((e: { field: string }) => e.field)).toContain(field);
      expect(await countRows(t, TABLES)).toEqual(before);
    });

    it.each([
      ['an unknown reason code', () => ({ reason_code: 'bored' }), 'reason_code'],
      ['an end in the past', () => ({ ends_at: iso(-1000) }), 'ends_at'],
      ['a malformed end', () => ({ ends_at: 'soon' }), 'ends_at'],
      ['a non-boolean notify_customer', () => ({ notify_customer: 'yes' }), 'notify_customer'],
    ])(
      'refuses a disable with %s (400 naming the field), changing nothing',
      async (_, body, field) => {
        const before = await countRows(t, TABLES);
        const response = await request(t.http)
          .post(`/api/v1/customers/${customer.id}/disable`)
          .set(support.header)
          .send(body())
          .expect(400);
        expect(response.body.errors.map((e: { field: string }) => e.field)).toContain(field);
        expect(await countRows(t, TABLES)).toEqual(before);
      },
    );

    it('answers 404 for an unknown customer or hold and 400 for malformed ids, changing nothing', async () => {
      const before = await countRows(t, TABLES);
      expect((await place(UNKNOWN_ID, { reason_code: 'other' }).expect(404)).body.code).toBe(
        'not_found',
      );
      expect((await lift(UNKNOWN_ID).expect(404)).body.code).toBe('not_found');
      expect((await lift('42').expect(400)).body.errors).toEqual([
        { field: 'id', message: 'must be a UUID' },
      ]);
      await place('nope', { reason_code: 'other' }).expect(400);
      await request(t.http)
        .post(`/api/v1/holds/${UNKNOWN_ID}/review`)
        .set(support.header)
        .send({ review_at: iso(HOUR) })
        .expect(404);
      expect(await countRows(t, TABLES)).toEqual(before);
    });

    it('answers 409 hold_not_active when lifting a lifted or expired hold', async () => {
      const lifted = (await place(customer.id, { reason_code: 'other' }).expect(201)).body;
      await lift(lifted.id).expect(200);
      const expired = await insertHold(t.db, customer.id, {
        startsAt: new Date(clock.now().getTime() - 2 * HOUR),
        endsAt: new Date(clock.now().getTime() - HOUR),
      });
      for (const id of [lifted.id, expired.id]) {
        const before = await countRows(t, TABLES);
        const response = await lift(id, { reason: 'Again' }).expect(409);
        expect(response.body).toMatchObject({ code: 'hold_not_active', status: 409 });
        expect(await countRows(t, TABLES)).toEqual(before);
      }
    });

    it('refuses lifting another source’s hold without account_manager (403 naming it); a manager may', async () => {
      const overdue = await insertHold(t.db, customer.id, {
        source: 'overdue',
        reasonCode: 'non_payment',
      });
      const before = await countRows(t, TABLES);
      const refused = await lift(overdue.id, {}, support).expect(403);
      expect(refused.body.code).toBe('forbidden');
      expect(refused.body.detail).toContain('account_manager');
      expect(await countRows(t, TABLES)).toEqual(before);
      const done = await lift(overdue.id, {}, manager).expect(200);
      expect(done.body.state).toBe('lifted');
    });
  });

  describe('time: scheduled and ending holds', () => {
    it('a scheduled hold disables at its start, in every answer, before the scheduler ran; then the scheduler records it once, as system, at that instant', async () => {
      const customer = await createCustomer(t);
      const key = await createApiKey(t, customer.id);
      const startsAt = iso(HOUR);
      const hold = (
        await place(customer.id, {
          reason_code: 'customer_request',
          starts_at: startsAt,
          ends_at: iso(2 * HOUR),
        }).expect(201)
      ).body;
      expect(hold.state).toBe('scheduled');
      // Cached before the boundary:
      expect((await limitsOf(customer.id)).status).toBe('enabled');
      await request(t.http).get(`/api/v1/customers/${customer.id}`).set(key.header).expect(200);
      expect(await customerOf(customer.id)).toMatchObject({
        status: 'enabled',
        holds: [
          {
            id: hold.id,
            starts_at: startsAt,
            ends_at: hold.ends_at,
            source: 'manual',
            reason_code: 'customer_request',
          },
        ],
      });
      expect((await rowOf(customer.id)).nextBoundaryAt?.toISOString()).toBe(startsAt);

      clock.advance(HOUR);
      expect((await limitsOf(customer.id)).status).toBe('disabled');
      expect((await customerOf(customer.id)).status).toBe('disabled');
      const refused = await request(t.http)
        .get(`/api/v1/customers/${customer.id}`)
        .set(key.header)
        .expect(403);
      expect(refused.body.code).toBe('customer_disabled');
      // Nothing written yet: the stored projection is the scheduler's.
      expect((await entriesOf(customer.id)).map((e) => e.action)).toEqual(['hold.placed']);

      const service = t.app.get(HoldsService);
      await service.settleDue();
      await service.settleDue();
      const entries = await entriesOf(customer.id);
      expect(entries.map((e) => [e.action, e.actorType, e.actorId, e.actorName])).toEqual([
        ['hold.placed', 'user', support.user.id, support.user.name],
        ['customer.disabled', 'system', null, 'system'],
      ]);
      expect(entries[1].effectiveAt?.toISOString()).toBe(startsAt);
      expect(entries[1].holdId).toBe(hold.id);
      expect(await rowOf(customer.id)).toMatchObject({ status: 'disabled' });

      clock.advance(HOUR);
      expect((await limitsOf(customer.id)).status).toBe('enabled');
      await service.settleDue();
      const after = await entriesOf(customer.id);
      expect(
        after.slice(2).map((e) => [e.action, e.actorType, e.effectiveAt?.toISOString()]),
      ).toEqual([
        ['hold.expired', 'system', hold.ends_at],
        ['customer.enabled', 'system', hold.ends_at],
      ]);
      expect(await rowOf(customer.id)).toMatchObject({ status: 'enabled', nextBoundaryAt: null });
      const listed = await request(t.http)
        .get(`/api/v1/customers/${customer.id}/holds`)
        .set(reader.header)
        .expect(200);
      expect(listed.body.data.map((h: { state: string }) => h.state)).toEqual(['expired']);
    });

    it('a use case catches up first: a boundary that passed is recorded at its instant before the request’s own change', async () => {
      const customer = await createCustomer(t);
      const startsAt = iso(HOUR);
      const hold = (
        await place(customer.id, { reason_code: 'other', starts_at: startsAt }).expect(201)
      ).body;
      clock.advance(HOUR + 1000);
      await request(t.http)
        .post(`/api/v1/customers/${customer.id}/enable`)
        .set(support.header)
        .send({ reason: 'Done' })
        .expect(200);
      const entries = await entriesOf(customer.id);
      expect(
        entries.map((e) => [e.action, e.actorType, e.effectiveAt?.toISOString() === startsAt]),
      ).toEqual([
        ['hold.placed', 'user', false],
        ['customer.disabled', 'system', true],
        ['hold.lifted', 'user', false],
        ['customer.enabled', 'user', false],
      ]);
      expect(entries[2].holdId).toBe(hold.id);
    });

    it('a use case catches up first even when it changes nothing: an enable after a hold’s end records the end at its instant', async () => {
      const customer = await createCustomer(t);
      const endsAt = iso(HOUR);
      await request(t.http)
        .post(`/api/v1/customers/${customer.id}/disable`)
        .set(support.header)
        .send({ ends_at: endsAt })
        .expect(200);
      clock.advance(HOUR + 1000);
      // Nothing to lift (the hold has ended), but the boundary has come and the scheduler has not
      // run: the enable writes the end, as the system, at the hold's end, and answers it.
      const response = await request(t.http)
        .post(`/api/v1/customers/${customer.id}/enable`)
        .set(support.header)
        .expect(200);
      expect(response.body).toMatchObject({ status: 'enabled', holds: [] });
      const entries = await entriesOf(customer.id);
      expect(
        entries.map((e) => [e.action, e.actorType, e.effectiveAt?.toISOString() === endsAt]),
      ).toEqual([
        ['hold.placed', 'user', false],
        ['customer.disabled', 'user', false],
        ['hold.expired', 'system', true],
        ['customer.enabled', 'system', true],
      ]);
      expect(await rowOf(customer.id)).toMatchObject({ status: 'enabled', nextBoundaryAt: null });
    });

    it('enable lifts scheduled holds too, and lifting a scheduled hold cancels it', async () => {
      const customer = await createCustomer(t);
      const later = (await place(customer.id, { reason_code: 'other', starts_at: iso(HOUR) })).body;
      const cancelled = (await place(customer.id, { reason_code: 'other', starts_at: iso(HOUR) }))
        .body;
      expect((await lift(cancelled.id).expect(200)).body.state).toBe('lifted');
      const enabled = await request(t.http)
        .post(`/api/v1/customers/${customer.id}/enable`)
        .set(support.header)
        .expect(200);
      expect(enabled.body).toMatchObject({ status: 'enabled', holds: [] });
      const listed = await request(t.http)
        .get(`/api/v1/customers/${customer.id}/holds?state=lifted`)
        .set(reader.header)
        .expect(200);
      expect(listed.body.data.map((h: { id: string }) => h.id).sort()).toEqual(
        [later.id, cancelled.id].sort(),
      );
      expect((await rowOf(customer.id)).nextBoundaryAt).toBeNull();
      // No status changed: no transition was recorded.
      expect(
        (await entriesOf(customer.id)).filter((e) => e.action.startsWith('customer.')),
      ).toEqual([]);
    });

    it('disable with ends_at places a hold that ends by itself', async () => {
      const customer = await createCustomer(t);
      const endsAt = iso(HOUR);
      const response = await request(t.http)
        .post(`/api/v1/customers/${customer.id}/disable`)
        .set(support.header)
        .send({ reason_code: 'dispute', ends_at: endsAt })
        .expect(200);
      expect(response.body).toMatchObject({
        status: 'disabled',
        holds: [expect.objectContaining({ reason_code: 'dispute', ends_at: endsAt })],
      });
      clock.advance(HOUR);
      expect((await customerOf(customer.id)).status).toBe('enabled');
    });
  });

  describe('the boundary scheduler, running', () => {
    it('records a start and an end with no request, polling through the pool (the embedded engine too)', async () => {
      const running = await startTestApp(
        { HOLD_SCHEDULER_INTERVAL_MS: '50' },
        { database: t.database },
      );
      try {
        const customer = await createCustomer(t);
        const session = await signIn(running, 'customer_support');
        const startsAt = new Date(Date.now() + 800);
        const endsAt = new Date(startsAt.getTime() + 400);
        const hold = await request(running.http)
          .post(`/api/v1/customers/${customer.id}/holds`)
          .set(session.header)
          .send({
            reason_code: 'other',
            starts_at: startsAt.toISOString(),
            ends_at: endsAt.toISOString(),
          })
          .expect(201);
        const deadline = Date.now() + 5000;
        let actions: string[] = [];
        while (Date.now() < deadline) {
          actions = (await entriesOf(customer.id)).map((e) => `${e.action}:${e.actorType}`);
          if (actions.length >= 4) break;
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        expect(actions).toEqual([
          'hold.placed:user',
          'customer.disabled:system',
          'hold.expired:system',
          'customer.enabled:system',
        ]);
        const entries = await entriesOf(customer.id);
        expect(entries.slice(1).map((e) => [e.effectiveAt?.getTime(), e.holdId])).toEqual([
          [startsAt.getTime(), hold.body.id],
          [endsAt.getTime(), hold.body.id],
          [endsAt.getTime(), hold.body.id],
        ]);
      } finally {
        await running.close();
      }
    });
  });

  describe('billing and subscriptions', () => {
    it('pauses billing while an active hold says so, and resumes when it is lifted', async () => {
      const customer = await createCustomer(t);
      const hold = (await place(customer.id, { reason_code: 'other', pause_billing: true })).body;
      expect((await rowOf(customer.id)).billingPaused).toBe(true);
      await lift(hold.id).expect(200);
      expect((await rowOf(customer.id)).billingPaused).toBe(false);
      const pauses = await t.db.query('SELECT 1 FROM billing_pauses WHERE customer_id = $1', [
        customer.id,
      ]);
      expect(pauses).toHaveLength(1);
    });

    it('refuses new subscriptions from a scheduled hold’s start, before the scheduler ran', async () => {
      const customer = await createCustomer(t);
      const plan = await createPlan(t);
      await place(customer.id, { reason_code: 'other', starts_at: iso(HOUR) }).expect(201);
      clock.advance(HOUR);
      const refused = await request(t.http)
        .post(`/api/v1/customers/${customer.id}/subscriptions`)
        .set(manager.header)
        .send({ plan_code: plan.code })
        .expect(403);
      expect(refused.body.code).toBe('customer_disabled');
    });
  });

  describe('reviews', () => {
    it('lists holds and customers due for review, and a review postpones it with hold.reviewed', async () => {
      const customer = await createCustomer(t);
      const hold = (
        await place(customer.id, { reason_code: 'security', review_at: iso(HOUR) }).expect(201)
      ).body;
      const due = () =>
        request(t.http)
          .get('/api/v1/holds?review_due=true&limit=200')
          .set(reader.header)
          .expect(200);
      const dueCustomers = () =>
        request(t.http)
          .get('/api/v1/customers?review_due=true&limit=200')
          .set(reader.header)
          .expect(200);
      expect((await due()).body.data.map((h: { id: string }) => h.id)).not.toContain(hold.id);
      clock.advance(HOUR);
      expect((await due()).body.data.map((h: { id: string }) => h.id)).toContain(hold.id);
      expect((await dueCustomers()).body.data.map((c: { id: string }) => c.id)).toContain(
        customer.id,
      );

      const nextReview = iso(24 * HOUR);
      const reviewed = await request(t.http)
        .post(`/api/v1/holds/${hold.id}/review`)
        .set(support.header)
        .send({ review_at: nextReview, note: 'Still under investigation' })
        .expect(200);
      expect(reviewed.body.review_at).toBe(nextReview);
      expect((await due()).body.data.map((h: { id: string }) => h.id)).not.toContain(hold.id);
      expect((await dueCustomers()).body.data.map((c: { id: string }) => c.id)).not.toContain(
        customer.id,
      );
      const [last] = (await entriesOf(customer.id)).reverse();
      expect(last).toMatchObject({
        action: 'hold.reviewed',
        holdId: hold.id,
        reason: 'Still under investigation',
      });

      const before = await countRows(t, TABLES);
      await request(t.http)
        .post(`/api/v1/holds/${hold.id}/review`)
        .set(support.header)
        .send({ review_at: iso(-1000) })
        .expect(400);
      await lift(hold.id).expect(200);
      const after = await countRows(t, TABLES);
      const refused = await request(t.http)
        .post(`/api/v1/holds/${hold.id}/review`)
        .set(support.header)
        .send({ review_at: iso(HOUR) })
        .expect(409);
      expect(refused.body.code).toBe('hold_not_active');
      expect(await countRows(t, TABLES)).toEqual(after);
      expect(after.holds).toBe(before.holds);
    });

    it('filters GET /holds by state, source and reason code', async () => {
      const customer = await createCustomer(t);
      const scheduled = (await place(customer.id, { reason_code: 'dispute', starts_at: iso(HOUR) }))
        .body;
      const overdue = await insertHold(t.db, customer.id, {
        source: 'overdue',
        reasonCode: 'non_payment',
      });
      const ids = async (query: string) =>
        (
          await request(t.http)
            .get(`/api/v1/holds?${query}&limit=200`)
            .set(reader.header)
            .expect(200)
        ).body.data.map((h: { id: string }) => h.id);
      expect(await ids('state=scheduled')).toContain(scheduled.id);
      expect(await ids('state=active')).not.toContain(scheduled.id);
      expect(await ids('source=overdue')).toContain(overdue.id);
      expect(await ids('source=manual')).not.toContain(overdue.id);
      expect(await ids('reason_code=dispute')).toContain(scheduled.id);
      expect(await ids('reason_code=dispute')).not.toContain(overdue.id);
      for (const bad of [
        'state=gone',
        'source=robot',
        'review_due=maybe',
        'reason_code=Not%20A%20Code',
      ]) {
        expect(
          (await request(t.http).get(`/api/v1/holds?${bad}`).set(reader.header).expect(400)).body
            .code,
        ).toBe('validation_failed');
      }
    });
  });

  describe('a race of places and lifts', () => {
    it('leaves the transitions alternating, one per status change, and every hold placed and lifted once', async () => {
      await new Promise<void>((resolve) => t.http.listen(0, '127.0.0.1', resolve));
      const address = t.http.address();
      if (address === null || typeof address === 'string') throw new Error('no port');
      const base = `http://127.0.0.1:${address.port}`;
      const customer = await createCustomer(t);
      const responses = await Promise.all(
        Array.from({ length: 60 }, (_, i) =>
          i % 2 === 0
            ? request(base)
                .post(`/api/v1/customers/${customer.id}/holds`)
                .set(support.header)
                .send({ reason_code: 'other', reason: `place ${i}` })
            : request(base)
                .post(`/api/v1/customers/${customer.id}/enable`)
                .set(support.header)
                .send({ reason: `lift ${i}` }),
        ),
      );
      expect(responses.map((r) => r.status).sort()).toEqual([
        ...Array<number>(30).fill(200),
        ...Array<number>(30).fill(201),
      ]);

      const entries = await entriesOf(customer.id);
      const transitions = entries.filter((e) => e.action.startsWith('customer.'));
      const row = await rowOf(customer.id);
      expect(transitions.length).toBeGreaterThan(0);
      expect(transitions.length).toBe(row.version - 1);
      expect(transitions[0].before.status).toBe('enabled');
      for (const [i, entry] of transitions.entries()) {
        expect(entry.before.status).not.toBe(entry.after.status);
        if (i > 0) expect(entry.before.status).toBe(transitions[i - 1].after.status);
      }
      expect(transitions[transitions.length - 1].after.status).toBe(row.status);
      expect((await customerOf(customer.id)).status).toBe(row.status);

      const holds = await t.db.query<{ id: string; lifted_at: Date | null }[]>(
        'SELECT id, lifted_at FROM holds WHERE customer_id = $1',
        [customer.id],
      );
      expect(holds).toHaveLength(30);
      expect(entries.filter((e) => e.action === 'hold.placed')).toHaveLength(30);
      const lifted = entries.filter((e) => e.action === 'hold.lifted').map((e) => e.holdId);
      expect(new Set(lifted).size).toBe(lifted.length);
      expect(lifted.sort()).toEqual(
        holds
          .filter((h) => h.lifted_at !== null)
          .map((h) => h.id)
          .sort(),
      );
      // Disabled exactly when a hold is left unlifted.
      expect(row.status).toBe(holds.some((h) => h.lifted_at === null) ? 'disabled' : 'enabled');
    });
  });
});
