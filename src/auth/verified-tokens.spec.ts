import { VerifiedTokens } from './verified-tokens';

const SUB = '5b0f3c9e-2d7a-4e61-9c38-1f4a6b2d8e70';
/** 2026-11-27T12:00:00Z, in seconds. */
const T = 1_795_780_800;

describe('VerifiedTokens', () => {
  it('answers a kept token while it is still within its time bounds', () => {
    const tokens = new VerifiedTokens(10);
    tokens.remember('a.b.c', { sub: SUB, ver: 3, exp: T + 60 });
    expect(tokens.get('a.b.c', T * 1000)).toEqual({ sub: SUB, ver: 3, exp: T + 60 });
    expect(tokens.get('a.b.c', (T + 59) * 1000 + 999)).toEqual({ sub: SUB, ver: 3, exp: T + 60 });
  });

  it('refuses a kept token from the second of its exp on, as jsonwebtoken does, and forgets it', () => {
    const tokens = new VerifiedTokens(10);
    tokens.remember('a.b.c', { sub: SUB, ver: 0, exp: T + 60 });
    expect(tokens.get('a.b.c', (T + 60) * 1000)).toBeUndefined();
    // Gone, not only refused: a clock set back does not bring it back.
    expect(tokens.get('a.b.c', T * 1000)).toBeUndefined();
    expect(tokens.size).toBe(0);
  });

  it('refuses a kept token before its nbf (a clock set back)', () => {
    const tokens = new VerifiedTokens(10);
    tokens.remember('a.b.c', { sub: SUB, ver: 0, nbf: T, exp: T + 60 });
    expect(tokens.get('a.b.c', (T - 1) * 1000)).toBeUndefined();
  });

  it('keeps nothing whose time bounds are not numbers', () => {
    const tokens = new VerifiedTokens(10);
    tokens.remember('a.b.c', { sub: SUB, ver: 0, exp: '9999999999' as unknown as number });
    tokens.remember('d.e.f', { sub: SUB, ver: 0, exp: T + 60, nbf: Number.NaN });
    expect(tokens.size).toBe(0);
  });

  it('answers only the exact token text', () => {
    const tokens = new VerifiedTokens(10);
    tokens.remember('a.b.c', { sub: SUB, ver: 0, exp: T + 60 });
    expect(tokens.get('a.b.c ', T * 1000)).toBeUndefined();
    expect(tokens.get('a.b.C', T * 1000)).toBeUndefined();
    expect(tokens.get('a.b', T * 1000)).toBeUndefined();
  });

  it('keeps at most its bound, pushing out the least recently used token', () => {
    const tokens = new VerifiedTokens(2);
    tokens.remember('one', { sub: SUB, ver: 0, exp: T + 60 });
    tokens.remember('two', { sub: SUB, ver: 0, exp: T + 60 });
    expect(tokens.get('one', T * 1000)).toBeDefined();
    tokens.remember('three', { sub: SUB, ver: 0, exp: T + 60 });
    expect(tokens.size).toBe(2);
    expect(tokens.get('two', T * 1000)).toBeUndefined();
    expect(tokens.get('one', T * 1000)).toBeDefined();
    expect(tokens.get('three', T * 1000)).toBeDefined();
  });

  it('keeps a copy that cannot be changed through what it answers', () => {
    const tokens = new VerifiedTokens(10);
    const verified = { sub: SUB, ver: 1, exp: T + 60 };
    tokens.remember('a.b.c', verified);
    verified.ver = 2;
    const kept = tokens.get('a.b.c', T * 1000)!;
    expect(kept.ver).toBe(1);
    expect(Object.isFrozen(kept)).toBe(true);
  });
});
