import request from 'supertest';
import { Customer } from '../../src/customers/entities/customer.entity';
import { createApiKey } from '../support/api-keys';
import { countRows, createCustomer, signIn } from '../support/factories';
import { startTestApp, TestApp } from '../support/test-app';

const TABLES = ['customers', 'audit_logs', 'customer_notes', 'staff_users'];

/**
 * A 403 says what would have been allowed: the least staff role, or the kind of API key, so that
 * the one refused (and the admin page showing the answer) knows whom to ask.
 */
describe('403 forbidden names what the route needs', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  const customerRow = (id: string) => t.db.getRepository(Customer).findOneByOrFail({ id });

  it('tells a read-only user that disabling needs customer_support or higher, and changes nothing', async () => {
    const reader = await signIn(t, 'user');
    const customer = await createCustomer(t);
    const snapshot = await customerRow(customer.id);
    const before = await countRows(t, TABLES);

    const refused = await request(t.http)
      .post(`/api/v1/customers/${customer.id}/disable`)
      .set(reader.header)
      .send({ reason: 'x' })
      .expect(403);

    expect(refused.body).toMatchObject({
      status: 403,
      code: 'forbidden',
      detail: 'This needs the role customer_support or higher; you are user.',
    });
    expect(await countRows(t, TABLES)).toEqual(before);
    expect(await customerRow(customer.id)).toEqual(snapshot);
  });

  it('names the top role without "or higher"', async () => {
    const manager = await signIn(t, 'account_manager');
    const refused = await request(t.http).get('/api/v1/users').set(manager.header).expect(403);
    expect(refused.body).toMatchObject({
      code: 'forbidden',
      detail: 'This needs the role admin; you are account_manager.',
    });
  });

  it('tells an API key on a staff-only route that it needs a staff sign-in', async () => {
    const platform = await createApiKey(t);
    const refused = await request(t.http).get('/api/v1/api-keys').set(platform.header).expect(403);
    expect(refused.body).toMatchObject({
      code: 'forbidden',
      detail:
        'This needs a staff sign-in with the role developer or higher; API keys cannot call it.',
    });
  });

  it('tells a customer key on a platform route that it needs a platform key', async () => {
    const customer = await createCustomer(t);
    const key = await createApiKey(t, customer.id);
    const refused = await request(t.http).get('/api/v1/customers').set(key.header).expect(403);
    expect(refused.body).toMatchObject({
      code: 'forbidden',
      detail:
        'This needs a platform API key or a staff sign-in with the role user or higher; ' +
        'a customer’s API key cannot call it.',
    });
  });

  it('tells a customer key asking about another customer that it serves its own customer only', async () => {
    const [own, other] = [await createCustomer(t), await createCustomer(t)];
    const key = await createApiKey(t, own.id);
    const refused = await request(t.http)
      .get(`/api/v1/customers/${other.id}`)
      .set(key.header)
      .expect(403);
    expect(refused.body).toMatchObject({
      code: 'forbidden',
      detail:
        'A customer’s API key may call this for its own customer only; for any other this needs ' +
        'a platform API key or a staff sign-in with the role user or higher.',
    });
  });
});
