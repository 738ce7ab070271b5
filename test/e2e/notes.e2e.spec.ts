import request from 'supertest';
import { AuditLog } from '../../src/audit/entities/audit-log.entity';
import { Note } from '../../src/notes/entities/note.entity';
import { countRows, createCustomer, signIn, StaffSession } from '../support/factories';
import { startTestApp, TestApp } from '../support/test-app';

const UNKNOWN_ID = '6f1c1a52-9a43-4d5b-8a55-1b1d2f0c0c0c';
/** Notes are timed to the millisecond: two in the same one are ordered by id, not by arrival. */
const tick = () => new Promise((resolve) => setTimeout(resolve, 2));

describe('internal notes', () => {
  let t: TestApp;
  let support: StaffSession;
  let reader: StaffSession;

  beforeAll(async () => {
    t = await startTestApp();
    support = await signIn(t, 'customer_support');
    reader = await signIn(t, 'user');
  });
  afterAll(() => t.close());

  const post = (customerId: string, body: object, session = support) =>
    request(t.http).post(`/api/v1/customers/${customerId}/notes`).set(session.header).send(body);
  const get = (customerId: string, query = '') =>
    request(t.http).get(`/api/v1/customers/${customerId}/notes${query}`).set(reader.header);

  describe('POST /customers/{id}/notes', () => {
    it('adds a note by the caller, trimmed, with the contract’s shape', async () => {
      const customer = await createCustomer(t);
      const response = await post(customer.id, { body: '  Asked for a payment plan.  ' }).expect(
        201,
      );
      expect(response.body).toEqual({
        id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        customer_id: customer.id,
        author: { type: 'user', id: support.user.id, name: support.user.name },
        body: 'Asked for a payment plan.',
        audit_log_id: null,
        created_at: expect.any(String),
      });
      expect(
        await t.db.getRepository(Note).findOneByOrFail({ id: response.body.id }),
      ).toMatchObject({
        customerId: customer.id,
        authorType: 'user',
        authorId: support.user.id,
        body: 'Asked for a payment plan.',
        auditLogId: null,
      });
    });

    it('accepts a body of exactly 5000 characters', async () => {
      const customer = await createCustomer(t);
      const response = await post(customer.id, { body: 'n'.repeat(5000) }).expect(201);
      expect(response.body.body).toHaveLength(5000);
    });

    it.each([
      ['no body', {}],
      ['an empty body', { body: '' }],
      ['a blank body', { body: '   ' }],
      ['a body of 5001 characters', { body: 'n'.repeat(5001) }],
      ['a numeric body', { body: 5 }],
      ['an unknown field', { body: 'ok', audit_log_id: UNKNOWN_ID }],
    ])('refuses %s with 400 and adds nothing', async (_case, body) => {
      const customer = await createCustomer(t);
      const before = await countRows(t, ['customer_notes']);
      const response = await post(customer.id, body).expect(400);
      expect(response.body.code).toBe('validation_failed');
      expect(await countRows(t, ['customer_notes'])).toEqual(before);
    });

    it('answers 404 for an unknown customer and 400 for a malformed id, adding nothing', async () => {
      const before = await countRows(t, ['customer_notes']);
      expect((await post(UNKNOWN_ID, { body: 'x' }).expect(404)).body.code).toBe('not_found');
      expect((await post('nope', { body: 'x' }).expect(400)).body.errors).toEqual([
        { field: 'id', message: 'must be a UUID' },
      ]);
      expect(await countRows(t, ['customer_notes'])).toEqual(before);
    });

    it('refuses a read-only user with 403 and adds nothing', async () => {
      const customer = await createCustomer(t);
      const response = await post(customer.id, { body: 'x' }, reader).expect(403);
      expect(response.body.code).toBe('forbidden');
      expect(await t.db.getRepository(Note).countBy({ customerId: customer.id })).toBe(0);
    });
  });

  describe('GET /customers/{id}/notes', () => {
    it('lists the customer’s notes newest first, with disable and enable reasons linked to their audit entries', async () => {
      const customer = await createCustomer(t);
      const other = await createCustomer(t);
      await post(customer.id, { body: 'First call' }).expect(201);
      await tick();
      await request(t.http)
        .post(`/api/v1/customers/${customer.id}/disable`)
        .set(support.header)
        .send({ reason: 'No payment after three reminders' })
        .expect(200);
      await tick();
      await post(other.id, { body: 'Someone else' }).expect(201);
      await request(t.http)
        .post(`/api/v1/customers/${customer.id}/enable`)
        .set(support.header)
        .send({ reason: 'Paid' })
        .expect(200);

      const response = await get(customer.id).expect(200);
      const entries = await t.db
        .getRepository(AuditLog)
        .find({ where: { customerId: customer.id }, order: { createdAt: 'ASC' } });
      expect(
        response.body.data.map((n: { body: string; audit_log_id: string | null }) => [
          n.body,
          n.audit_log_id,
        ]),
      ).toEqual([
        // hold.placed, customer.disabled, hold.lifted, customer.enabled: the disable's reason is
        // the hold's, the enable's the transition's.
        ['Paid', entries[3].id],
        ['No payment after three reminders', entries[0].id],
        ['First call', null],
      ]);
      expect(entries.map((e) => e.action)).toEqual([
        'hold.placed',
        'customer.disabled',
        'hold.lifted',
        'customer.enabled',
      ]);
      expect(response.body.data[0].author).toEqual({
        type: 'user',
        id: support.user.id,
        name: support.user.name,
      });
      expect(response.body.next_cursor).toBeNull();
    });

    it('walks every note exactly once through keyset pages', async () => {
      const customer = await createCustomer(t);
      for (let i = 0; i < 5; i++) {
        await post(customer.id, { body: `note ${i}` }).expect(201);
        await tick();
      }
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const query: string = `?limit=2${cursor ? `&cursor=${cursor}` : ''}`;
        const response = await get(customer.id, query).expect(200);
        seen.push(...response.body.data.map((n: { body: string }) => n.body));
        cursor = response.body.next_cursor;
      } while (cursor);
      expect(seen).toEqual(['note 4', 'note 3', 'note 2', 'note 1', 'note 0']);
    });

    it('answers 404 for an unknown customer and 400 for a malformed id or cursor', async () => {
      expect((await get(UNKNOWN_ID).expect(404)).body.code).toBe('not_found');
      expect((await get('nope').expect(400)).body.code).toBe('validation_failed');
      const customer = await createCustomer(t);
      expect((await get(customer.id, '?cursor=bad').expect(400)).body.errors).toEqual([
        { field: 'cursor', message: 'is not a valid cursor' },
      ]);
    });
  });
});
