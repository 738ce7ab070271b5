import request from 'supertest';
import { StaffUser } from '../../src/auth/entities/staff-user.entity';
import {
  createStaff,
  signIn,
  STAFF_PASSWORD,
  StaffSession,
  uniqueEmail,
} from '../support/factories';
import { startTestApp, TestApp } from '../support/test-app';

/** The weak passwords of the issue, for an owner whose email is `email`. */
const weakPasswords = (email: string): [string, string][] => [
  ['twelve spaces', ' '.repeat(12)],
  ['password1234', 'password1234'],
  ['the email itself', email],
  ['the email and a digit', `${email}1`],
  ['the email’s local part in a longer password', `${email.split('@')[0]}-Zq8#vL2m`],
];

describe('weak passwords are refused', () => {
  let t: TestApp;
  let admin: StaffSession;

  beforeAll(async () => {
    t = await startTestApp();
    admin = await signIn(t, 'admin');
  });
  afterAll(() => t.close());

  const users = () => t.db.getRepository(StaffUser);

  function expectWeak(response: request.Response, field: string): void {
    expect(response.body.code).toBe('validation_failed');
    expect(response.body.errors).toEqual([{ field, message: expect.any(String) }]);
    expect(response.body.detail).toMatch(new RegExp(`^The ${field} is too weak: it `));
  }

  describe('POST /users', () => {
    const email = uniqueEmail('newcomer');
    it.each(weakPasswords(email))(
      'refuses %s with 400 and creates nothing',
      async (_, password) => {
        const before = await users().count();
        const response = await request(t.http)
          .post('/api/v1/users')
          .set(admin.header)
          .send({ email, name: 'Newcomer', password, role: 'user' })
          .expect(400);
        expectWeak(response, 'password');
        expect(await users().count()).toBe(before);
        expect(await users().findOneBy({ email })).toBeNull();
      },
    );

    it('says why, with the estimator’s feedback', async () => {
      const response = await request(t.http)
        .post('/api/v1/users')
        .set(admin.header)
        .send({ email: uniqueEmail('x'), name: 'X', password: 'password1234', role: 'user' })
        .expect(400);
      expect(response.body.errors[0].message).toMatch(
        /too easy to guess \(strength \d of 4, 3 needed\)\. This is similar to a commonly used password/,
      );
    });

    it('refuses a password made of the user’s name', async () => {
      const response = await request(t.http)
        .post('/api/v1/users')
        .set(admin.header)
        .send({
          email: uniqueEmail('x'),
          name: 'Zebedee Quark',
          password: 'zebedeequark',
          role: 'user',
        })
        .expect(400);
      expectWeak(response, 'password');
    });

    it('accepts a strong one', async () => {
      await request(t.http)
        .post('/api/v1/users')
        .set(admin.header)
        .send({
          email: uniqueEmail('x'),
          name: 'X',
          password: 'violet-harbour-lantern-93',
          role: 'user',
        })
        .expect(201);
    });
  });

  describe('PATCH /users/{id}', () => {
    it.each(weakPasswords('placeholder@example.com').map(([name]) => [name]))(
      'refuses %s with 400 and leaves the password and tokens as they were',
      async (name) => {
        const user = await createStaff(t, 'user');
        const password = Object.fromEntries(weakPasswords(user.email))[name];
        const response = await request(t.http)
          .patch(`/api/v1/users/${user.id}`)
          .set(admin.header)
          .send({ password })
          .expect(400);
        expectWeak(response, 'password');
        expect(await users().findOneByOrFail({ id: user.id })).toMatchObject({
          passwordHash: user.passwordHash,
          tokenVersion: 0,
          updatedAt: user.updatedAt,
        });
      },
    );
  });

  describe('POST /auth/password', () => {
    it.each(weakPasswords('placeholder@example.com').map(([name]) => [name]))(
      'refuses %s with 400 and leaves the password and tokens as they were',
      async (name) => {
        const session = await signIn(t, 'user');
        const password = Object.fromEntries(weakPasswords(session.user.email))[name];
        const response = await request(t.http)
          .post('/api/v1/auth/password')
          .set(session.header)
          .send({ current_password: STAFF_PASSWORD, new_password: password })
          .expect(400);
        expectWeak(response, 'new_password');
        expect(await users().findOneByOrFail({ id: session.user.id })).toMatchObject({
          passwordHash: session.user.passwordHash,
          tokenVersion: 0,
        });
        await request(t.http).get('/api/v1/auth/me').set(session.header).expect(200);
      },
    );
  });
});
