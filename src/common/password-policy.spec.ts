import { ConfigError, loadConfig } from '../config/app-config';
import { generatePassword, passwordWeakness } from './password-policy';

describe('password policy', () => {
  const owner = { email: 'grace.hopper@example.com', name: 'Grace Hopper' };

  it.each([
    ['twelve spaces', ' '.repeat(12)],
    ['password1234', 'password1234'],
    ['the email', owner.email],
    ['the email and a digit', `${owner.email}1`],
    ['the email in capitals', `Mine:${owner.email.toUpperCase()}!`],
    ['the local part', 'grace.hopper-Zq8#vL2m'],
    ['the name', 'HopperGrace'],
  ])('refuses %s', (_, password) => {
    expect(passwordWeakness(password, owner)).toEqual(expect.any(String));
  });

  it('accepts a long random passphrase', () => {
    expect(passwordWeakness('violet-harbour-lantern-93', owner)).toBeNull();
  });

  it('generates passwords that pass it', () => {
    for (let i = 0; i < 3; i++) expect(passwordWeakness(generatePassword(owner), owner)).toBeNull();
  });

  it('judges a long password by its first 40 characters', () => {
    expect(passwordWeakness(`${'a1!'.repeat(14)}${'Zq8#vL2m'.repeat(20)}`, owner)).toEqual(
      expect.any(String),
    );
    expect(passwordWeakness('violet-harbour-lantern-93'.padEnd(256, 'x'), owner)).toBeNull();
  });

  it.each([
    ['password1234', /ADMIN_PASSWORD is too weak: it is too easy to guess/],
    ['boss@example.com', /ADMIN_PASSWORD is too weak: it must not contain the email/],
    ['boss-quartz-lantern-93', /ADMIN_PASSWORD is too weak: it must not contain the email/],
  ])(
    'refuses to start with the weak ADMIN_PASSWORD %j, naming the variable',
    (password, message) => {
      let error: unknown;
      try {
        loadConfig({ ADMIN_EMAIL: 'boss@example.com', ADMIN_PASSWORD: password });
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).message).toMatch(message);
    },
  );

  it('refuses a weak ADMIN_PASSWORD for the default admin email too', () => {
    expect(() => loadConfig({ ADMIN_PASSWORD: 'admin@example.com' })).toThrow(/ADMIN_PASSWORD/);
    expect(loadConfig({ ADMIN_PASSWORD: 'violet-harbour-lantern-93' }).adminPassword).toBe(
      'violet-harbour-lantern-93',
    );
  });
});
