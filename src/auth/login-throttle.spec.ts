import { loadConfig } from '../config/app-config';
import { LoginThrottle } from './login-throttle';

describe('LoginThrottle', () => {
  const config = loadConfig({ LOGIN_MAX_FAILURES: '3', LOGIN_WINDOW_SECONDS: '60' });

  it('blocks an email after the allowed failures until the window ends', () => {
    const throttle = new LoginThrottle(config);
    const t0 = 1_000_000;
    for (let i = 0; i < 3; i++) {
      expect(throttle.retryAfter('a@x.io', '10.0.0.1', t0)).toBe(0);
      throttle.recordFailure('a@x.io', '10.0.0.1', t0);
    }
    expect(throttle.retryAfter('a@x.io', '10.0.0.2', t0)).toBe(60);
    expect(throttle.retryAfter('b@x.io', '10.0.0.2', t0)).toBe(0);
    expect(throttle.retryAfter('a@x.io', '10.0.0.2', t0 + 60_000)).toBe(0);
  });

  it('blocks an IP that tries many emails', () => {
    const throttle = new LoginThrottle(config);
    for (let i = 0; i < 12; i++) throttle.recordFailure(`u${i}@x.io`, '10.0.0.9', 0);
    expect(throttle.retryAfter('new@x.io', '10.0.0.9', 0)).toBeGreaterThan(0);
    expect(throttle.retryAfter('new@x.io', '10.0.0.8', 0)).toBe(0);
  });

  it('forgets an email’s failures after a successful login', () => {
    const throttle = new LoginThrottle(config);
    for (let i = 0; i < 3; i++) throttle.recordFailure('a@x.io', `10.0.1.${i}`, 0);
    throttle.recordSuccess('a@x.io');
    expect(throttle.retryAfter('a@x.io', '10.0.2.1', 0)).toBe(0);
  });
});
