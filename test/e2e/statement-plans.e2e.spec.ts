import { createCustomer, signIn, StaffSession } from '../support/factories';
import { disableCustomer, enableCustomer, getCustomer } from '../support/holds';
import { startTestApp, TestApp } from '../support/test-app';

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
    const [{ config }] = await t.db.query<{ config: string[] }[]>(
      `SELECT proconfig AS config FROM pg_proc WHERE proname = 'holds_in_play'`,
    );
    expect(config).toEqual(['plan_cache_mode=force_generic_plan']);
    expect(await planCacheMode()).toBe('auto');
  });
});
