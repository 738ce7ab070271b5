import { ChangeAwareCache } from './change-aware-cache';

function deferred<T>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

describe('ChangeAwareCache', () => {
  let usable: boolean;
  let cache: ChangeAwareCache<string>;

  beforeEach(() => {
    usable = true;
    cache = new ChangeAwareCache<string>({ maxEntries: 3, usable: () => usable });
  });

  it('answers from memory once loaded', async () => {
    const load = jest.fn(() => Promise.resolve('v1'));
    expect(await cache.get('a', load)).toBe('v1');
    expect(cache.get('a', load)).toBe('v1');
    expect(load).toHaveBeenCalledTimes(1);
  });

  it('does not keep a value whose read started before the key was invalidated', async () => {
    const read = deferred<string>();
    const pending = cache.get('a', () => read.promise);
    cache.invalidate('a'); // a change committed while the read was in flight
    read.resolve('stale');
    expect(await pending).toBe('stale'); // that request raced the change: it may see either
    expect(cache.peek('a')).toBeUndefined(); // but nobody after it does
    expect(await cache.get('a', () => Promise.resolve('fresh'))).toBe('fresh');
    expect(cache.peek('a')).toBe('fresh');
  });

  it('keeps a value read after the invalidation even while an older read is in flight', async () => {
    const old = deferred<string>();
    const oldRead = cache.get('a', () => old.promise);
    cache.invalidate('a');
    expect(await cache.get('a', () => Promise.resolve('fresh'))).toBe('fresh');
    old.resolve('stale');
    await oldRead;
    expect(cache.peek('a')).toBe('fresh');
  });

  it('does not keep values read before a clear or an invalidateWhere', async () => {
    const first = deferred<string>();
    const pendingFirst = cache.get('a', () => first.promise);
    cache.clear();
    first.resolve('stale');
    await pendingFirst;
    expect(cache.peek('a')).toBeUndefined();

    const second = deferred<string>();
    const pendingSecond = cache.get('b', () => second.promise);
    cache.invalidateWhere((value) => value === 'unrelated');
    second.resolve('stale');
    await pendingSecond;
    expect(cache.peek('b')).toBeUndefined();
  });

  it('drops only the matching entries on invalidateWhere', async () => {
    await cache.get('a', () => Promise.resolve('x'));
    await cache.get('b', () => Promise.resolve('y'));
    cache.invalidateWhere((value) => value === 'x');
    expect(cache.peek('a')).toBeUndefined();
    expect(cache.peek('b')).toBe('y');
  });

  it('neither answers nor stores while not usable', async () => {
    await cache.get('a', () => Promise.resolve('cached'));
    usable = false;
    expect(cache.peek('a')).toBeUndefined();
    expect(await cache.get('b', () => Promise.resolve('read'))).toBe('read');
    usable = true;
    expect(cache.peek('b')).toBeUndefined();
  });

  it('does not store a value that was read while it was not usable', async () => {
    usable = false;
    const read = deferred<string>();
    const pending = cache.get('a', () => read.promise);
    usable = true;
    cache.clear(); // what the change feed does when its connection is back
    read.resolve('read while blind');
    await pending;
    expect(cache.peek('a')).toBeUndefined();
  });

  it('drops the oldest entry beyond its size and never stores undefined or a failed read', async () => {
    for (const key of ['a', 'b', 'c', 'd']) await cache.get(key, () => Promise.resolve(key));
    expect(cache.size).toBe(3);
    expect(cache.peek('a')).toBeUndefined();
    expect(cache.peek('d')).toBe('d');

    const maybe = new ChangeAwareCache<string | undefined>({ maxEntries: 3, usable: () => true });
    await maybe.get('missing', () => Promise.resolve(undefined));
    expect(maybe.size).toBe(0);
    await expect(cache.get('e', () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(cache.peek('e')).toBeUndefined();
  });

  it('treats a hit at or after the value’s validUntil as a miss, and reloads', async () => {
    let now = 1000;
    const timed = new ChangeAwareCache<{ v: string; until: number | null }>({
      maxEntries: 3,
      usable: () => true,
      validUntil: (value) => value.until,
      now: () => now,
    });
    await timed.get('a', () => Promise.resolve({ v: 'before', until: 1500 }));
    now = 1499;
    expect(timed.peek('a')?.v).toBe('before');
    now = 1500;
    expect(timed.peek('a')).toBeUndefined();
    const reloaded = await timed.get('a', () => Promise.resolve({ v: 'after', until: null }));
    expect(reloaded.v).toBe('after');
    now = 1e12;
    expect(timed.peek('a')?.v).toBe('after');
  });
});
