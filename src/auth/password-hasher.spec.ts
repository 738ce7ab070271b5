// The module object itself, through which the hasher calls argon2: a namespace import is a copy.
// eslint-disable-next-line @typescript-eslint/no-require-imports
import argon2 = require('@node-rs/argon2');
import {
  HasherBusyError,
  MAX_CONCURRENT_HASHES,
  MAX_QUEUED_LOGIN_HASHES,
  PasswordHasher,
} from './password-hasher';

describe('PasswordHasher', () => {
  afterEach(() => jest.restoreAllMocks());

  /** Counts the argon2 computations running at once; each still runs for real. */
  function watchArgon2() {
    const seen = { running: 0, most: 0, started: 0 };
    const real = argon2.verify;
    jest.spyOn(argon2, 'verify').mockImplementation(async (...args) => {
      seen.started += 1;
      seen.running += 1;
      seen.most = Math.max(seen.most, seen.running);
      try {
        return await real(...args);
      } finally {
        seen.running -= 1;
      }
    });
    return seen;
  }

  it('checks a right and a wrong password', async () => {
    const hasher = new PasswordHasher();
    const hash = await hasher.hash('a right password, long enough');
    expect(hash).toMatch(/^\$argon2id\$/);
    await expect(hasher.verify(hash, 'a right password, long enough')).resolves.toBe(true);
    await expect(hasher.verify(hash, 'a wrong password, long enough')).resolves.toBe(false);
    await expect(hasher.verify('not a hash', 'anything')).resolves.toBe(false);
  });

  it(`runs at most ${MAX_CONCURRENT_HASHES} argon2 computations at once; the others wait their turn`, async () => {
    const hasher = new PasswordHasher();
    const hash = await hasher.hash('a right password, long enough');
    const seen = watchArgon2();
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => hasher.verify(hash, `guess ${i}`)),
    );
    expect(results).toEqual(Array.from({ length: 20 }, () => false));
    expect(seen.started).toBe(20);
    expect(seen.most).toBe(MAX_CONCURRENT_HASHES);
  });

  it(`refuses a login check beyond ${MAX_QUEUED_LOGIN_HASHES} waiting instead of queueing it`, async () => {
    const hasher = new PasswordHasher();
    const hash = await hasher.hash('a right password, long enough');
    const seen = watchArgon2();
    const burst = MAX_CONCURRENT_HASHES + MAX_QUEUED_LOGIN_HASHES + 12;
    const outcomes = await Promise.allSettled(
      Array.from({ length: burst }, (_, i) =>
        hasher.verify(hash, `guess ${i}`, { failWhenBusy: true }),
      ),
    );
    const refused = outcomes.filter((o) => o.status === 'rejected');
    expect(refused).toHaveLength(12);
    for (const r of refused) expect(r.reason).toBeInstanceOf(HasherBusyError);
    expect(seen.started).toBe(MAX_CONCURRENT_HASHES + MAX_QUEUED_LOGIN_HASHES);
    expect(seen.most).toBe(MAX_CONCURRENT_HASHES);
    // The slots are all given back: a later check runs at once.
    await expect(hasher.verify(hash, 'a right password, long enough')).resolves.toBe(true);
  });
});
