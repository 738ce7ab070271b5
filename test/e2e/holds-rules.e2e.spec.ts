import request from 'supertest';
import { createApiKey, TestApiKey } from '../support/api-keys';
import { createCustomer, signIn, StaffSession } from '../support/factories';
import {
  auditOf,
  eventually,
  HoldBody,
  Headers,
  insertOverdueHold,
  iso,
  liftHold,
  MALFORMED_ID,
  placeHold,
  reviewHold,
  snapshot,
  UNKNOWN_ID,
} from '../support/holds';
import { startTestApp, TestApp } from '../support/test-app';

/**
 * Issue 9, "Bad input": every rule of the holds contract (../shared/API.md, "Holds") has a test,
 * and every refusal changes nothing: the counts of holds, audit entries and notes, the customer's
 * holds and its own row are the same before and after.
 */
describe('holds: refused input changes nothing', () => {
  let t: TestApp;
  let support: StaffSession;
  let manager: StaffSession;
  let reader: StaffSession;
  let platform: TestApiKey;

  beforeAll(async () => {
    t = await startTestApp();
    [support, manager, reader] = await Promise.all([
      signIn(t, 'customer_support'),
      signIn(t, 'account_manager'),
      signIn(t, 'user'),
    ]);
    platform = await createApiKey(t);
  });
  afterAll(() => t.close());

  /** Runs `act`, which must be refused, and proves that nothing moved. */
  async function refusedWithoutChange(
    customerId: string,
    act: () => Promise<request.Response>,
    expected: { status: number; code: unknown; fields?: string[] },
  ): Promise<request.Response> {
    const before = await snapshot(t, customerId);
    const response = await act();
    expect({ status: response.status, code: response.body.code }).toEqual({
      status: expected.status,
      code: expected.code,
    });
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    if (expected.fields) {
      const named = (response.body.errors as { field: string }[] | undefined)?.map((e) => e.field);
      expect(named).toEqual(
        expect.arrayContaining([expect.stringMatching(expected.fields.join('|'))]),
      );
    }
    expect(await snapshot(t, customerId)).toEqual(before);
    return response;
  }

  const place = (customerId: string, body: object, headers: Headers = support.header) =>
    placeHold(t, customerId, headers, body);

  describe('POST /customers/{id}/holds', () => {
    it('refuses a starts_at more than 60 s in the past, and accepts one 30 s in the past', async () => {
      const customer = await createCustomer(t);
      for (const ago of [61_000, 120_000, 86_400_000]) {
        await refusedWithoutChange(
          customer.id,
          () => place(customer.id, { reason_code: 'other', starts_at: iso(Date.now() - ago) }),
          { status: 400, code: 'validation_failed', fields: ['starts_at'] },
        );
      }
      const accepted = await place(customer.id, {
        reason_code: 'other',
        starts_at: iso(Date.now() - 30_000),
      }).expect(201);
      expect((accepted.body as HoldBody).state).toBe('active');
    });

    it('refuses an ends_at before or equal to starts_at', async () => {
      const customer = await createCustomer(t);
      const starts = Date.now() + 3_600_000;
      for (const ends of [starts - 1, starts, starts - 3_600_000]) {
        await refusedWithoutChange(
          customer.id,
          () =>
            place(customer.id, {
              reason_code: 'other',
              starts_at: iso(starts),
              ends_at: iso(ends),
            }),
          { status: 400, code: 'validation_failed', fields: ['ends_at', 'starts_at'] },
        );
      }
    });

    it('refuses an ends_at in the past, even after a starts_at within the last minute', async () => {
      const customer = await createCustomer(t);
      await refusedWithoutChange(
        customer.id,
        () =>
          place(customer.id, {
            reason_code: 'other',
            starts_at: iso(Date.now() - 50_000),
            ends_at: iso(Date.now() - 10_000),
          }),
        { status: 400, code: 'validation_failed', fields: ['ends_at'] },
      );
      await refusedWithoutChange(
        customer.id,
        () => place(customer.id, { reason_code: 'other', ends_at: iso(Date.now() - 1_000) }),
        { status: 400, code: 'validation_failed', fields: ['ends_at'] },
      );
    });

    it('refuses an unknown, missing or non-string reason_code', async () => {
      const customer = await createCustomer(t);
      for (const body of [
        { reason_code: 'vacation' },
        { reason_code: 'NON_PAYMENT' },
        { reason_code: '' },
        { reason_code: 7 },
        { reason_code: null },
        { reason: 'No code at all' },
      ]) {
        await refusedWithoutChange(customer.id, () => place(customer.id, body), {
          status: 400,
          code: 'validation_failed',
          fields: ['reason_code'],
        });
      }
    });

    it('refuses a reason over 1000 characters and accepts one of exactly 1000', async () => {
      const customer = await createCustomer(t);
      await refusedWithoutChange(
        customer.id,
        () => place(customer.id, { reason_code: 'dispute', reason: 'r'.repeat(1001) }),
        { status: 400, code: 'validation_failed', fields: ['reason'] },
      );
      const accepted = await place(customer.id, {
        reason_code: 'dispute',
        reason: 'r'.repeat(1000),
      }).expect(201);
      expect((accepted.body as HoldBody).reason).toHaveLength(1000);
    });

    it('refuses malformed dates and wrongly typed fields', async () => {
      const customer = await createCustomer(t);
      const cases: [object, string][] = [
        [{ reason_code: 'other', starts_at: 'tomorrow' }, 'starts_at'],
        [{ reason_code: 'other', starts_at: '2026-13-45T00:00:00Z' }, 'starts_at'],
        [{ reason_code: 'other', starts_at: '' }, 'starts_at'],
        [{ reason_code: 'other', starts_at: 1_900_000_000_000 }, 'starts_at'],
        [{ reason_code: 'other', ends_at: 'next week' }, 'ends_at'],
        [{ reason_code: 'other', ends_at: '2099-02-30T00:00:00Z' }, 'ends_at'],
        [{ reason_code: 'other', review_at: 'soon' }, 'review_at'],
        [{ reason_code: 'other', pause_billing: 'yes' }, 'pause_billing'],
        [{ reason_code: 'other', notify_customer: 'no' }, 'notify_customer'],
        [{ reason_code: 'other', reason: 42 }, 'reason'],
      ];
      for (const [body, field] of cases) {
        await refusedWithoutChange(customer.id, () => place(customer.id, body), {
          status: 400,
          code: 'validation_failed',
          fields: [field],
        });
      }
    });

    it('refuses unknown fields, among them those only the service sets', async () => {
      const customer = await createCustomer(t);
      for (const body of [
        { reason_code: 'other', colour: 'red' },
        { reason_code: 'other', source: 'overdue' },
        { reason_code: 'other', state: 'lifted' },
        { reason_code: 'other', placed_by: { type: 'system' } },
        { reason_code: 'other', customer_id: UNKNOWN_ID },
      ]) {
        await refusedWithoutChange(customer.id, () => place(customer.id, body), {
          status: 400,
          code: 'validation_failed',
          fields: [Object.keys(body)[1]],
        });
      }
    });

    it('refuses a read-only user and a customer’s own key (403), whoever the customer is', async () => {
      const customer = await createCustomer(t);
      const own = await createApiKey(t, customer.id);
      await refusedWithoutChange(
        customer.id,
        () => place(customer.id, { reason_code: 'other' }, reader.header),
        { status: 403, code: 'forbidden' },
      );
      await refusedWithoutChange(
        customer.id,
        () => place(customer.id, { reason_code: 'other' }, own.header),
        { status: 403, code: 'forbidden' },
      );
      // The platform key may.
      await place(customer.id, { reason_code: 'other' }, platform.header).expect(201);
    });
  });

  describe('POST /holds/{id}/lift', () => {
    it('answers 409 hold_not_active for a hold already lifted', async () => {
      const customer = await createCustomer(t);
      const hold = (await place(customer.id, { reason_code: 'other' }).expect(201))
        .body as HoldBody;
      await liftHold(t, hold.id, support.header).expect(200);
      await refusedWithoutChange(customer.id, () => liftHold(t, hold.id, support.header), {
        status: 409,
        code: 'hold_not_active',
      });
      await refusedWithoutChange(customer.id, () => liftHold(t, hold.id, platform.header), {
        status: 409,
        code: 'hold_not_active',
      });
    });

    it('answers 409 hold_not_active for a hold past its ends_at', async () => {
      const customer = await createCustomer(t);
      const hold = (
        await place(customer.id, { reason_code: 'other', ends_at: iso(Date.now() + 800) }).expect(
          201,
        )
      ).body as HoldBody;
      await eventually(
        async () => {
          const response = await request(t.http)
            .get(`/api/v1/customers/${customer.id}/holds`)
            .set(reader.header)
            .expect(200);
          const seen = (response.body.data as HoldBody[]).find((h) => h.id === hold.id);
          return seen?.state === 'expired' ? seen : undefined;
        },
        5_000,
        'the hold is expired',
      );
      // Let the scheduler record the expiry first: the refusal must change nothing after it.
      await eventually(
        async () =>
          (await auditOf(t, customer.id, reader.header)).some(
            (e) => e.action === 'customer.enabled',
          )
            ? true
            : undefined,
        5_000,
        'the expiry is recorded',
      );
      await refusedWithoutChange(customer.id, () => liftHold(t, hold.id, support.header), {
        status: 409,
        code: 'hold_not_active',
      });
    });

    it('refuses customer_support lifting an overdue hold (403 naming account_manager); an account_manager may', async () => {
      const customer = await createCustomer(t);
      const holdId = await insertOverdueHold(t, customer.id);
      const refused = await refusedWithoutChange(
        customer.id,
        () => liftHold(t, holdId, support.header, { reason: 'Paid by phone' }),
        { status: 403, code: 'forbidden' },
      );
      expect(refused.body.detail).toMatch(/account_manager/);

      const lifted = await liftHold(t, holdId, manager.header, { reason: 'Paid by phone' }).expect(
        200,
      );
      expect(lifted.body).toMatchObject({
        id: holdId,
        source: 'overdue',
        state: 'lifted',
        lift_reason: 'Paid by phone',
        lifted_by: { type: 'user', id: manager.user.id },
      });
    });

    it('refuses a read-only user (403) and a reason over 1000 characters (400)', async () => {
      const customer = await createCustomer(t);
      const hold = (await place(customer.id, { reason_code: 'other' }).expect(201))
        .body as HoldBody;
      await refusedWithoutChange(customer.id, () => liftHold(t, hold.id, reader.header), {
        status: 403,
        code: 'forbidden',
      });
      await refusedWithoutChange(
        customer.id,
        () => liftHold(t, hold.id, support.header, { reason: 'x'.repeat(1001) }),
        { status: 400, code: 'validation_failed', fields: ['reason'] },
      );
      await refusedWithoutChange(
        customer.id,
        () => liftHold(t, hold.id, support.header, { reason: 'ok', state: 'lifted' }),
        { status: 400, code: 'validation_failed', fields: ['state'] },
      );
    });
  });

  describe('POST /holds/{id}/review', () => {
    it('refuses a missing or malformed review_at, unknown fields and a read-only user', async () => {
      const customer = await createCustomer(t);
      const hold = (await place(customer.id, { reason_code: 'other' }).expect(201))
        .body as HoldBody;
      const future = iso(Date.now() + 7 * 86_400_000);
      for (const [body, field] of [
        [{}, 'review_at'],
        [{ review_at: 'next month' }, 'review_at'],
        [{ review_at: future, note: 'n'.repeat(1001) }, 'note'],
        [{ review_at: future, colour: 'red' }, 'colour'],
      ] as [object, string][]) {
        await refusedWithoutChange(
          customer.id,
          () => reviewHold(t, hold.id, support.header, body),
          {
            status: 400,
            code: 'validation_failed',
            fields: [field],
          },
        );
      }
      await refusedWithoutChange(
        customer.id,
        () => reviewHold(t, hold.id, reader.header, { review_at: future }),
        { status: 403, code: 'forbidden' },
      );
    });
  });

  it('refuses reviewing a lifted hold (409 hold_not_active)', async () => {
    const customer = await createCustomer(t);
    const hold = (await place(customer.id, { reason_code: 'other' }).expect(201)).body as HoldBody;
    await liftHold(t, hold.id, support.header).expect(200);
    await refusedWithoutChange(
      customer.id,
      () => reviewHold(t, hold.id, support.header, { review_at: iso(Date.now() + 86_400_000) }),
      { status: 409, code: 'hold_not_active' },
    );
  });

  it('lets the platform key lift an overdue hold', async () => {
    const customer = await createCustomer(t);
    const holdId = await insertOverdueHold(t, customer.id);
    const lifted = await liftHold(t, holdId, platform.header).expect(200);
    expect(lifted.body).toMatchObject({
      state: 'lifted',
      lifted_by: { type: 'api_key', id: platform.id },
    });
  });

  describe('POST /customers/{id}/disable with hold fields', () => {
    it('refuses an unknown reason_code and an ends_at in the past', async () => {
      const customer = await createCustomer(t);
      for (const [body, field] of [
        [{ reason_code: 'vacation' }, 'reason_code'],
        [{ ends_at: iso(Date.now() - 1000) }, 'ends_at'],
        [{ ends_at: 'later' }, 'ends_at'],
      ] as [object, string][]) {
        await refusedWithoutChange(
          customer.id,
          () =>
            request(t.http)
              .post(`/api/v1/customers/${customer.id}/disable`)
              .set(support.header)
              .send(body),
          { status: 400, code: 'validation_failed', fields: [field] },
        );
      }
    });
  });

  describe('ids on every holds route', () => {
    it('answers 400 validation_failed for a malformed id and 404 not_found for an unknown one', async () => {
      const customer = await createCustomer(t);
      const future = iso(Date.now() + 86_400_000);
      const routes: [string, (id: string) => request.Test][] = [
        [
          'POST /customers/{id}/holds',
          (id) => placeHold(t, id, support.header, { reason_code: 'other' }),
        ],
        [
          'GET /customers/{id}/holds',
          (id) => request(t.http).get(`/api/v1/customers/${id}/holds`).set(reader.header),
        ],
        ['POST /holds/{id}/lift', (id) => liftHold(t, id, support.header)],
        [
          'POST /holds/{id}/review',
          (id) => reviewHold(t, id, support.header, { review_at: future }),
        ],
      ];
      for (const [route, call] of routes) {
        for (const [id, status, code] of [
          [MALFORMED_ID, 400, 'validation_failed'],
          ['6f1c1a52-9a43-4d5b-8a55-1b1d2f0c0c0', 400, 'validation_failed'],
          [UNKNOWN_ID, 404, 'not_found'],
        ] as [string, number, string][]) {
          const response = await refusedWithoutChange(customer.id, () => call(id), {
            status,
            code,
          });
          expect({ route, id, status: response.status }).toEqual({ route, id, status });
        }
      }
    });

    it('refuses a customer’s own key on the hold routes (403), even for its own customer', async () => {
      const customer = await createCustomer(t);
      const own = await createApiKey(t, customer.id);
      const hold = (await place(customer.id, { reason_code: 'other' }).expect(201))
        .body as HoldBody;
      const future = iso(Date.now() + 86_400_000);
      for (const call of [
        () => request(t.http).get(`/api/v1/customers/${customer.id}/holds`).set(own.header),
        () => request(t.http).get('/api/v1/holds').set(own.header),
        () => liftHold(t, hold.id, own.header),
        () => reviewHold(t, hold.id, own.header, { review_at: future }),
      ]) {
        await refusedWithoutChange(customer.id, call, {
          status: 403,
          code: expect.stringMatching(/^(forbidden|customer_disabled)$/),
        });
      }
    });

    it('takes an upper-case id as the same hold', async () => {
      const customer = await createCustomer(t);
      const hold = (await place(customer.id, { reason_code: 'other' }).expect(201))
        .body as HoldBody;
      const lifted = await liftHold(t, hold.id.toUpperCase(), support.header).expect(200);
      expect(lifted.body).toMatchObject({ id: hold.id, state: 'lifted' });
    });

    it('refuses malformed filters on the hold lists', async () => {
      const customer = await createCustomer(t);
      for (const path of [
        `/api/v1/customers/${customer.id}/holds?state=gone`,
        '/api/v1/holds?state=gone',
        '/api/v1/holds?source=robot',
        '/api/v1/holds?review_due=maybe',
        '/api/v1/holds?colour=red',
        '/api/v1/customers?review_due=maybe',
        '/api/v1/holds?limit=0',
        '/api/v1/holds?limit=201',
        '/api/v1/holds?cursor=not-a-cursor',
        `/api/v1/customers/${customer.id}/holds?limit=201`,
        `/api/v1/customers/${customer.id}/holds?cursor=not-a-cursor`,
      ]) {
        const response = await request(t.http).get(path).set(reader.header);
        expect({ path, status: response.status, code: response.body.code }).toEqual({
          path,
          status: 400,
          code: 'validation_failed',
        });
      }
    });
  });
});

