import request from 'supertest';
import { createApiKey, TestApiKey } from '../support/api-keys';
import { createCustomer, signIn, StaffSession } from '../support/factories';
import {
  allPages,
  auditOf,
  AuditEntryBody,
  DAY_MS,
  disableCustomer,
  eventually,
  enableCustomer,
  getCustomer,
  getLimits,
  HoldBody,
  Headers,
  insertOverdueHold,
  iso,
  liftHold,
  placeHold,
  reviewHold,
  sleep,
  snapshot,
  TRANSITIONS,
} from '../support/holds';
import { createFeature, createPlan, createSubscription } from '../support/plans';
import { startTestApp, TestApp } from '../support/test-app';

/**
 * Issue 9: what holds mean, from the contract (../shared/API.md, "Holds"). A customer is disabled
 * while it has at least one active hold; each hold lives on its own.
 */
describe('holds: semantics', () => {
  let t: TestApp;
  let support: StaffSession;
  let reader: StaffSession;
  let platform: TestApiKey;

  beforeAll(async () => {
    t = await startTestApp();
    [support, reader] = await Promise.all([signIn(t, 'customer_support'), signIn(t, 'user')]);
    platform = await createApiKey(t);
  });
  afterAll(() => t.close());

  const place = async (customerId: string, body: object, headers: Headers = support.header) =>
    (await placeHold(t, customerId, headers, body).expect(201)).body as HoldBody;
  const lift = async (holdId: string, body: object = {}, headers: Headers = support.header) =>
    (await liftHold(t, holdId, headers, body).expect(200)).body as HoldBody;
  const holdsOf = async (customerId: string, state?: string) =>
    allPages<HoldBody>(
      t,
      `/api/v1/customers/${customerId}/holds` + (state ? `?state=${state}` : ''),
      reader.header,
    );
  const audit = (customerId: string) => auditOf(t, customerId, reader.header);
  const actions = (entries: AuditEntryBody[]) => entries.map((e) => [e.action, e.hold_id]);

  async function customerWithSubscription() {
    const feature = await createFeature(t);
    const customer = await createCustomer(t);
    const plan = await createPlan(t, { grants: { [feature.code]: 5 }, userCount: 3 });
    await createSubscription(t, customer.id, plan.id);
    return { customer, feature };
  }

  it('stays disabled while one of two holds is active, and is enabled when the last is lifted', async () => {
    const { customer, feature } = await customerWithSubscription();
    const placedFrom = Date.now();
    const first = await place(customer.id, {
      reason_code: 'compliance',
      reason: 'KYC review',
      pause_billing: false,
    });
    const placedUntil = Date.now();
    const second = await place(customer.id, {
      reason_code: 'non_payment',
      reason: 'Invoice INV-9 unpaid',
      pause_billing: true,
    });
    expect(first).toMatchObject({
      customer_id: customer.id,
      source: 'manual',
      reason_code: 'compliance',
      reason: 'KYC review',
      state: 'active',
      ends_at: null,
      pause_billing: false,
      placed_by: { type: 'user', id: support.user.id, name: support.user.name },
      lifted_by: null,
      lifted_at: null,
      lift_reason: null,
    });
    expect(Date.parse(first.starts_at)).toBeGreaterThanOrEqual(placedFrom - 1);
    expect(Date.parse(first.starts_at)).toBeLessThanOrEqual(placedUntil + 1);

    let view = await getCustomer(t, customer.id, reader.header);
    expect(view).toMatchObject({
      status: 'disabled',
      disabled_at: first.starts_at,
      disabled_reason: 'KYC review',
      billing_paused: true, // the second hold pauses billing
    });
    expect(view.holds.map((h) => h.id).sort()).toEqual([first.id, second.id].sort());
    expect(view.holds.find((h) => h.id === first.id)).toEqual({
      id: first.id,
      source: 'manual',
      reason_code: 'compliance',
      starts_at: first.starts_at,
      ends_at: null,
    });

    const lifted = await lift(first.id, { reason: 'KYC passed' });
    expect(lifted).toMatchObject({
      id: first.id,
      state: 'lifted',
      lift_reason: 'KYC passed',
      lifted_by: { type: 'user', id: support.user.id },
    });
    view = await getCustomer(t, customer.id, reader.header);
    expect(view).toMatchObject({
      status: 'disabled',
      // The disabled stretch began with the first hold and has not ended.
      disabled_at: first.starts_at,
      disabled_reason: 'Invoice INV-9 unpaid',
      billing_paused: true,
    });
    expect(view.holds.map((h) => h.id)).toEqual([second.id]);
    const limits = await getLimits(t, customer.id, platform.header);
    expect(limits).toMatchObject({
      status: 'disabled',
      disabled: true,
      features: [],
      limits: {},
      user_count: 0,
      holds: [
        {
          id: second.id,
          source: 'manual',
          reason_code: 'non_payment',
          since: second.starts_at,
          until: null,
        },
      ],
    });

    await lift(second.id);
    view = await getCustomer(t, customer.id, reader.header);
    expect(view).toMatchObject({
      status: 'enabled',
      disabled_at: null,
      disabled_reason: null,
      billing_paused: false,
      holds: [],
    });
    expect(await getLimits(t, customer.id, platform.header)).toMatchObject({
      status: 'enabled',
      disabled: false,
      holds: [],
      features: [feature.code],
      user_count: 3,
    });

    const entries = await audit(customer.id);
    expect(actions(entries)).toEqual([
      ['hold.placed', first.id],
      ['customer.disabled', first.id],
      ['hold.placed', second.id],
      ['hold.lifted', first.id],
      ['hold.lifted', second.id],
      ['customer.enabled', second.id],
    ]);
    for (const entry of entries) {
      expect(entry.actor).toMatchObject({ type: 'user', id: support.user.id });
      expect(typeof entry.effective_at).toBe('string');
    }
    const disabledEntry = entries.find((e) => e.action === 'customer.disabled')!;
    expect(disabledEntry).toMatchObject({
      before: { status: 'enabled' },
      after: { status: 'disabled' },
      effective_at: first.starts_at,
    });
    const enabledEntry = entries.find((e) => e.action === 'customer.enabled')!;
    expect(enabledEntry).toMatchObject({
      before: { status: 'disabled' },
      after: { status: 'enabled' },
    });
    expect(Date.parse(enabledEntry.effective_at!)).toBeGreaterThanOrEqual(
      Date.parse(first.starts_at),
    );
  });

  it('starts a new disabled stretch after an enabled gap', async () => {
    const customer = await createCustomer(t);
    const first = await place(customer.id, { reason_code: 'dispute', reason: 'Old' });
    await lift(first.id);
    const second = await place(customer.id, { reason_code: 'security', reason: 'New' });
    expect(await getCustomer(t, customer.id, reader.header)).toMatchObject({
      status: 'disabled',
      disabled_at: second.starts_at,
      disabled_reason: 'New',
    });
  });

  it('filters the audit log by the hold actions, and lists hold entries under the customer', async () => {
    const customer = await createCustomer(t);
    const hold = await place(customer.id, { reason_code: 'other' });
    await reviewHold(t, hold.id, support.header, { review_at: iso(Date.now() + DAY_MS) }).expect(
      200,
    );
    await lift(hold.id);
    for (const action of ['hold.placed', 'hold.reviewed', 'hold.lifted', 'customer.enabled']) {
      const entries = await allPages<AuditEntryBody>(
        t,
        `/api/v1/audit-logs?customer_id=${customer.id}&action=${action}`,
        reader.header,
      );
      expect(entries.map((e) => [e.action, e.hold_id])).toEqual([[action, hold.id]]);
    }
    const underCustomer = await allPages<AuditEntryBody>(
      t,
      `/api/v1/customers/${customer.id}/audit-logs`,
      reader.header,
    );
    expect(underCustomer.map((e) => e.action)).toEqual([
      'customer.enabled',
      'hold.lifted',
      'hold.reviewed',
      'customer.disabled',
      'hold.placed',
    ]);
  });

  it('turns each hold’s reason into an internal note', async () => {
    const customer = await createCustomer(t);
    await place(customer.id, { reason_code: 'dispute', reason: 'Chargeback CB-1' });
    await place(customer.id, { reason_code: 'security' });
    const notes = await allPages<{ body: string }>(
      t,
      `/api/v1/customers/${customer.id}/notes`,
      reader.header,
    );
    expect(notes.map((n) => n.body)).toEqual(['Chargeback CB-1']);
  });

  it('trims the reason, and records no reason or note when it is blank', async () => {
    const customer = await createCustomer(t);
    const trimmed = await place(customer.id, { reason_code: 'other', reason: '  Unpaid INV-3  ' });
    expect(trimmed.reason).toBe('Unpaid INV-3');
    const blank = await place(customer.id, { reason_code: 'other', reason: '   ' });
    expect(blank.reason).toBeNull();
    const notes = await allPages<{ body: string }>(
      t,
      `/api/v1/customers/${customer.id}/notes`,
      reader.header,
    );
    expect(notes.map((n) => n.body)).toEqual(['Unpaid INV-3']);
  });

  it('takes times with an offset as the same instant and answers them in UTC', async () => {
    const customer = await createCustomer(t);
    const starts = new Date(Math.ceil((Date.now() + 2 * DAY_MS) / 1000) * 1000);
    const local = (ms: number) => {
      // The same instant written at +02:00.
      const shifted = new Date(ms + 2 * 3_600_000).toISOString().replace('Z', '+02:00');
      return shifted;
    };
    const hold = await place(customer.id, {
      reason_code: 'other',
      starts_at: local(starts.getTime()),
      ends_at: local(starts.getTime() + DAY_MS),
    });
    expect(hold).toMatchObject({
      starts_at: starts.toISOString(),
      ends_at: iso(starts.getTime() + DAY_MS),
      state: 'scheduled',
    });
  });

  describe('disable and enable on top of holds', () => {
    it('disable places a manual hold starting now with reason_code other by default, and answers the customer', async () => {
      const customer = await createCustomer(t);
      const response = await disableCustomer(t, customer.id, support.header, {
        reason: 'Asked to pause',
      }).expect(200);
      expect(response.body).toMatchObject({ id: customer.id, status: 'disabled' });
      const [hold, ...others] = await holdsOf(customer.id);
      expect(others).toEqual([]);
      expect(hold).toMatchObject({
        source: 'manual',
        reason_code: 'other',
        reason: 'Asked to pause',
        state: 'active',
        pause_billing: true,
        starts_at: response.body.disabled_at,
      });
      expect(response.body.holds).toEqual([
        {
          id: hold.id,
          source: 'manual',
          reason_code: 'other',
          starts_at: hold.starts_at,
          ends_at: null,
        },
      ]);
    });

    it('disable with reason_code and ends_at places that hold', async () => {
      const customer = await createCustomer(t);
      const ends = iso(Date.now() + 14 * DAY_MS);
      await disableCustomer(t, customer.id, support.header, {
        reason_code: 'customer_request',
        ends_at: ends,
        pause_billing: false,
      }).expect(200);
      expect(await holdsOf(customer.id)).toEqual([
        expect.objectContaining({
          reason_code: 'customer_request',
          ends_at: ends,
          pause_billing: false,
        }),
      ]);
    });

    it('disable is a no-op (200, nothing placed or recorded) when an active manual hold exists', async () => {
      const customer = await createCustomer(t);
      await place(customer.id, { reason_code: 'compliance', reason: 'First' });
      const before = await snapshot(t, customer.id);
      const shown = await getCustomer(t, customer.id, reader.header);
      const response = await disableCustomer(t, customer.id, support.header, {
        reason: 'Second',
        reason_code: 'dispute',
        pause_billing: false,
      }).expect(200);
      expect(response.body).toEqual(shown);
      expect(await snapshot(t, customer.id)).toEqual(before);
    });

    it('disable places a manual hold beside an overdue one, without a second status transition', async () => {
      const customer = await createCustomer(t);
      const overdue = await insertOverdueHold(t, customer.id);
      const response = await disableCustomer(t, customer.id, support.header, {
        reason: 'Also a dispute',
      }).expect(200);
      expect(response.body.status).toBe('disabled');
      const holds = await holdsOf(customer.id, 'active');
      expect(holds.map((h) => h.source).sort()).toEqual(['manual', 'overdue']);
      expect(holds.find((h) => h.source === 'overdue')!.id).toBe(overdue);
      const entries = await audit(customer.id);
      expect(entries.map((e) => e.action)).toEqual(['hold.placed']);
    });

    it('disable places a hold starting now when the only manual hold is scheduled', async () => {
      const customer = await createCustomer(t);
      const later = await place(customer.id, {
        reason_code: 'customer_request',
        starts_at: iso(Date.now() + DAY_MS),
      });
      const response = await disableCustomer(t, customer.id, support.header, {}).expect(200);
      expect(response.body.status).toBe('disabled');
      const holds = await holdsOf(customer.id);
      expect(holds.map((h) => [h.id === later.id ? 'later' : 'new', h.state])).toEqual([
        ['new', 'active'],
        ['later', 'scheduled'],
      ]);
    });

    it('enable lifts every active and scheduled hold, whatever its source, with one transition', async () => {
      const customer = await createCustomer(t);
      const active = await place(customer.id, { reason_code: 'dispute' });
      const scheduled = await place(customer.id, {
        reason_code: 'customer_request',
        starts_at: iso(Date.now() + 7 * DAY_MS),
      });
      const overdue = await insertOverdueHold(t, customer.id);
      expect(scheduled.state).toBe('scheduled');

      const response = await enableCustomer(t, customer.id, support.header, {
        reason: 'Settled',
      }).expect(200);
      expect(response.body).toMatchObject({
        status: 'enabled',
        holds: [],
        disabled_at: null,
        disabled_reason: null,
        billing_paused: false,
      });
      const holds = await holdsOf(customer.id);
      expect(holds.map((h) => [h.id, h.state]).sort()).toEqual(
        [
          [active.id, 'lifted'],
          [scheduled.id, 'lifted'],
          [overdue, 'lifted'],
        ].sort(),
      );
      for (const hold of holds) {
        expect(hold).toMatchObject({
          lifted_by: { type: 'user', id: support.user.id },
          lift_reason: 'Settled',
        });
      }
      const entries = await audit(customer.id);
      const after = entries.slice(entries.findIndex((e) => e.action === 'hold.lifted'));
      expect(
        after
          .filter((e) => e.action === 'hold.lifted')
          .map((e) => e.hold_id)
          .sort(),
      ).toEqual([active.id, scheduled.id, overdue].sort());
      expect(after.filter((e) => TRANSITIONS.includes(e.action)).map((e) => e.action)).toEqual([
        'customer.enabled',
      ]);
      expect(await getLimits(t, customer.id, platform.header)).toMatchObject({
        status: 'enabled',
        holds: [],
      });
    });

    it('enable of an enabled customer with no holds answers 200 and changes nothing', async () => {
      const customer = await createCustomer(t);
      const before = await snapshot(t, customer.id);
      await enableCustomer(t, customer.id, support.header).expect(200);
      expect(await snapshot(t, customer.id)).toEqual(before);
    });
  });

  it('a scheduled hold lifted before it starts is lifted and never disables the customer', async () => {
    const { customer } = await customerWithSubscription();
    const startsAt = Date.now() + 1_500;
    const hold = await place(customer.id, {
      reason_code: 'customer_request',
      starts_at: iso(startsAt),
    });
    expect(hold.state).toBe('scheduled');
    let view = await getCustomer(t, customer.id, reader.header);
    expect(view.status).toBe('enabled');
    expect(view.holds).toEqual([
      {
        id: hold.id,
        source: 'manual',
        reason_code: 'customer_request',
        starts_at: iso(startsAt),
        ends_at: null,
      },
    ]);
    expect(await getLimits(t, customer.id, platform.header)).toMatchObject({ holds: [] });

    const lifted = await lift(hold.id, { reason: 'Changed their mind' });
    expect(lifted.state).toBe('lifted');
    // Past the instant it would have started, and a scheduler pass or two beyond.
    await sleep(startsAt + 1_000 - Date.now());
    view = await getCustomer(t, customer.id, reader.header);
    expect(view).toMatchObject({ status: 'enabled', holds: [], disabled_at: null });
    expect(await getLimits(t, customer.id, platform.header)).toMatchObject({
      status: 'enabled',
      holds: [],
    });
    expect((await holdsOf(customer.id))[0].state).toBe('lifted');
    expect((await audit(customer.id)).map((e) => e.action)).toEqual(['hold.placed', 'hold.lifted']);
  });

  it('refuses the customer’s own key and subscription changes from a scheduled start, without a request, and allows them after its end', async () => {
    const { customer } = await customerWithSubscription();
    const own = await createApiKey(t, customer.id);
    const plan = await createPlan(t, { userCount: 1 });
    const startsAt = Date.now() + 1_200;
    const endsAt = startsAt + 1_200;
    await place(customer.id, {
      reason_code: 'customer_request',
      starts_at: iso(startsAt),
      ends_at: iso(endsAt),
    });
    const ownRead = () => request(t.http).get(`/api/v1/customers/${customer.id}`).set(own.header);
    await ownRead().expect(200);

    const refusedAt = await eventually(
      async () => {
        const response = await ownRead();
        return response.status === 403 && response.body.code === 'customer_disabled'
          ? Date.now()
          : undefined;
      },
      5_000,
      'the customer key is refused',
    );
    expect(refusedAt).toBeGreaterThanOrEqual(startsAt);
    expect(refusedAt - startsAt).toBeLessThan(1_000);
    const subscribe = await request(t.http)
      .post(`/api/v1/customers/${customer.id}/subscriptions`)
      .set(platform.header)
      .send({ plan_code: plan.code });
    expect({ status: subscribe.status, code: subscribe.body.code }).toEqual({
      status: 403,
      code: 'customer_disabled',
    });

    const allowedAt = await eventually(
      async () => ((await ownRead()).status === 200 ? Date.now() : undefined),
      5_000,
      'the customer key is accepted again',
    );
    expect(allowedAt).toBeGreaterThanOrEqual(endsAt);
    expect(allowedAt - endsAt).toBeLessThan(1_000);
    await request(t.http)
      .post(`/api/v1/customers/${customer.id}/subscriptions`)
      .set(platform.header)
      .send({ plan_code: plan.code })
      .expect(201);
  });

  it('lists the customer under status=disabled from a scheduled start until its end, without a request', async () => {
    const customer = await createCustomer(t);
    const startsAt = Date.now() + 800;
    const endsAt = startsAt + 800;
    await place(customer.id, {
      reason_code: 'other',
      starts_at: iso(startsAt),
      ends_at: iso(endsAt),
    });
    const listed = async (status: string) =>
      (
        await allPages<{ id: string }>(
          t,
          `/api/v1/customers?status=${status}&email=${encodeURIComponent(customer.email)}`,
          reader.header,
        )
      ).some((c) => c.id === customer.id);
    expect(await listed('enabled')).toBe(true);
    const disabledAt = await eventually(
      async () => ((await listed('disabled')) ? Date.now() : undefined),
      3_000,
      'listed as disabled',
    );
    expect(disabledAt).toBeGreaterThanOrEqual(startsAt);
    expect(disabledAt - startsAt).toBeLessThan(1_000);
    const enabledAt = await eventually(
      async () => ((await listed('enabled')) ? Date.now() : undefined),
      3_000,
      'listed as enabled again',
    );
    expect(enabledAt).toBeGreaterThanOrEqual(endsAt);
    expect(enabledAt - endsAt).toBeLessThan(1_000);
  });

  it('keeps one disabled stretch across overlapping holds: no transition when the first expires', async () => {
    const customer = await createCustomer(t);
    const first = await place(customer.id, {
      reason_code: 'dispute',
      reason: 'First',
      ends_at: iso(Date.now() + 1_000),
    });
    const second = await place(customer.id, { reason_code: 'security', reason: 'Second' });
    await eventually(
      async () =>
        (await audit(customer.id)).some((e) => e.action === 'hold.expired') ? true : undefined,
      5_000,
      'the first hold’s expiry is recorded',
    );
    const view = await getCustomer(t, customer.id, reader.header);
    expect(view).toMatchObject({
      status: 'disabled',
      disabled_at: first.starts_at,
      disabled_reason: 'Second',
    });
    expect(view.holds.map((h) => h.id)).toEqual([second.id]);
    expect(actions(await audit(customer.id))).toEqual([
      ['hold.placed', first.id],
      ['customer.disabled', first.id],
      ['hold.placed', second.id],
      ['hold.expired', first.id],
    ]);
  });

  it('back-to-back holds keep the customer disabled across the seam; a 1 ms gap is two transitions at their instants', async () => {
    const seam = Date.now() + 1_200;
    const end = seam + 600;
    const run = async (gapMs: number) => {
      const { customer } = await customerWithSubscription();
      const first = await place(customer.id, { reason_code: 'dispute', ends_at: iso(seam) });
      const second = await place(customer.id, {
        reason_code: 'security',
        starts_at: iso(seam + gapMs),
        ends_at: iso(end),
      });
      // Both lanes, polled across the seam: never enabled before the end when there is no gap.
      const seen: { sent: number; arrived: number; status: string }[] = [];
      while (Date.now() < end + 300) {
        for (const headers of [platform.header, reader.header]) {
          const sent = Date.now();
          const { status } = await getLimits(t, customer.id, headers);
          seen.push({ sent, arrived: Date.now(), status });
        }
        await sleep(10);
      }
      return { customer, first, second, seen };
    };
    const [tight, gapped] = await Promise.all([run(0), run(1)]);

    // Answered before the end: disabled; asked after it: enabled.
    const wrong = tight.seen.filter(
      (x) =>
        (x.status === 'enabled' && x.arrived < end) || (x.status !== 'enabled' && x.sent >= end),
    );
    expect(wrong).toEqual([]);
    // The seam was polled: answers on both sides of it.
    expect(tight.seen.some((x) => x.arrived < seam)).toBe(true);
    expect(tight.seen.some((x) => x.sent > seam && x.arrived < end)).toBe(true);
    expect(
      (await audit(tight.customer.id)).map((e) => [
        e.action,
        e.hold_id,
        e.actor.type,
        e.effective_at,
      ]),
    ).toEqual([
      ['hold.placed', tight.first.id, 'user', tight.first.placed_at],
      ['customer.disabled', tight.first.id, 'user', tight.first.starts_at],
      ['hold.placed', tight.second.id, 'user', tight.second.placed_at],
      ['hold.expired', tight.first.id, 'system', iso(seam)],
      ['hold.expired', tight.second.id, 'system', iso(end)],
      ['customer.enabled', tight.second.id, 'system', iso(end)],
    ]);

    expect(
      (await audit(gapped.customer.id))
        .filter((e) => TRANSITIONS.includes(e.action))
        .map((e) => [e.action, e.actor.type, e.effective_at]),
    ).toEqual([
      ['customer.disabled', 'user', gapped.first.starts_at],
      ['customer.enabled', 'system', iso(seam)],
      ['customer.disabled', 'system', iso(seam + 1)],
      ['customer.enabled', 'system', iso(end)],
    ]);
  });

  it('pauses billing while an active hold says so, and only while it is active', async () => {
    const developer = await signIn(t, 'developer');
    const plan = await createPlan(t, { amount: 1200 });
    // A monthly period that began 40 days ago: due at the next billing run.
    const start = new Date(Date.now() - 40 * DAY_MS);
    const ended = { start, end: new Date(start.getTime() + 30 * DAY_MS) };
    const make = async () => {
      const customer = await createCustomer(t);
      await createSubscription(t, customer.id, plan.id, ended);
      return customer.id;
    };
    const [keepsBilling, paused, scheduled, mixed] = await Promise.all([
      make(),
      make(),
      make(),
      make(),
    ]);
    await place(keepsBilling, { reason_code: 'dispute', pause_billing: false });
    const pausing = await place(paused, { reason_code: 'non_payment', pause_billing: true });
    await place(scheduled, {
      reason_code: 'customer_request',
      pause_billing: true,
      starts_at: iso(Date.now() + 7 * DAY_MS),
    });
    await place(mixed, { reason_code: 'dispute', pause_billing: false });
    await place(mixed, { reason_code: 'compliance', pause_billing: true });
    const paused_ = async (id: string) => (await getCustomer(t, id, reader.header)).billing_paused;
    expect(
      await Promise.all([keepsBilling, paused, scheduled, mixed].map((id) => paused_(id))),
    ).toEqual([false, true, false, true]);

    const invoiced = async (id: string) =>
      (await allPages<object>(t, `/api/v1/customers/${id}/invoices`, reader.header)).length;
    await request(t.http).post('/api/v1/billing/runs').set(developer.header).send().expect(201);
    expect(
      await Promise.all([keepsBilling, paused, scheduled, mixed].map((id) => invoiced(id))),
    ).toEqual([1, 0, 1, 0]);

    await lift(pausing.id);
    expect(await paused_(paused)).toBe(false);
    await request(t.http).post('/api/v1/billing/runs').set(developer.header).send().expect(201);
    expect(await invoiced(paused)).toBe(1);
  });

  describe('the limits answer explains itself', () => {
    it('lists the active holds with since and until, and as_of, and [] once enabled', async () => {
      const { customer } = await customerWithSubscription();
      const until = iso(Date.now() + 14 * DAY_MS);
      const hold = await place(customer.id, { reason_code: 'security', ends_at: until });
      // A scheduled one is not active: not in the answer.
      await place(customer.id, { reason_code: 'other', starts_at: iso(Date.now() + DAY_MS) });
      const own = await createApiKey(t, customer.id);
      for (const headers of [platform.header, reader.header, own.header]) {
        const asked = Date.now();
        const limits = await getLimits(t, customer.id, headers);
        expect(limits).toEqual({
          customer_id: customer.id,
          status: 'disabled',
          disabled: true,
          holds: [
            {
              id: hold.id,
              source: 'manual',
              reason_code: 'security',
              since: hold.starts_at,
              until,
            },
          ],
          user_count: 0,
          features: [],
          limits: {},
          as_of: expect.any(String),
        });
        // The time the answer was computed: not after it arrived (a cached answer may be older).
        expect(Date.parse(limits.as_of)).toBeLessThanOrEqual(Date.now());
        expect(Date.parse(limits.as_of)).toBeGreaterThanOrEqual(Date.parse(hold.placed_at));
        expect(asked).toBeGreaterThan(0);
      }
      await enableCustomer(t, customer.id, support.header).expect(200);
      const limits = await getLimits(t, customer.id, platform.header);
      expect(limits).toMatchObject({ status: 'enabled', disabled: false, holds: [] });
      expect(Date.parse(limits.as_of)).toBeGreaterThan(Date.parse(hold.placed_at));
    });

    it('answers enabled with holds [] for a customer with no subscription', async () => {
      const customer = await createCustomer(t);
      const limits = await getLimits(t, customer.id, platform.header);
      expect(limits).toEqual({
        customer_id: customer.id,
        status: 'enabled',
        disabled: false,
        holds: [],
        user_count: 0,
        features: [],
        limits: {},
        as_of: expect.any(String),
      });
    });
  });

  describe('review dates', () => {
    it('defaults review_at to placed_at + 30 days, and keeps one given', async () => {
      const customer = await createCustomer(t);
      const hold = await place(customer.id, { reason_code: 'other' });
      expect(Date.parse(hold.review_at!) - Date.parse(hold.placed_at)).toBe(30 * DAY_MS);
      const given = iso(Date.now() + 3 * DAY_MS);
      const other = await place(customer.id, { reason_code: 'dispute', review_at: given });
      expect(other.review_at).toBe(given);
    });

    it('lists due holds and customers, and a review postpones the next one and is recorded', async () => {
      const due = await createCustomer(t);
      const notDue = await createCustomer(t);
      const dueHold = await place(due.id, { reason_code: 'compliance', reason: 'AML check' });
      const laterHold = await place(notDue.id, { reason_code: 'compliance' });
      // The contract has no way to place a hold already due: move its date back as the owner.
      await t.asOwner(`UPDATE holds SET review_at = now() - interval '1 hour' WHERE id = $1`, [
        dueHold.id,
      ]);

      const dueHolds = async () =>
        (await allPages<HoldBody>(t, '/api/v1/holds?review_due=true', reader.header)).map(
          (h) => h.id,
        );
      const dueCustomers = async () =>
        (await allPages<{ id: string }>(t, '/api/v1/customers?review_due=true', reader.header)).map(
          (c) => c.id,
        );
      expect(await dueHolds()).toContain(dueHold.id);
      expect(await dueHolds()).not.toContain(laterHold.id);
      expect(await dueCustomers()).toContain(due.id);
      expect(await dueCustomers()).not.toContain(notDue.id);
      // The platform key may read the queue too.
      await request(t.http).get('/api/v1/holds?review_due=true').set(platform.header).expect(200);

      const next = iso(Date.now() + 10 * DAY_MS);
      const reviewed = await reviewHold(t, dueHold.id, support.header, {
        review_at: next,
        note: 'Still waiting for documents',
      }).expect(200);
      expect(reviewed.body).toMatchObject({ id: dueHold.id, review_at: next, state: 'active' });
      expect(await dueHolds()).not.toContain(dueHold.id);
      expect(await dueCustomers()).not.toContain(due.id);

      const entries = await audit(due.id);
      expect(entries.map((e) => e.action)).toEqual([
        'hold.placed',
        'customer.disabled',
        'hold.reviewed',
      ]);
      expect(entries[2]).toMatchObject({
        hold_id: dueHold.id,
        actor: { type: 'user', id: support.user.id },
      });
      // Reviewing changes no status.
      expect((await getCustomer(t, due.id, reader.header)).status).toBe('disabled');
    });

    it('an enabled customer is never due, though a scheduled hold’s review date passed', async () => {
      const customer = await createCustomer(t);
      const hold = await place(customer.id, {
        reason_code: 'other',
        starts_at: iso(Date.now() + DAY_MS),
      });
      await t.asOwner(`UPDATE holds SET review_at = now() - interval '1 hour' WHERE id = $1`, [
        hold.id,
      ]);
      const customers = await allPages<{ id: string }>(
        t,
        '/api/v1/customers?review_due=true',
        reader.header,
      );
      expect(customers.map((c) => c.id)).not.toContain(customer.id);
    });

    it('a lifted hold is never due', async () => {
      const customer = await createCustomer(t);
      const hold = await place(customer.id, { reason_code: 'other' });
      await t.asOwner(`UPDATE holds SET review_at = now() - interval '1 hour' WHERE id = $1`, [
        hold.id,
      ]);
      await lift(hold.id);
      const due = await allPages<HoldBody>(t, '/api/v1/holds?review_due=true', reader.header);
      expect(due.map((h) => h.id)).not.toContain(hold.id);
      const customers = await allPages<{ id: string }>(
        t,
        '/api/v1/customers?review_due=true',
        reader.header,
      );
      expect(customers.map((c) => c.id)).not.toContain(customer.id);
    });
  });

  describe('hold lists', () => {
    it('lists a customer’s holds newest first, filtered by state', async () => {
      const customer = await createCustomer(t);
      const a = await place(customer.id, { reason_code: 'other' });
      const b = await place(customer.id, {
        reason_code: 'dispute',
        starts_at: iso(Date.now() + DAY_MS),
      });
      const c = await place(customer.id, { reason_code: 'security' });
      await lift(c.id);
      expect((await holdsOf(customer.id)).map((h) => h.id)).toEqual([c.id, b.id, a.id]);
      expect((await holdsOf(customer.id, 'active')).map((h) => h.id)).toEqual([a.id]);
      expect((await holdsOf(customer.id, 'scheduled')).map((h) => h.id)).toEqual([b.id]);
      expect((await holdsOf(customer.id, 'lifted')).map((h) => h.id)).toEqual([c.id]);

      // Walked two at a time, the pages hold each hold once, in the same order.
      const walked: string[] = [];
      let cursor: string | null = null;
      do {
        const page = await request(t.http)
          .get(
            `/api/v1/customers/${customer.id}/holds?limit=2` +
              (cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''),
          )
          .set(reader.header)
          .expect(200);
        walked.push(...(page.body.data as HoldBody[]).map((h) => h.id));
        cursor = page.body.next_cursor as string | null;
      } while (cursor);
      expect(walked).toEqual([c.id, b.id, a.id]);

      const all = await allPages<HoldBody>(
        t,
        '/api/v1/holds?state=scheduled&reason_code=dispute&source=manual',
        reader.header,
      );
      expect(all.map((h) => h.id)).toContain(b.id);
      expect(all.every((h) => h.state === 'scheduled' && h.reason_code === 'dispute')).toBe(true);
    });
  });
});
