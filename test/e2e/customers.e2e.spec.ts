import request from 'supertest';
import { Customer } from '../../src/customers/entities/customer.entity';
import { countRows, createCustomer, signIn, StaffSession, uniqueEmail } from '../support/factories';
import { startTestApp, TestApp } from '../support/test-app';

describe('customers', () => {
  let t: TestApp;
  let manager: StaffSession;
  let reader: StaffSession;

  beforeAll(async () => {
    t = await startTestApp();
    manager = await signIn(t, 'account_manager');
    reader = await signIn(t, 'user');
  });
  afterAll(() => t.close());

  const customers = () => t.db.getRepository(Customer);

  describe('POST /customers', () => {
    it('creates an enabled customer with the contract’s shape', async () => {
      const email = uniqueEmail('acme');
      const response = await request(t.http)
        .post('/api/v1/customers')
        .set(manager.header)
        .send({
          email: ` ${email.toUpperCase()} `,
          name: 'Acme',
          reference: 'ACME-1',
          external_reference: 'crm-1',
        })
        .expect(201);
      expect(response.body).toEqual({
        id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        email,
        name: 'Acme',
        reference: 'ACME-1',
        external_reference: 'crm-1',
        status: 'enabled',
        disabled_at: null,
        disabled_reason: null,
        billing_paused: false,
        dunning_exempt: false,
        holds: [],
        created_at: expect.any(String),
        updated_at: expect.any(String),
        version: 1,
      });
      expect(await customers().findOneBy({ id: response.body.id })).not.toBeNull();
    });

    it('refuses the same email again, in any case, with 409 customer_exists', async () => {
      const existing = await createCustomer(t);
      const before = await countRows(t, ['customers']);
      const response = await request(t.http)
        .post('/api/v1/customers')
        .set(manager.header)
        .send({ email: existing.email.toUpperCase() })
        .expect(409);
      expect(response.body).toMatchObject({ status: 409, code: 'customer_exists' });
      expect(await countRows(t, ['customers'])).toEqual(before);
    });

    it.each([
      [{}, 'email'],
      [{ email: 'nope' }, 'email'],
      [{ email: 'a@b.io', name: 7 }, 'name'],
      [{ email: 'a@b.io', name: 'x'.repeat(201) }, 'name'],
      [{ email: 'a@b.io', status: 'disabled' }, 'status'],
      [{ email: 'a@b.io', id: '00000000-0000-4000-8000-000000000000' }, 'id'],
    ])('refuses %j with 400 naming %s and changes nothing', async (body, field) => {
      const before = await countRows(t, ['customers']);
      const response = await request(t.http)
        .post('/api/v1/customers')
        .set(manager.header)
        .send(body)
        .expect(400);
      expect(response.body.code).toBe('validation_failed');
      expect(response.body.errors.map((e: { field: string }) => e.field)).toContain(field);
      expect(await countRows(t, ['customers'])).toEqual(before);
    });
  });

  describe('GET /customers/{id}', () => {
    it('answers the customer', async () => {
      const customer = await createCustomer(t);
      const response = await request(t.http)
        .get(`/api/v1/customers/${customer.id}`)
        .set(reader.header)
        .expect(200);
      expect(response.body).toMatchObject({
        id: customer.id,
        email: customer.email,
        status: 'enabled',
      });
    });

    it('answers 400 validation_failed for a malformed id and 404 not_found for an unknown one', async () => {
      const malformed = await request(t.http)
        .get('/api/v1/customers/123')
        .set(reader.header)
        .expect(400);
      expect(malformed.body).toMatchObject({
        code: 'validation_failed',
        errors: [{ field: 'id' }],
      });
      const unknown = await request(t.http)
        .get('/api/v1/customers/6f1c1a52-9a43-4d5b-8a55-1b1d2f0c0c0c')
        .set(reader.header)
        .expect(404);
      expect(unknown.body.code).toBe('not_found');
    });
  });

  describe('PATCH /customers/{id}', () => {
    it('changes the details, bumps the version and clears a field given null', async () => {
      const customer = await createCustomer(t, { reference: 'OLD' });
      const response = await request(t.http)
        .patch(`/api/v1/customers/${customer.id}`)
        .set(manager.header)
        .send({ name: 'New name', reference: null })
        .expect(200);
      expect(response.body).toMatchObject({ name: 'New name', reference: null, version: 2 });
    });

    it('refuses to change the status here and changes nothing', async () => {
      const customer = await createCustomer(t);
      const response = await request(t.http)
        .patch(`/api/v1/customers/${customer.id}`)
        .set(manager.header)
        .send({ status: 'disabled', name: 'Changed' })
        .expect(400);
      expect(response.body.errors).toEqual([{ field: 'status', message: 'is not allowed' }]);
      expect(await customers().findOneByOrFail({ id: customer.id })).toMatchObject({
        status: 'enabled',
        name: customer.name,
        version: 1,
      });
    });

    it('refuses another customer’s email with 409 customer_exists and changes nothing', async () => {
      const [a, b] = [await createCustomer(t), await createCustomer(t)];
      const response = await request(t.http)
        .patch(`/api/v1/customers/${a.id}`)
        .set(manager.header)
        .send({ email: b.email })
        .expect(409);
      expect(response.body.code).toBe('customer_exists');
      expect((await customers().findOneByOrFail({ id: a.id })).email).toBe(a.email);
    });

    it('answers 404 for an unknown customer', async () => {
      await request(t.http)
        .patch('/api/v1/customers/6f1c1a52-9a43-4d5b-8a55-1b1d2f0c0c0c')
        .set(manager.header)
        .send({ name: 'X' })
        .expect(404);
    });
  });

  describe('GET /customers', () => {
    it('filters by status, exact email and free text', async () => {
      const marker = `zebra${Date.now()}`;
      const enabled = await createCustomer(t, { name: `${marker} one` });
      const disabled = await createCustomer(t, {
        name: `${marker} two`,
        status: 'disabled',
        disabledAt: new Date(),
      });
      const byText = await request(t.http)
        .get(`/api/v1/customers?q=${marker}`)
        .set(reader.header)
        .expect(200);
      expect(byText.body.data.map((c: Customer) => c.id).sort()).toEqual(
        [enabled.id, disabled.id].sort(),
      );

      const byStatus = await request(t.http)
        .get(`/api/v1/customers?q=${marker}&status=disabled`)
        .set(reader.header)
        .expect(200);
      expect(byStatus.body.data.map((c: Customer) => c.id)).toEqual([disabled.id]);

      const byEmail = await request(t.http)
        .get(`/api/v1/customers?email=${encodeURIComponent(enabled.email.toUpperCase())}`)
        .set(reader.header)
        .expect(200);
      expect(byEmail.body.data.map((c: Customer) => c.id)).toEqual([enabled.id]);
    });

    it('treats % and _ in the search text literally', async () => {
      const response = await request(t.http)
        .get('/api/v1/customers?q=%25%25%25')
        .set(reader.header)
        .expect(200);
      expect(response.body.data).toEqual([]);
    });

    it('walks every customer exactly once through keyset pages, newest first', async () => {
      const marker = `page${Date.now()}`;
      const made: Customer[] = [];
      for (let i = 0; i < 7; i++) made.push(await createCustomer(t, { name: `${marker} ${i}` }));
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const query: string = `/api/v1/customers?q=${marker}&limit=3${cursor ? `&cursor=${cursor}` : ''}`;
        const response = await request(t.http).get(query).set(reader.header).expect(200);
        expect(response.body.data.length).toBeLessThanOrEqual(3);
        seen.push(...response.body.data.map((c: Customer) => c.id));
        cursor = response.body.next_cursor;
      } while (cursor);
      expect(seen).toEqual(made.map((c) => c.id).reverse());
    });

    it.each([
      ['limit=0', 'limit'],
      ['limit=201', 'limit'],
      ['limit=abc', 'limit'],
      ['status=paused', 'status'],
      ['disabled_before=yesterday', 'disabled_before'],
      ['cursor=garbage', 'cursor'],
      [`cursor=${Buffer.from('["not-a-date","x"]').toString('base64url')}`, 'cursor'],
      ['sort=name', 'sort'],
    ])('refuses ?%s with 400 naming %s', async (query, field) => {
      const response = await request(t.http)
        .get(`/api/v1/customers?${query}`)
        .set(reader.header)
        .expect(400);
      expect(response.body.code).toBe('validation_failed');
      expect(response.body.errors.map((e: { field: string }) => e.field)).toContain(field);
    });
  });
});
