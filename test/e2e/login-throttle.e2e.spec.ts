import request from 'supertest';
import { PasswordHasher } from '../../src/auth/password-hasher';
import { createStaff, STAFF_PASSWORD } from '../support/factories';
import { startTestApp, TestApp } from '../support/test-app';

/** LOGIN_MAX_FAILURES is 5 here (the default): per (email, IP) 5, per email 20, per IP 20. */
describe('login throttle against concurrent guesses', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ TRUST_PROXY: 'true' });
  });
  afterAll(() => t.close());
  afterEach(() => jest.restoreAllMocks());

  const login = (email: string, password: string, ip: string) =>
    request(t.http).post('/api/v1/auth/login').set('X-Forwarded-For', ip).send({ email, password });

  const statuses = (responses: { status: number }[]) =>
    responses.reduce<Record<number, number>>((counts, r) => {
      counts[r.status] = (counts[r.status] ?? 0) + 1;
      return counts;
    }, {});

  it('checks at most LOGIN_MAX_FAILURES of 40 concurrent guesses for one email from one IP; the rest get 429 with Retry-After', async () => {
    const admin = await createStaff(t, 'admin');
    // Counts the password checks; each still runs for real.
    const verify = jest.spyOn(t.app.get(PasswordHasher), 'verify');

    const burst = await Promise.all(
      Array.from({ length: 40 }, (_, i) => login(admin.email, `wrong guess ${i}`, '10.8.0.1')),
    );

    expect(verify).toHaveBeenCalledTimes(t.config.loginMaxFailures);
    expect(statuses(burst)).toEqual({ 401: 5, 429: 35 });
    for (const response of burst) {
      if (response.status === 401) {
        expect(response.body.code).toBe('invalid_credentials');
      } else {
        expect(response.body.code).toBe('too_many_attempts');
        const retryAfter = Number(response.headers['retry-after']);
        expect(retryAfter).toBeGreaterThan(0);
        expect(retryAfter).toBeLessThanOrEqual(t.config.loginWindowSeconds);
      }
    }

    // The guesser locked out only itself: the right password from the same IP waits too, the
    // owner elsewhere signs in.
    await login(admin.email, STAFF_PASSWORD, '10.8.0.1').expect(429);
    const owner = await login(admin.email, STAFF_PASSWORD, '10.8.9.9').expect(200);
    expect(owner.body.user.email).toBe(admin.email);
    expect(verify).toHaveBeenCalledTimes(t.config.loginMaxFailures + 1);
  });

  it('checks no more than the per-email allowance of a burst spread over 40 IPs', async () => {
    const admin = await createStaff(t, 'admin');
    const verify = jest.spyOn(t.app.get(PasswordHasher), 'verify');

    const burst = await Promise.all(
      Array.from({ length: 40 }, (_, i) => login(admin.email, `wrong guess ${i}`, `10.9.0.${i}`)),
    );

    const perEmail = t.config.loginMaxFailures * 4;
    expect(verify).toHaveBeenCalledTimes(perEmail);
    expect(statuses(burst)).toEqual({ 401: perEmail, 429: 40 - perEmail });
    // Now the email is locked from everywhere until the window ends.
    await login(admin.email, STAFF_PASSWORD, '10.9.1.1').expect(429);
  });

  it('counts a burst for an unknown email like one for a known email, with the decoy check', async () => {
    const verify = jest.spyOn(t.app.get(PasswordHasher), 'verify');
    const burst = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        login('nobody-here@example.com', `guess ${i}`, '10.10.0.1'),
      ),
    );
    expect(verify).toHaveBeenCalledTimes(t.config.loginMaxFailures);
    expect(statuses(burst)).toEqual({ 401: 5, 429: 35 });
    expect(burst.find((r) => r.status === 401)?.body).toMatchObject({
      code: 'invalid_credentials',
      detail: 'The email or password is wrong.',
    });
  });

  it('refunds the attempt of a right password, so it does not count towards a lockout', async () => {
    const user = await createStaff(t, 'user');
    for (let i = 0; i < 4; i++) await login(user.email, 'wrong password', '10.11.0.1').expect(401);
    // Success forgets the failures of this pair: five more wrong ones are checked again.
    await login(user.email, STAFF_PASSWORD, '10.11.0.1').expect(200);
    for (let i = 0; i < 5; i++) await login(user.email, 'wrong password', '10.11.0.1').expect(401);
    await login(user.email, STAFF_PASSWORD, '10.11.0.1').expect(429);
  });
});
