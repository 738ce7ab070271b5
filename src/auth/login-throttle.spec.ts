import { loadConfig } from '../config/app-config';
import { LoginAttempt, LoginThrottle } from './login-throttle';

describe('LoginThrottle', () => {
  const config = loadConfig({ LOGIN_MAX_FAILURES: '3', LOGIN_WINDOW_SECONDS: '60' });

  const attempt = (throttle: LoginThrottle, email: string, ip: string, now = 0): LoginAttempt => {
    const reserved = throttle.reserve(email, ip, now);
    if ('retryAfter' in reserved) throw new Error(`refused for ${reserved.retryAfter} s`);
    return reserved;
  };
  const waitFor = (throttle: LoginThrottle, email: string, ip: string, now = 0): number => {
    const reserved = throttle.reserve(email, ip, now);
    if ('retryAfter' in reserved) return reserved.retryAfter;
    reserved.abandoned();
    return 0;
  };

  it('blocks an (email, IP) pair after the allowed failures until the window ends', () => {
    const throttle = new LoginThrottle(config);
    const t0 = 1_000_000;
    for (let i = 0; i < 3; i++) attempt(throttle, 'a@x.io', '10.0.0.1', t0).failed();
    expect(waitFor(throttle, 'a@x.io', '10.0.0.1', t0)).toBe(60);
    expect(waitFor(throttle, 'a@x.io', '10.0.0.2', t0)).toBe(0);
    expect(waitFor(throttle, 'b@x.io', '10.0.0.1', t0)).toBe(0);
    expect(waitFor(throttle, 'a@x.io', '10.0.0.1', t0 + 60_000)).toBe(0);
  });

  it('counts attempts still being checked, so a burst cannot pass the check together', () => {
    const throttle = new LoginThrottle(config);
    const pending = [0, 1, 2].map(() => attempt(throttle, 'a@x.io', '10.0.0.1'));
    expect(waitFor(throttle, 'a@x.io', '10.0.0.1')).toBe(60);
    // The right password refunds its attempt and forgets the pair's failures.
    pending[0].succeeded();
    expect(waitFor(throttle, 'a@x.io', '10.0.0.1')).toBe(0);
  });

  it('refunds an attempt that could not be checked without forgetting the others', () => {
    const throttle = new LoginThrottle(config);
    attempt(throttle, 'a@x.io', '10.0.0.1').failed();
    attempt(throttle, 'a@x.io', '10.0.0.1').failed();
    attempt(throttle, 'a@x.io', '10.0.0.1').abandoned();
    attempt(throttle, 'a@x.io', '10.0.0.1').failed();
    expect(waitFor(throttle, 'a@x.io', '10.0.0.1')).toBe(60);
  });

  it('blocks an email from every IP after four times the allowance, spread over IPs', () => {
    const throttle = new LoginThrottle(config);
    for (let i = 0; i < 12; i++) attempt(throttle, 'a@x.io', `10.0.1.${i}`).failed();
    expect(waitFor(throttle, 'a@x.io', '10.0.2.1')).toBe(60);
  });

  it('blocks an IP that tries many emails', () => {
    const throttle = new LoginThrottle(config);
    for (let i = 0; i < 12; i++) attempt(throttle, `u${i}@x.io`, '10.0.0.9').failed();
    expect(waitFor(throttle, 'new@x.io', '10.0.0.9')).toBeGreaterThan(0);
    expect(waitFor(throttle, 'new@x.io', '10.0.0.8')).toBe(0);
  });

  it('forgets an email’s failures after a successful login', () => {
    const throttle = new LoginThrottle(config);
    for (let i = 0; i < 11; i++) attempt(throttle, 'a@x.io', `10.0.1.${i}`).failed();
    attempt(throttle, 'a@x.io', '10.0.3.1').succeeded();
    for (let i = 0; i < 3; i++) attempt(throttle, 'a@x.io', `10.0.4.${i}`).failed();
    expect(waitFor(throttle, 'a@x.io', '10.0.2.1')).toBe(0);
  });
});