describe('holds: the configured reason codes, review period and billing default', () => {
  let t: TestApp;
  let support: StaffSession;

  beforeAll(async () => {
    t = await startTestApp({
      HOLD_REASON_CODES: 'fraud,legal_hold,other',
      HOLD_REVIEW_DAYS: '7',
      BILLING_PAUSE_ON_DISABLE: 'false',
    });
    support = await signIn(t, 'customer_support');
  });
  afterAll(() => t.close());

  it('accepts only the configured codes, reviews after the configured days and pauses billing by the configured default', async () => {
    const customer = await createCustomer(t);
    const before = await snapshot(t, customer.id);
    const refused = await placeHold(t, customer.id, support.header, { reason_code: 'dispute' });
    expect({ status: refused.status, code: refused.body.code }).toEqual({
      status: 400,
      code: 'validation_failed',
    });
    expect(await snapshot(t, customer.id)).toEqual(before);

    const placed = await placeHold(t, customer.id, support.header, {
      reason_code: 'legal_hold',
    }).expect(201);
    const hold = placed.body as HoldBody;
    expect(hold).toMatchObject({ reason_code: 'legal_hold', pause_billing: false });
    expect(Date.parse(hold.review_at!) - Date.parse(hold.placed_at)).toBe(7 * 86_400_000);
  });

  it('publishes the configured codes, in their order, to staff and platform keys', async () => {
    const platform = await createApiKey(t);
    const reader = await signIn(t, 'user');
    for (const headers of [reader.header, platform.header]) {
      const answer = await request(t.http)
        .get('/api/v1/hold-reason-codes')
        .set(headers)
        .expect(200);
      expect(answer.body).toEqual({
        reason_codes: ['fraud', 'legal_hold', 'other'],
        customer_emails: false,
      });
    }
  });
});
