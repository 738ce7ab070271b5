import { Logger } from '@nestjs/common';
import request from 'supertest';
import { resetStaffPassword } from '../../src/auth/staff-password-reset';
import { createApiKey } from '../support/api-keys';
import {
  countRows,
  createCustomer,
  createStaff,
  signIn,
  STAFF_PASSWORD,
  StaffSession,
  uniqueEmail,
} from '../support/factories';
import { createPlan, uniqueCode } from '../support/plans';
import { startTestApp, TestApp } from '../support/test-app';

/**
 * Issue 13, "every sensitive action": each kind of action is one audit entry, written in the
 * transaction of the action (a refused or rolled-back action leaves none), naming who acted, from
 * where, what it was about (`target`), and what changed, never a password, a key or a secret.
 */

interface Row {
  seq: string;
  action: string;
  customer_id: string | null;
  target_type: string | null;
  target_id: string | null;
  actor_type: string;
  actor_id: string | null;
  actor_name: string;
  reason: string | null;
  before: Record<string, unknown>;
  after: Record<string, unknown>;
  request_id: string | null;
  ip: string | null;
  user_agent: string | null;
}

const STRONG_PASSWORD = 'violet-harbour-lantern-93';

describe('audit entries of every sensitive action', () => {
  let t: TestApp;
  let admin: StaffSession;
  let developer: StaffSession;
  let manager: StaffSession;
  let reader: StaffSession;

  beforeAll(async () => {
    t = await startTestApp({ AUDIT_CHECKPOINT_CRON: 'off' });
    [admin, developer, manager, reader] = await Promise.all([
      signIn(t, 'admin'),
      signIn(t, 'developer'),
      signIn(t, 'account_manager'),
      signIn(t, 'user'),
    ]);
  });
  afterAll(() => t.close());

  const headSeq = async () =>
    Number((await t.db.query<{ seq: string }[]>('SELECT seq FROM audit_chain_head'))[0].seq);

  /** The entries written since `seq`, oldest first, as stored. */
  const since = (seq: number) =>
    t.db.query<Row[]>('SELECT * FROM audit_logs WHERE seq > $1 ORDER BY seq', [seq]);

  /** Runs `act` and answers the entries it wrote. */
  async function entriesOf(act: () => Promise<unknown>): Promise<Row[]> {
    const before = await headSeq();
    await act();
    return since(before);
  }

  const as = (session: StaffSession) => ({
    ...session.header,
    'User-Agent': 'audit-actions/1.0',
    'X-Request-Id': `req-${Math.random().toString(16).slice(2)}`,
  });

  const byUser = (session: StaffSession) => ({
    actor_type: 'user',
    actor_id: session.user.id,
    actor_name: session.user.name,
    ip: expect.stringMatching(/127\.0\.0\.1|::1/),
    user_agent: 'audit-actions/1.0',
    request_id: expect.stringMatching(/^req-/),
  });

  describe('staff users', () => {
    it('records staff_user.created by the admin, with the new user and never its password', async () => {
      const email = uniqueEmail('grace');
      let id = '';
      const entries = await entriesOf(async () => {
        const created = await request(t.http)
          .post('/api/v1/users')
          .set(as(admin))
          .send({ email, name: 'Grace Hopper', password: STRONG_PASSWORD, role: 'developer' })
          .expect(201);
        id = created.body.id;
      });
      expect(entries).toEqual([
        expect.objectContaining({
          action: 'staff_user.created',
          customer_id: null,
          target_type: 'staff_user',
          target_id: id,
          before: {},
          after: { email, name: 'Grace Hopper', role: 'developer', active: true },
          ...byUser(admin),
        }),
      ]);
      expect(JSON.stringify(entries)).not.toContain(STRONG_PASSWORD);
    });

    it('records nothing for a user that is refused (409 user_exists), in the same transaction', async () => {
      const before = await countRows(t, ['staff_users', 'audit_logs']);
      const refused = await request(t.http)
        .post('/api/v1/users')
        .set(as(admin))
        .send({
          email: admin.user.email,
          name: 'Twice',
          password: STRONG_PASSWORD,
          role: 'user',
        })
        .expect(409);
      expect(refused.body.code).toBe('user_exists');
      expect(await countRows(t, ['staff_users', 'audit_logs'])).toEqual(before);
    });

    it('records staff_user.updated with only what changed, as it was and became', async () => {
      const user = await createStaff(t, 'customer_support', { name: 'Sam' });
      const entries = await entriesOf(() =>
        request(t.http)
          .patch(`/api/v1/users/${user.id}`)
          .set(as(admin))
          .send({ role: 'account_manager', name: 'Sam' })
          .expect(200),
      );
      expect(entries).toEqual([
        expect.objectContaining({
          action: 'staff_user.updated',
          target_type: 'staff_user',
          target_id: user.id,
          before: { role: 'customer_support' },
          after: { role: 'account_manager' },
          ...byUser(admin),
        }),
      ]);

      const deactivated = await entriesOf(() =>
        request(t.http)
          .patch(`/api/v1/users/${user.id}`)
          .set(as(admin))
          .send({ active: false, name: 'Sam Sacked' })
          .expect(200),
      );
      expect(deactivated.map((e) => [e.action, e.before, e.after])).toEqual([
        [
          'staff_user.updated',
          { name: 'Sam', active: true },
          { name: 'Sam Sacked', active: false },
        ],
      ]);

      // The same values again change nothing, and record nothing.
      expect(
        await entriesOf(() =>
          request(t.http)
            .patch(`/api/v1/users/${user.id}`)
            .set(as(admin))
            .send({ active: false })
            .expect(200),
        ),
      ).toEqual([]);
    });

    it('records staff_user.password_changed for a reset by an admin, by the user, and by the command (as system)', async () => {
      const user = await createStaff(t, 'user', { name: 'Pat' });
      const byAdmin = await entriesOf(() =>
        request(t.http)
          .patch(`/api/v1/users/${user.id}`)
          .set(as(admin))
          .send({ password: STRONG_PASSWORD, role: 'customer_support' })
          .expect(200),
      );
      expect(byAdmin.map((e) => [e.action, e.actor_id, e.target_id])).toEqual([
        ['staff_user.updated', admin.user.id, user.id],
        ['staff_user.password_changed', admin.user.id, user.id],
      ]);

      // The admin's reset revoked its tokens: it signs in with the new password.
      const login = await request(t.http)
        .post('/api/v1/auth/login')
        .send({ email: user.email, password: STRONG_PASSWORD })
        .expect(200);
      const session = { user, header: { Authorization: `Bearer ${login.body.access_token}` } };
      const bySelf = await entriesOf(() =>
        request(t.http)
          .post('/api/v1/auth/password')
          .set(as(session as StaffSession))
          .send({ current_password: STRONG_PASSWORD, new_password: 'amber-quarry-window-58' })
          .expect(200),
      );
      expect(bySelf).toEqual([
        expect.objectContaining({
          action: 'staff_user.password_changed',
          actor_type: 'user',
          actor_id: user.id,
          target_id: user.id,
          ip: expect.stringMatching(/127\.0\.0\.1|::1/),
        }),
      ]);

      const byCommand = await entriesOf(() => resetStaffPassword(t.db, user.email));
      expect(byCommand).toEqual([
        expect.objectContaining({
          action: 'staff_user.password_changed',
          actor_type: 'system',
          actor_id: null,
          actor_name: 'system',
          target_id: user.id,
          reason: 'npm run admin:reset-password',
        }),
      ]);
      const all = JSON.stringify([...byAdmin, ...bySelf, ...byCommand]);
      expect(all).not.toContain(STRONG_PASSWORD);
      expect(all).not.toContain('amber-quarry-window-58');
    });

    it('records the first admin, created at the first start, as created by system', async () => {
      const [first] = await t.db.query<Row[]>(
        `SELECT * FROM audit_logs WHERE action = 'staff_user.created' ORDER BY seq LIMIT 1`,
      );
      expect(first).toMatchObject({
        seq: '1',
        actor_type: 'system',
        target_type: 'staff_user',
        after: { role: 'admin', active: true },
      });
    });
  });

  describe('sign-ins', () => {
    it('records auth.login_succeeded by the user, with its IP', async () => {
      const user = await createStaff(t, 'user', { name: 'Lou' });
      const entries = await entriesOf(() =>
        request(t.http)
          .post('/api/v1/auth/login')
          .set('User-Agent', 'audit-actions/1.0')
          .send({ email: user.email, password: STAFF_PASSWORD })
          .expect(200),
      );
      expect(entries).toEqual([
        expect.objectContaining({
          action: 'auth.login_succeeded',
          actor_type: 'user',
          actor_id: user.id,
          actor_name: 'Lou',
          target_type: 'staff_user',
          target_id: user.id,
          ip: expect.stringMatching(/127\.0\.0\.1|::1/),
          user_agent: 'audit-actions/1.0',
        }),
      ]);
    });

    it.each([
      ['a wrong password', true],
      ['an unknown email', false],
    ])(
      'records auth.login_failed for %s: the email tried as the actor, the IP, never the password',
      async (_case, known) => {
        const email = known ? (await createStaff(t, 'user')).email : uniqueEmail('nobody');
        const entries = await entriesOf(() =>
          request(t.http)
            .post('/api/v1/auth/login')
            .send({ email: email.toUpperCase(), password: 'guessed-password-123' })
            .expect(401),
        );
        expect(entries).toEqual([
          expect.objectContaining({
            action: 'auth.login_failed',
            actor_type: 'anonymous',
            actor_id: null,
            actor_name: email,
            target_type: null,
            customer_id: null,
            ip: expect.stringMatching(/127\.0\.0\.1|::1/),
          }),
        ]);
        expect(JSON.stringify(entries)).not.toContain('guessed-password');
        // The API shows the anonymous actor as such.
        const listed = await request(t.http)
          .get('/api/v1/audit-logs?action=auth.login_failed&limit=1')
          .set(reader.header)
          .expect(200);
        expect(listed.body.data[0].actor).toEqual({ type: 'anonymous', id: null, name: email });
      },
    );
  });

  describe('API keys', () => {
    it('records api_key.created and api_key.revoked, never the key', async () => {
      const customer = await createCustomer(t);
      let id = '';
      let key = '';
      const created = await entriesOf(async () => {
        const response = await request(t.http)
          .post('/api/v1/api-keys')
          .set(as(developer))
          .send({ name: 'Billing backend', customer_id: customer.id })
          .expect(201);
        ({ id, key } = response.body);
      });
      expect(created).toEqual([
        expect.objectContaining({
          action: 'api_key.created',
          customer_id: customer.id,
          target_type: 'api_key',
          target_id: id,
          before: {},
          after: {
            name: 'Billing backend',
            customer_id: customer.id,
            prefix: expect.any(String),
          },
          ...byUser(developer),
        }),
      ]);
      expect(key.startsWith(created[0].after.prefix as string)).toBe(true);
      expect(JSON.stringify(created)).not.toContain(key);

      const revoked = await entriesOf(() =>
        request(t.http).delete(`/api/v1/api-keys/${id}`).set(as(developer)).expect(204),
      );
      expect(revoked.map((e) => [e.action, e.target_id, e.before, e.after])).toEqual([
        ['api_key.revoked', id, { state: 'active' }, { state: 'revoked' }],
      ]);
      // Revoking it again changes nothing and records nothing.
      expect(
        await entriesOf(() =>
          request(t.http).delete(`/api/v1/api-keys/${id}`).set(as(developer)).expect(204),
        ),
      ).toEqual([]);
    });

    it('rolls the key back when its audit entry cannot be written: one transaction', async () => {
      const errorLog = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
      await t.asOwner(`
        CREATE FUNCTION test_refuse_key_audit() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'audit insert refused by the test'; END $$`);
      await t.asOwner(`
        CREATE TRIGGER test_refuse_key_audit BEFORE INSERT ON audit_logs FOR EACH ROW
        WHEN (NEW.action = 'api_key.created') EXECUTE FUNCTION test_refuse_key_audit()`);
      const before = await countRows(t, ['api_keys', 'audit_logs']);
      const head = await headSeq();
      try {
        await request(t.http)
          .post('/api/v1/api-keys')
          .set(as(developer))
          .send({ name: 'Never kept' })
          .expect(500);
      } finally {
        await t.asOwner('DROP TRIGGER test_refuse_key_audit ON audit_logs');
        await t.asOwner('DROP FUNCTION test_refuse_key_audit()');
        errorLog.mockRestore();
      }
      expect(await countRows(t, ['api_keys', 'audit_logs'])).toEqual(before);
      // The chain did not move either: its head rolled back with the entry.
      expect(await headSeq()).toBe(head);
    });
  });

  describe('plans and subscriptions', () => {
    it('records feature.created and plan.created with what was created', async () => {
      const code = uniqueCode('seats');
      const planCode = uniqueCode('pro');
      const entries = await entriesOf(async () => {
        await request(t.http)
          .post('/api/v1/features')
          .set(as(manager))
          .send({ code, name: 'Seats' })
          .expect(201);
        await request(t.http)
          .post('/api/v1/plans')
          .set(as(manager))
          .send({
            code: planCode,
            name: 'Pro',
            amount: 4900,
            currency: 'EUR',
            interval: 'month',
            user_count: 5,
            features: [code],
            limits: { [code]: 10 },
          })
          .expect(201);
      });
      expect(entries.map((e) => [e.action, e.target_type, e.after])).toEqual([
        ['feature.created', 'feature', { code, name: 'Seats' }],
        [
          'plan.created',
          'plan',
          {
            code: planCode,
            name: 'Pro',
            amount: 4900,
            currency: 'EUR',
            interval: 'month',
            user_count: 5,
            features: [code],
            limits: { [code]: 10 },
          },
        ],
      ]);
      expect(entries.every((e) => e.actor_id === manager.user.id)).toBe(true);
    });

    it('records nothing for a refused plan (400), whose transaction rolls back', async () => {
      const before = await countRows(t, ['plans', 'audit_logs']);
      const refused = await request(t.http)
        .post('/api/v1/plans')
        .set(as(manager))
        .send({
          code: uniqueCode('bad'),
          name: 'Bad',
          amount: 1,
          currency: 'EUR',
          interval: 'month',
          user_count: 1,
          features: ['no_such_feature'],
          limits: {},
        })
        .expect(400);
      expect(refused.body.code).toBe('validation_failed');
      expect(await countRows(t, ['plans', 'audit_logs'])).toEqual(before);
    });

    it('records subscription.created, .changed and .cancelled for the customer, by a user or a key', async () => {
      const customer = await createCustomer(t);
      const [from, to] = [await createPlan(t), await createPlan(t)];
      const platform = await createApiKey(t, null, 'Billing backend');
      let id = '';
      const entries = await entriesOf(async () => {
        id = (
          await request(t.http)
            .post(`/api/v1/customers/${customer.id}/subscriptions`)
            .set(as(manager))
            .send({ plan_code: from.code })
            .expect(201)
        ).body.id;
        await request(t.http)
          .patch(`/api/v1/subscriptions/${id}`)
          .set(platform.header)
          .send({ plan_code: to.code })
          .expect(200);
        // The same plan again is no change.
        await request(t.http)
          .patch(`/api/v1/subscriptions/${id}`)
          .set(platform.header)
          .send({ plan_code: to.code })
          .expect(200);
        await request(t.http)
          .post(`/api/v1/subscriptions/${id}/cancel`)
          .set(as(manager))
          .expect(200);
        await request(t.http)
          .post(`/api/v1/subscriptions/${id}/cancel`)
          .set(as(manager))
          .expect(200);
      });
      expect(
        entries.map((e) => [e.action, e.customer_id, e.target_id, e.actor_type, e.before, e.after]),
      ).toEqual([
        [
          'subscription.created',
          customer.id,
          id,
          'user',
          {},
          { plan_code: from.code, status: 'active' },
        ],
        [
          'subscription.changed',
          customer.id,
          id,
          'api_key',
          { plan_code: from.code },
          { plan_code: to.code },
        ],
        [
          'subscription.cancelled',
          customer.id,
          id,
          'user',
          { status: 'active' },
          { status: 'cancelled' },
        ],
      ]);
      // They are the customer's entries too.
      const ofCustomer = await request(t.http)
        .get(`/api/v1/customers/${customer.id}/audit-logs`)
        .set(reader.header)
        .expect(200);
      expect(ofCustomer.body.data.map((e: { action: string }) => e.action)).toEqual([
        'subscription.cancelled',
        'subscription.changed',
        'subscription.created',
      ]);
    });
  });

  describe('webhook endpoints', () => {
    it('records created, updated, secret_rotated and deleted, never a secret', async () => {
      let id = '';
      const secrets: string[] = [];
      const entries = await entriesOf(async () => {
        const created = await request(t.http)
          .post('/api/v1/webhook-endpoints')
          .set(as(developer))
          .send({ url: 'http://127.0.0.1:9/audit', event_types: ['customer.disabled'] })
          .expect(201);
        id = created.body.id;
        secrets.push(created.body.secret);
        await request(t.http)
          .patch(`/api/v1/webhook-endpoints/${id}`)
          .set(as(developer))
          .send({ enabled: false, description: 'Paused', url: 'http://127.0.0.1:9/audit' })
          .expect(200);
        const rotated = await request(t.http)
          .post(`/api/v1/webhook-endpoints/${id}/rotate-secret`)
          .set(as(developer))
          .expect(200);
        secrets.push(rotated.body.secret);
        await request(t.http)
          .delete(`/api/v1/webhook-endpoints/${id}`)
          .set(as(developer))
          .expect(204);
      });
      const described = {
        url: 'http://127.0.0.1:9/audit',
        event_types: ['customer.disabled'],
        description: null,
        enabled: true,
      };
      expect(entries.map((e) => [e.action, e.target_type, e.target_id, e.before, e.after])).toEqual(
        [
          ['webhook_endpoint.created', 'webhook_endpoint', id, {}, described],
          [
            'webhook_endpoint.updated',
            'webhook_endpoint',
            id,
            { description: null, enabled: true },
            { description: 'Paused', enabled: false },
          ],
          [
            'webhook_endpoint.secret_rotated',
            'webhook_endpoint',
            id,
            {},
            { previous_secret_expires_at: expect.any(String) },
          ],
          [
            'webhook_endpoint.deleted',
            'webhook_endpoint',
            id,
            { ...described, description: 'Paused', enabled: false },
            {},
          ],
        ],
      );
      const text = JSON.stringify(entries);
      for (const secret of secrets) {
        expect(text).not.toContain(secret);
        expect(text).not.toContain(secret.replace(/^whsec_/, ''));
      }
    });

    it('records nothing for an unknown endpoint (404)', async () => {
      const before = await countRows(t, ['audit_logs']);
      await request(t.http)
        .delete('/api/v1/webhook-endpoints/6f1c1a52-9a43-4d5b-8a55-1b1d2f0c0c0c')
        .set(as(developer))
        .expect(404);
      expect(await countRows(t, ['audit_logs'])).toEqual(before);
    });
  });

  describe('GET /audit-logs?action=', () => {
    it('matches every action of a kind when the value ends with a dot', async () => {
      const response = await request(t.http)
        .get('/api/v1/audit-logs?action=staff_user.&limit=200')
        .set(reader.header)
        .expect(200);
      const actions = new Set(response.body.data.map((e: { action: string }) => e.action));
      expect([...actions].sort()).toEqual([
        'staff_user.created',
        'staff_user.password_changed',
        'staff_user.updated',
      ]);
      const exact = await request(t.http)
        .get('/api/v1/audit-logs?action=staff_user.updated&limit=200')
        .set(reader.header)
        .expect(200);
      expect(
        exact.body.data.every((e: { action: string }) => e.action === 'staff_user.updated'),
      ).toBe(true);
      expect(exact.body.data.length).toBeLessThan(response.body.data.length);
      // invoice.* is a known kind (the dunning rules write it): an empty page, not a refusal.
      await request(t.http)
        .get('/api/v1/audit-logs?action=invoice.')
        .set(reader.header)
        .expect(200);
    });

    it.each(['staff_user', 'staff_', 'nothing.', 'staff_user.created.', '.'])(
      'refuses action=%s with 400 naming action',
      async (value) => {
        const response = await request(t.http)
          .get(`/api/v1/audit-logs?action=${encodeURIComponent(value)}`)
          .set(reader.header)
          .expect(400);
        expect(response.body.code).toBe('validation_failed');
        expect(response.body.errors.map((e: { field: string }) => e.field)).toEqual(['action']);
      },
    );

    it('shows what an entry is about besides a customer as target {type, id}', async () => {
      const response = await request(t.http)
        .get('/api/v1/audit-logs?action=api_key.&limit=1')
        .set(reader.header)
        .expect(200);
      expect(response.body.data[0].target).toEqual({
        type: 'api_key',
        id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      });
    });
  });
});
