import request from 'supertest';
import { CustomerChangeFeed } from '../../src/changes/customer-change-feed';
import { CustomerChanges } from '../../src/changes/customer-changes';
import { UnitOfWork } from '../../src/database/unit-of-work';
import { signIn } from '../support/factories';
import { startTestApp, TestApp } from '../support/test-app';
import { onEmbeddedDatabase } from '../support/test-env';

// On the embedded engine, which hears no other instance, staff members are read every time.
const describeOnPostgres = onEmbeddedDatabase() ? describe.skip : describe;

/**
 * Staff requests find their member in memory (StaffMembers), kept true by the change feed: what
 * the service changes is announced and heard at once (tokens.e2e.spec.ts shows it on two
 * instances); what is changed behind its back is seen only once announced, or while the feed is
 * not live.
 */
describeOnPostgres('staff members in memory', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());
  afterEach(() => jest.restoreAllMocks());

  const me = (header: Record<string, string>) => request(t.http).get('/api/v1/auth/me').set(header);
  const announce = (userId: string) =>
    t.app.get(UnitOfWork).run(() => t.app.get(CustomerChanges).staffUserChanged(userId));

  it('looks a member up once, then answers from memory until a change to it is announced', async () => {
    const { user, header } = await signIn(t, 'user');
    await me(header).expect(200);
    // Behind the service's back: not announced, so not seen.
    await t.db.query('UPDATE staff_users SET active = false WHERE id = $1', [user.id]);
    await me(header).expect(200);

    await announce(user.id);
    const refused = await me(header).expect(401);
    expect(refused.body.code).toBe('unauthenticated');
  });

  it('drops only the member announced', async () => {
    const [first, second] = [await signIn(t, 'user'), await signIn(t, 'user')];
    await me(first.header).expect(200);
    await me(second.header).expect(200);
    await t.db.query(
      'UPDATE staff_users SET token_version = token_version + 1 WHERE id = ANY($1)',
      [[first.user.id, second.user.id]],
    );
    await announce(first.user.id);
    expect((await me(first.header).expect(401)).body.detail).toMatch(/revoked/);
    await me(second.header).expect(200);
  });

  it('reads the database for every request while the change feed is not live', async () => {
    const { user, header } = await signIn(t, 'customer_support');
    await me(header).expect(200);
    jest.spyOn(t.app.get(CustomerChangeFeed), 'live', 'get').mockReturnValue(false);
    await t.db.query(`UPDATE staff_users SET role = 'admin' WHERE id = $1`, [user.id]);
    expect((await me(header).expect(200)).body.role).toBe('admin');
    // An admin-only route admits it at once: the role was read again.
    await request(t.http).get('/api/v1/users').set(header).expect(200);
  });
});
