import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Strategy as JwtPassportStrategy } from 'passport-jwt';
import request from 'supertest';
import { StaffUser } from '../../src/auth/entities/staff-user.entity';
import { passwordWeakness } from '../../src/common/password-policy';
import { resetStaffPassword } from '../../src/auth/staff-password-reset';
import { createStaff, signIn, STAFF_PASSWORD, StaffSession } from '../support/factories';
import { startTestApp, TestApp } from '../support/test-app';

const NEW_PASSWORD = 'violet-harbour-lantern-93';

describe('tokens end with what they stand for', () => {
  let a: TestApp;
  let b: TestApp;
  let admin: StaffSession;

  beforeAll(async () => {
    a = await startTestApp({ TRUST_PROXY: 'true' });
    // A second instance on the same database: a revocation must hold there too.
    b = await startTestApp({ TRUST_PROXY: 'true' }, { database: a.database });
    admin = await signIn(a, 'admin');
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  const login = (t: TestApp, email: string, password: string, ip = '10.20.0.1') =>
    request(t.http).post('/api/v1/auth/login').set('X-Forwarded-For', ip).send({ email, password });
  const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });
  const me = (t: TestApp, token: string) =>
    request(t.http).get('/api/v1/auth/me').set(bearer(token));
  const stored = (id: string) => a.db.getRepository(StaffUser).findOneByOrFail({ id });

  async function signedInTwice(): Promise<{ user: StaffUser; tokens: string[] }> {
    const user = await createStaff(a, 'customer_support');
    const first = await login(a, user.email, STAFF_PASSWORD).expect(200);
    const second = await login(b, user.email, STAFF_PASSWORD).expect(200);
    return { user, tokens: [first.body.access_token, second.body.access_token] };
  }

  async function expectRevoked(token: string): Promise<void> {
    for (const t of [a, b]) {
      const response = await me(t, token).expect(401);
      expect(response.body.code).toBe('unauthenticated');
      expect(response.body.detail).toMatch(/revoked/);
    }
  }

  describe('POST /auth/logout', () => {
    it('answers 204 and refuses every token of the user from then on, on every instance', async () => {
      const { user, tokens } = await signedInTwice();
      // A token issued before token versions existed (no `ver`) counts as version 0.
      const legacy = a.sign(user.id);
      for (const token of [...tokens, legacy]) await me(b, token).expect(200);

      await request(a.http).post('/api/v1/auth/logout').set(bearer(tokens[0])).expect(204);

      for (const token of [...tokens, legacy]) await expectRevoked(token);
      await request(b.http).post('/api/v1/auth/logout').set(bearer(tokens[1])).expect(401);
      // Signing in again works, and only the new token does.
      const again = await login(b, user.email, STAFF_PASSWORD).expect(200);
      await me(a, again.body.access_token).expect(200);
      expect((await stored(user.id)).tokenVersion).toBe(1);
    });

    it('refuses an API key: only staff have sessions', async () => {
      const response = await request(a.http)
        .post('/api/v1/auth/logout')
        .set('X-API-Key', `ca_${'y'.repeat(43)}`)
        .expect(401);
      expect(response.body.code).toBe('unauthenticated');
    });
  });

  describe('POST /auth/password', () => {
    const change = (t: TestApp, token: string, body: object, ip = '10.21.0.1') =>
      request(t.http)
        .post('/api/v1/auth/password')
        .set('X-Forwarded-For', ip)
        .set(bearer(token))
        .send(body);

    it('changes the password given the current one, revokes every earlier token and answers a fresh one', async () => {
      const { user, tokens } = await signedInTwice();
      const response = await change(a, tokens[0], {
        current_password: STAFF_PASSWORD,
        new_password: NEW_PASSWORD,
      }).expect(200);
      expect(response.body).toMatchObject({
        token_type: 'Bearer',
        user: { id: user.id, email: user.email },
      });

      for (const token of tokens) await expectRevoked(token);
      await me(b, response.body.access_token).expect(200);
      await login(a, user.email, STAFF_PASSWORD, '10.21.1.1').expect(401);
      await login(b, user.email, NEW_PASSWORD, '10.21.1.1').expect(200);
    });

    it('refuses a wrong current password with 401 invalid_credentials and changes nothing', async () => {
      const { user, tokens } = await signedInTwice();
      const before = await stored(user.id);
      const response = await change(a, tokens[0], {
        current_password: 'not-my-password-at-all',
        new_password: NEW_PASSWORD,
      }).expect(401);
      expect(response.body).toMatchObject({
        code: 'invalid_credentials',
        detail: 'The current password is wrong.',
      });
      const after = await stored(user.id);
      expect(after.passwordHash).toBe(before.passwordHash);
      expect(after.tokenVersion).toBe(before.tokenVersion);
      for (const token of tokens) await me(b, token).expect(200);
    });

    it('counts wrong current passwords against the login throttle', async () => {
      const { user, tokens } = await signedInTwice();
      const wrong = { current_password: 'not-my-password-at-all', new_password: NEW_PASSWORD };
      for (let i = 0; i < a.config.loginMaxFailures; i++) {
        await change(a, tokens[0], wrong, '10.22.0.1').expect(401);
      }
      const refused = await change(
        a,
        tokens[0],
        { current_password: STAFF_PASSWORD, new_password: NEW_PASSWORD },
        '10.22.0.1',
      ).expect(429);
      expect(refused.body.code).toBe('too_many_attempts');
      expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
      expect((await stored(user.id)).tokenVersion).toBe(0);
    });

    it.each([
      [{ new_password: NEW_PASSWORD }, 'current_password'],
      [{ current_password: STAFF_PASSWORD }, 'new_password'],
      [{ current_password: STAFF_PASSWORD, new_password: 'short' }, 'new_password'],
    ])('refuses %j with 400 naming %s and changes nothing', async (body, field) => {
      const { user, tokens } = await signedInTwice();
      const response = await change(a, tokens[0], body).expect(400);
      expect(response.body.code).toBe('validation_failed');
      expect(response.body.errors.map((e: { field: string }) => e.field)).toContain(field);
      expect((await stored(user.id)).tokenVersion).toBe(0);
    });
  });

  describe('changes made by an admin', () => {
    const patch = (id: string, body: object) =>
      request(a.http).patch(`/api/v1/users/${id}`).set(admin.header).send(body);

    it('a new password set by an admin revokes every token of the user', async () => {
      const { user, tokens } = await signedInTwice();
      await patch(user.id, { password: NEW_PASSWORD }).expect(200);
      for (const token of tokens) await expectRevoked(token);
      await login(b, user.email, NEW_PASSWORD, '10.23.0.1').expect(200);
    });

    it('a deactivated user’s tokens stay refused after it is reactivated', async () => {
      const { user, tokens } = await signedInTwice();
      await patch(user.id, { active: false }).expect(200);
      await patch(user.id, { active: true }).expect(200);
      for (const token of tokens) await expectRevoked(token);
      await login(b, user.email, STAFF_PASSWORD, '10.24.0.1').expect(200);
    });

    it('a change of name or role keeps the user’s tokens', async () => {
      const { user, tokens } = await signedInTwice();
      await patch(user.id, { name: 'Renamed', role: 'account_manager' }).expect(200);
      for (const token of tokens) await me(b, token).expect(200);
    });
  });

  describe('a token checked once (each instance keeps the tokens whose signature it checked)', () => {
    /** Counts the signature checks the passport strategy makes from here on. */
    function countSignatureChecks(): { count: () => number; restore: () => void } {
      const verifier = jest.spyOn(
        JwtPassportStrategy as unknown as { JwtVerifier: (...args: unknown[]) => void },
        'JwtVerifier',
      );
      return { count: () => verifier.mock.calls.length, restore: () => verifier.mockRestore() };
    }
    const expiryOf = (token: string): number =>
      (JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()) as { exp: number }).exp;

    it('checks the signature once, and refuses the token from its expiry on as before', async () => {
      const user = await createStaff(a, 'user');
      const token = a.sign(user.id, { expiresIn: 2 });
      const checks = countSignatureChecks();
      try {
        for (let i = 0; i < 3; i++) await me(a, token).expect(200);
        expect(checks.count()).toBe(1);
        const expiresAt = expiryOf(token) * 1000;
        await new Promise((resolve) => setTimeout(resolve, expiresAt - Date.now() + 20));
        for (let i = 0; i < 2; i++) {
          const response = await me(a, token).expect(401);
          expect(response.body).toMatchObject({
            code: 'unauthenticated',
            detail: 'The access token has expired.',
          });
        }
        // Refused by the strategy each time: an expired token is not answered from memory.
        expect(checks.count()).toBe(3);
      } finally {
        checks.restore();
      }
    });

    it('never keeps a token whose signature is wrong, not even one whose genuine twin it kept', async () => {
      const user = await createStaff(a, 'admin');
      const token = a.sign(user.id);
      await me(a, token).expect(200);
      const [header, payload] = token.split('.');
      const forged = `${header}.${payload}.${Buffer.from('forged-signature').toString('base64url')}`;
      const checks = countSignatureChecks();
      try {
        for (let i = 0; i < 3; i++) {
          const response = await me(a, forged).expect(401);
          expect(response.body).toMatchObject({
            code: 'unauthenticated',
            detail: 'A valid bearer token or API key is required.',
          });
        }
        expect(checks.count()).toBe(3);
        await me(a, token).expect(200);
        expect(checks.count()).toBe(3);
      } finally {
        checks.restore();
      }
    });

    it('refuses a kept token once its member signs out or is deactivated, on every instance', async () => {
      const signedOut = await signedInTwice();
      const deactivated = await signedInTwice();
      for (const { tokens } of [signedOut, deactivated]) {
        for (const t of [a, b]) for (const token of tokens) await me(t, token).expect(200);
      }

      await request(b.http)
        .post('/api/v1/auth/logout')
        .set(bearer(signedOut.tokens[0]))
        .expect(204);
      await request(a.http)
        .patch(`/api/v1/users/${deactivated.user.id}`)
        .set(admin.header)
        .send({ active: false })
        .expect(200);

      for (const token of signedOut.tokens) await expectRevoked(token);
      for (const t of [a, b]) {
        for (const token of deactivated.tokens) {
          const response = await me(t, token).expect(401);
          expect(response.body.detail).toBe('The user of this token is unknown or inactive.');
        }
      }
    });
  });

  describe('npm run admin:reset-password', () => {
    it('sets a new strong password, revokes every token and returns the password once', async () => {
      const { user, tokens } = await signedInTwice();
      const reset = await resetStaffPassword(a.db, user.email.toUpperCase());
      expect(reset).toMatchObject({ email: user.email, active: true });
      expect(passwordWeakness(reset.password, user)).toBeNull();
      for (const token of tokens) await expectRevoked(token);
      await login(a, user.email, STAFF_PASSWORD, '10.25.0.1').expect(401);
      await login(b, user.email, reset.password, '10.25.0.1').expect(200);
    });

    it('refuses an unknown email and changes nothing', async () => {
      const before = await a.db.query('SELECT id, password_hash, token_version FROM staff_users');
      await expect(resetStaffPassword(a.db, 'nobody-at-all@example.com')).rejects.toThrow(
        'No staff user has the email nobody-at-all@example.com.',
      );
      expect(await a.db.query('SELECT id, password_hash, token_version FROM staff_users')).toEqual(
        before,
      );
    });

    it('works as a command against DATABASE_URL and prints the new password', async () => {
      const user = await createStaff(a, 'admin');
      const token = (await login(a, user.email, STAFF_PASSWORD, '10.26.0.1').expect(200)).body
        .access_token as string;
      // The command's source run through ts-node (swc, no type check): no build needed here.
      const { stdout } = await promisify(execFile)(
        process.execPath,
        ['-r', 'ts-node/register', 'src/auth/reset-password.command.ts', user.email],
        {
          cwd: `${__dirname}/../..`,
          env: {
            PATH: process.env.PATH,
            DATABASE_URL: a.database.url,
            TS_NODE_SWC: 'true',
            TS_NODE_TRANSPILE_ONLY: 'true',
          },
        },
      );
      const printed = /^New password of (\S+): (\S+)$/m.exec(stdout);
      expect(printed?.[1]).toBe(user.email);
      await expectRevoked(token);
      await login(b, user.email, printed![2], '10.26.0.1').expect(200);
    }, 90_000);
  });
});
