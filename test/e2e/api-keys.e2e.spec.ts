import { createHash } from 'node:crypto';
import request from 'supertest';
import { ApiKey } from '../../src/api-keys/entities/api-key.entity';
import { createApiKey } from '../support/api-keys';
import { countRows, createCustomer, signIn, StaffSession } from '../support/factories';
import { startTestApp, TestApp } from '../support/test-app';

const UNKNOWN_ID = '6f1c1a52-9a43-4d5b-8a55-1b1d2f0c0c0c';

describe('API keys', () => {
  let t: TestApp;
  let developer: StaffSession;

  beforeAll(async () => {
    t = await startTestApp();
    developer = await signIn(t, 'developer');
  });
  afterAll(() => t.close());

  const keys = () => t.db.getRepository(ApiKey);
  const createKey = (body: object) =>
    request(t.http).post('/api/v1/api-keys').set(developer.header).send(body);

  describe('POST /api-keys', () => {
    it('creates a platform key, shows it once and stores only its SHA-256', async () => {
      const response = await createKey({ name: ' Billing backend ' }).expect(201);
      expect(response.body).toEqual({
        id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        name: 'Billing backend',
        key: expect.stringMatching(/^ca_[A-Za-z0-9_-]{43}$/),
        prefix: response.body.key.slice(0, 11),
        customer_id: null,
        created_at: expect.any(String),
        revoked_at: null,
      });
      const row = await keys().findOneByOrFail({ id: response.body.id });
      expect(row.keyHash).toBe(createHash('sha256').update(response.body.key).digest('hex'));
      expect(row.createdBy).toBe(developer.user.id);
      const [{ stored }] = await t.db.query<{ stored: string }[]>(
        `SELECT row_to_json(k)::text AS stored FROM api_keys k WHERE id = $1`,
        [row.id],
      );
      expect(stored).not.toContain(response.body.key);
    });

    it('creates a key bound to a customer', async () => {
      const customer = await createCustomer(t);
      const response = await createKey({ name: 'Acme', customer_id: customer.id }).expect(201);
      expect(response.body.customer_id).toBe(customer.id);
      expect((await keys().findOneByOrFail({ id: response.body.id })).customerId).toBe(customer.id);
    });

    it('answers 404 not_found for an unknown customer and stores nothing', async () => {
      const before = await countRows(t, ['api_keys']);
      const response = await createKey({ name: 'Ghost', customer_id: UNKNOWN_ID }).expect(404);
      expect(response.body.code).toBe('not_found');
      expect(await countRows(t, ['api_keys'])).toEqual(before);
    });

    it.each([
      [{}, 'name'],
      [{ name: '   ' }, 'name'],
      [{ name: 'x'.repeat(201) }, 'name'],
      [{ name: 'Key', customer_id: 'not-a-uuid' }, 'customer_id'],
      [{ name: 'Key', key: 'ca_chosen-by-the-caller' }, 'key'],
    ])('refuses %j with 400 naming %s and stores nothing', async (body, field) => {
      const before = await countRows(t, ['api_keys']);
      const response = await createKey(body).expect(400);
      expect(response.body.code).toBe('validation_failed');
      expect(response.body.errors.map((e: { field: string }) => e.field)).toContain(field);
      expect(await countRows(t, ['api_keys'])).toEqual(before);
    });
  });

  describe('GET /api-keys', () => {
    it('lists keys newest first in pages, never with the key or its hash', async () => {
      const first = (await createKey({ name: 'First' }).expect(201)).body;
      const second = (await createKey({ name: 'Second' }).expect(201)).body;
      const page = await request(t.http)
        .get('/api/v1/api-keys?limit=1')
        .set(developer.header)
        .expect(200);
      expect(page.body.data).toEqual([
        {
          id: second.id,
          name: 'Second',
          prefix: second.prefix,
          customer_id: null,
          created_at: second.created_at,
          revoked_at: null,
        },
      ]);
      const next = await request(t.http)
        .get(`/api/v1/api-keys?limit=1&cursor=${page.body.next_cursor}`)
        .set(developer.header)
        .expect(200);
      expect(next.body.data[0].id).toBe(first.id);
      const listed = JSON.stringify(page.body) + JSON.stringify(next.body);
      for (const secret of [first.key, second.key, 'key_hash']) {
        expect(listed).not.toContain(secret);
      }
    });
  });

  describe('DELETE /api-keys/{id}', () => {
    it('revokes the key (204): the row stays with revoked_at, and revoking again changes nothing', async () => {
      const created = (await createKey({ name: 'To revoke' }).expect(201)).body;
      await request(t.http)
        .delete(`/api/v1/api-keys/${created.id}`)
        .set(developer.header)
        .expect(204);
      const revoked = await keys().findOneByOrFail({ id: created.id });
      expect(revoked.revokedAt).toBeInstanceOf(Date);
      await request(t.http)
        .delete(`/api/v1/api-keys/${created.id}`)
        .set(developer.header)
        .expect(204);
      expect((await keys().findOneByOrFail({ id: created.id })).revokedAt).toEqual(
        revoked.revokedAt,
      );
    });

    it('answers 404 for an unknown key and 400 for a malformed id', async () => {
      const unknown = await request(t.http)
        .delete(`/api/v1/api-keys/${UNKNOWN_ID}`)
        .set(developer.header)
        .expect(404);
      expect(unknown.body.code).toBe('not_found');
      const malformed = await request(t.http)
        .delete('/api/v1/api-keys/42')
        .set(developer.header)
        .expect(400);
      expect(malformed.body).toMatchObject({
        code: 'validation_failed',
        errors: [{ field: 'id' }],
      });
    });
  });

  describe('X-API-Key authentication', () => {
    it('lets a platform key call the customer endpoints', async () => {
      const platform = await createApiKey(t);
      const customer = await createCustomer(t);
      await request(t.http).get('/api/v1/customers').set(platform.header).expect(200);
      const response = await request(t.http)
        .get(`/api/v1/customers/${customer.id}`)
        .set(platform.header)
        .expect(200);
      expect(response.body.id).toBe(customer.id);
    });

    it('lets a customer key read its own customer only', async () => {
      const [own, other] = [await createCustomer(t), await createCustomer(t)];
      const key = await createApiKey(t, own.id);
      await request(t.http).get(`/api/v1/customers/${own.id}`).set(key.header).expect(200);
      const refused = await request(t.http)
        .get(`/api/v1/customers/${other.id}`)
        .set(key.header)
        .expect(403);
      expect(refused.body.code).toBe('forbidden');
      await request(t.http).get('/api/v1/customers').set(key.header).expect(403);
    });

    it('refuses keys on staff-only routes with 403', async () => {
      const platform = await createApiKey(t);
      const response = await request(t.http)
        .get('/api/v1/api-keys')
        .set(platform.header)
        .expect(403);
      expect(response.body.code).toBe('forbidden');
    });

    it.each([
      ['an unknown key', `ca_${'A'.repeat(43)}`],
      ['a malformed key', 'not-a-key'],
      ['an empty key', ''],
    ])('refuses %s with 401 unauthenticated', async (_what, key) => {
      const response = await request(t.http)
        .get('/api/v1/customers')
        .set('X-API-Key', key)
        .expect(401);
      expect(response.body.code).toBe('unauthenticated');
    });

    it('refuses a revoked key from the very next request, though it was just used', async () => {
      const created = (await createKey({ name: 'Short-lived' }).expect(201)).body;
      const header = { 'X-API-Key': created.key };
      await request(t.http).get('/api/v1/customers').set(header).expect(200);
      await request(t.http)
        .delete(`/api/v1/api-keys/${created.id}`)
        .set(developer.header)
        .expect(204);
      const response = await request(t.http).get('/api/v1/customers').set(header).expect(401);
      expect(response.body.code).toBe('unauthenticated');
    });

    it('refuses a customer key revoked while in use, while other keys keep working', async () => {
      const customer = await createCustomer(t);
      const created = (
        await createKey({ name: 'Acme backend', customer_id: customer.id }).expect(201)
      ).body;
      const other = await createApiKey(t);
      const header = { 'X-API-Key': created.key };
      await request(t.http).get(`/api/v1/customers/${customer.id}`).set(header).expect(200);
      await request(t.http).get('/api/v1/customers').set(other.header).expect(200);
      await request(t.http)
        .delete(`/api/v1/api-keys/${created.id}`)
        .set(developer.header)
        .expect(204);
      await request(t.http).get(`/api/v1/customers/${customer.id}`).set(header).expect(401);
      await request(t.http).get('/api/v1/customers').set(other.header).expect(200);
    });
  });
});
