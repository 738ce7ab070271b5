import request from 'supertest';
import { StaffUser } from '../../src/auth/entities/staff-user.entity';
import {
  createStaff,
  signIn,
  STAFF_PASSWORD,
  StaffSession,
  uniqueEmail,
} from '../support/factories';
import { startTestApp, TEST_ADMIN, TestApp } from '../support/test-app';

describe('staff sign-in and users', () => {
  let t: TestApp;
  let admin: StaffSession;

  beforeAll(async () => {
    t = await startTestApp({ LOGIN_MAX_FAILURES: '3', TRUST_PROXY: 'true' });
    admin = await signIn(t, 'admin');
  });
  afterAll(() => t.close());

  const login = (email: string, password: string, ip = '10.1.1.1') =>
    request(t.http).post('/api/v1/auth/login').set('X-Forwarded-For', ip).send({ email, password });

  describe('POST /auth/login', () => {
    it('signs in the first admin bootstrapped from ADMIN_EMAIL and ADMIN_PASSWORD', async () => {
      const response = await login(TEST_ADMIN.email.toUpperCase(), TEST_ADMIN.password).expect(200);
      expect(response.body).toMatchObject({
        token_type: 'Bearer',
        expires_in: 3600,
        user: { email: TEST_ADMIN.email, role: 'admin', active: true },
      });
      expect(response.body.user).not.toHaveProperty('password_hash');

      const me = await request(t.http)
        .get('/api/v1/auth/me')
        .set('Authorization', `Bearer ${response.body.access_token}`)
        .expect(200);
      expect(me.body).toMatchObject({ email: TEST_ADMIN.email, role: 'admin' });
    });

    it('answers an unknown email exactly as a wrong password, in comparable time', async () => {
      const user = await createStaff(t, 'user');
      const timed = async (email: string) => {
        const started = process.hrtime.bigint();
        const response = await login(email, 'not-the-password', '10.2.0.1').expect(401);
        return { body: response.body, ms: Number(process.hrtime.bigint() - started) / 1e6 };
      };
      const wrongPassword = await timed(user.email);
      const unknownEmail = await timed(uniqueEmail('nobody'));
      expect(unknownEmail.body).toEqual(wrongPassword.body);
      expect(unknownEmail.body.code).toBe('invalid_credentials');
      // Both verify an argon2id hash; without the decoy the unknown email would answer ~100x faster.
      expect(unknownEmail.ms).toBeGreaterThan(wrongPassword.ms / 4);
    });

    it('refuses a deactivated user with the same answer as a wrong password', async () => {
      const user = await createStaff(t, 'user', { active: false });
      const response = await login(user.email, STAFF_PASSWORD, '10.3.0.1').expect(401);
      expect(response.body.code).toBe('invalid_credentials');
    });

    it('answers 429 too_many_attempts after repeated failures for one email from one IP', async () => {
      const user = await createStaff(t, 'user');
      for (let i = 0; i < 3; i++) await login(user.email, 'wrong-password', '10.4.0.1').expect(401);
      const refused = await login(user.email, STAFF_PASSWORD, '10.4.0.1').expect(429);
      expect(refused.body.code).toBe('too_many_attempts');
      expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
      // Only that address is locked out: the owner signs in from another.
      await login(user.email, STAFF_PASSWORD, '10.4.1.1').expect(200);
    });

    it('answers 429 for one email from every IP after four times as many failures spread over IPs', async () => {
      const user = await createStaff(t, 'user');
      for (let i = 0; i < 12; i++) {
        await login(user.email, 'wrong-password', `10.4.2.${i}`).expect(401);
      }
      const refused = await login(user.email, STAFF_PASSWORD, '10.4.3.1').expect(429);
      expect(refused.body.code).toBe('too_many_attempts');
    });

    it('answers 429 after repeated failures from one IP across emails', async () => {
      for (let i = 0; i < 12; i++) await login(uniqueEmail('spray'), 'wrong-password', '10.5.0.1');
      const refused = await login(TEST_ADMIN.email, TEST_ADMIN.password, '10.5.0.1').expect(429);
      expect(refused.body.code).toBe('too_many_attempts');
    });

    it.each([
      [{}, ['email', 'password']],
      [{ email: 'a@b.io' }, ['password']],
      [{ email: 42, password: 'x' }, ['email']],
      [{ email: 'a@b.io', password: 'x', admin: true }, ['admin']],
    ])('refuses the malformed body %j with 400 validation_failed', async (body, fields) => {
      const response = await request(t.http).post('/api/v1/auth/login').send(body).expect(400);
      expect(response.headers['content-type']).toMatch(/application\/problem\+json/);
      expect(response.body.code).toBe('validation_failed');
      const named = (response.body.errors as { field: string }[]).map((e) => e.field);
      for (const field of fields) expect(named).toContain(field);
    });
  });

  describe('tokens', () => {
    it('stops accepting the tokens of a user as soon as it is deactivated', async () => {
      const session = await signIn(t, 'customer_support');
      await request(t.http).get('/api/v1/auth/me').set(session.header).expect(200);
      await request(t.http)
        .patch(`/api/v1/users/${session.user.id}`)
        .set(admin.header)
        .send({ active: false })
        .expect(200);
      const refused = await request(t.http).get('/api/v1/auth/me').set(session.header).expect(401);
      expect(refused.body.code).toBe('unauthenticated');
    });

    it('applies a role change to the next request, not the next login', async () => {
      const session = await signIn(t, 'user');
      await request(t.http).get('/api/v1/users').set(session.header).expect(403);
      await request(t.http)
        .patch(`/api/v1/users/${session.user.id}`)
        .set(admin.header)
        .send({ role: 'admin' })
        .expect(200);
      await request(t.http).get('/api/v1/users').set(session.header).expect(200);
    });

    it('refuses an expired token with 401 unauthenticated', async () => {
      const token = t.sign(admin.user.id, { expiresIn: 1 });
      await new Promise((resolve) => setTimeout(resolve, 1100));
      const response = await request(t.http)
        .get('/api/v1/auth/me')
        .set('Authorization', `Bearer ${token}`)
        .expect(401);
      expect(response.body).toMatchObject({
        code: 'unauthenticated',
        detail: 'The access token has expired.',
      });
    });

    it('refuses a token signed with another secret', async () => {
      const [header, payload] = admin.token.split('.');
      const forged = `${header}.${payload}.${Buffer.from('forged-signature').toString('base64url')}`;
      const response = await request(t.http)
        .get('/api/v1/auth/me')
        .set('Authorization', `Bearer ${forged}`)
        .expect(401);
      expect(response.body.code).toBe('unauthenticated');
      expect(response.headers['www-authenticate']).toBe('Bearer');
    });
  });

  describe('users (admin only)', () => {
    it('creates a user who can then sign in, and stores only an argon2id hash', async () => {
      const email = uniqueEmail('grace');
      const created = await request(t.http)
        .post('/api/v1/users')
        .set(admin.header)
        .send({
          email: email.toUpperCase(),
          name: 'Grace',
          password: 'a-long-enough-password',
          role: 'developer',
        })
        .expect(201);
      expect(created.body).toMatchObject({ email, name: 'Grace', role: 'developer', active: true });
      const stored = await t.db.getRepository(StaffUser).findOneByOrFail({ email });
      expect(stored.passwordHash).toMatch(/^\$argon2id\$/);
      await login(email, 'a-long-enough-password', '10.6.0.1').expect(200);
    });

    it('refuses a second user with the same email in another case: 409 user_exists', async () => {
      const existing = await createStaff(t, 'user');
      const response = await request(t.http)
        .post('/api/v1/users')
        .set(admin.header)
        .send({
          email: existing.email.toUpperCase(),
          name: 'Twin',
          password: 'a-long-enough-password',
          role: 'user',
        })
        .expect(409);
      expect(response.body.code).toBe('user_exists');
    });

    it.each([
      [
        { email: 'not-an-email', name: 'X', password: 'a-long-enough-password', role: 'user' },
        'email',
      ],
      [{ email: 'ok@example.com', name: 'X', password: 'short', role: 'user' }, 'password'],
      [
        { email: 'ok@example.com', name: 'X', password: 'a-long-enough-password', role: 'root' },
        'role',
      ],
      [
        { email: 'ok@example.com', name: '', password: 'a-long-enough-password', role: 'user' },
        'name',
      ],
    ])('refuses %j with 400 naming %s and creates nothing', async (body, field) => {
      const before = await t.db.getRepository(StaffUser).count();
      const response = await request(t.http)
        .post('/api/v1/users')
        .set(admin.header)
        .send(body)
        .expect(400);
      expect(response.body.code).toBe('validation_failed');
      expect(response.body.errors.map((e: { field: string }) => e.field)).toContain(field);
      expect(await t.db.getRepository(StaffUser).count()).toBe(before);
    });

    it('lists users in pages with a cursor', async () => {
      await createStaff(t, 'user');
      const first = await request(t.http)
        .get('/api/v1/users?limit=2')
        .set(admin.header)
        .expect(200);
      expect(first.body.data).toHaveLength(2);
      expect(first.body.next_cursor).toEqual(expect.any(String));
      const second = await request(t.http)
        .get(`/api/v1/users?limit=2&cursor=${first.body.next_cursor}`)
        .set(admin.header)
        .expect(200);
      const ids = [...first.body.data, ...second.body.data].map((u: { id: string }) => u.id);
      expect(new Set(ids).size).toBe(ids.length);
    });

    it('refuses to deactivate or demote the last active admin', async () => {
      // Works on a database shared with other files too: every other active admin is demoted
      // through the API first, and restored afterwards.
      const users = t.db.getRepository(StaffUser);
      const others = (await users.findBy({ role: 'admin', active: true })).filter(
        (u) => u.id !== admin.user.id,
      );
      try {
        for (const other of others) {
          await request(t.http)
            .patch(`/api/v1/users/${other.id}`)
            .set(admin.header)
            .send({ role: 'developer' })
            .expect(200);
        }
        for (const change of [{ role: 'user' }, { active: false }]) {
          const response = await request(t.http)
            .patch(`/api/v1/users/${admin.user.id}`)
            .set(admin.header)
            .send(change)
            .expect(409);
          expect(response.body.code).toBe('last_admin');
        }
        expect(await users.findOneByOrFail({ id: admin.user.id })).toMatchObject({
          role: 'admin',
          active: true,
        });
      } finally {
        for (const other of others) await users.update({ id: other.id }, { role: 'admin' });
      }
    });

    it('answers 404 for an unknown user and 400 for a malformed id', async () => {
      const unknown = await request(t.http)
        .patch('/api/v1/users/00000000-0000-4000-8000-000000000000')
        .set(admin.header)
        .send({ name: 'X' })
        .expect(404);
      expect(unknown.body.code).toBe('not_found');
      const malformed = await request(t.http)
        .patch('/api/v1/users/not-a-uuid')
        .set(admin.header)
        .send({ name: 'X' })
        .expect(400);
      expect(malformed.body.code).toBe('validation_failed');
    });
  });
});
