/**
 * An in-process cache that never keeps a value read before a change it has been told of.
 *
 * The trap it avoids: a read starts, another request commits a change and the cache entry is
 * invalidated, then the read (which saw the old data) finishes and would store it, stale, for as
 * long as nothing else changes. So every load notes the generation of its key (bumped by
 * `invalidate(key)`) and the cache's epoch (bumped by `invalidateWhere` and `clear`) when it
 * starts, and stores its value only if neither moved meanwhile. Generations are kept only while a
 * load of the key is in flight, so they cost nothing for idle keys.
 *
 * In-flight loads are deliberately not shared between callers: a request that starts after an
 * invalidation must not be answered by a read that started before it.
 *
 * `usable()` false (the change feed is down, or caching is switched off) makes the cache neither
 * answer nor store: every call loads.
 *
 * A value may also know when it stops being true without any change being announced (a hold
 * starting or ending at a set instant): `validUntil(value)` gives that instant in ms (null: none),
 * and a hit at or after it is a miss. One number compare per hit.
 */
export class ChangeAwareCache<V> {
  private readonly entries = new Map<string, { value: V; until: number }>();
  private readonly loading = new Map<string, { count: number; generation: number }>();
  private epoch = 0;

  constructor(
    private readonly options: {
      /** Oldest entries are dropped beyond this size. */
      maxEntries: number;
      usable: () => boolean;
      /** The instant (ms) after which a value must be loaded again; null: until a change. */
      validUntil?: (value: V) => number | null;
      /** Now, in ms (the service's Clock); needed with validUntil. */
      now?: () => number;
    },
  ) {}

  get size(): number {
    return this.entries.size;
  }

  /** The cached value, without loading; undefined on a miss or when the cache is not usable. */
  peek(key: string): V | undefined {
    if (!this.options.usable()) return undefined;
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.until !== Infinity && this.options.now!() >= entry.until) return undefined;
    return entry.value;
  }

  /** The cached value, or `load()`'s, stored when nothing invalidated the key meanwhile. */
  get(key: string, load: () => Promise<V>): V | Promise<V> {
    const hit = this.peek(key);
    return hit !== undefined ? hit : this.load(key, load);
  }

  private async load(key: string, load: () => Promise<V>): Promise<V> {
    const epoch = this.epoch;
    let flight = this.loading.get(key);
    if (!flight) {
      flight = { count: 0, generation: 0 };
      this.loading.set(key, flight);
    }
    flight.count += 1;
    const generation = flight.generation;
    try {
      const value = await load();
      if (
        value !== undefined &&
        flight.generation === generation &&
        this.epoch === epoch &&
        this.options.usable()
      ) {
        this.store(key, value);
      }
      return value;
    } finally {
      flight.count -= 1;
      if (flight.count === 0 && this.loading.get(key) === flight) this.loading.delete(key);
    }
  }

  private store(key: string, value: V): void {
    if (!this.entries.has(key) && this.entries.size >= this.options.maxEntries) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    const until = this.options.validUntil?.(value) ?? null;
    this.entries.set(key, { value, until: until ?? Infinity });
  }

  invalidate(key: string): void {
    this.entries.delete(key);
    const flight = this.loading.get(key);
    if (flight) flight.generation += 1;
  }

  /** Drops the entries matching `predicate`, and every value being loaded now. */
  invalidateWhere(predicate: (value: V, key: string) => boolean): void {
    this.epoch += 1;
    for (const [key, entry] of this.entries) {
      if (predicate(entry.value, key)) this.entries.delete(key);
    }
  }

  clear(): void {
    this.epoch += 1;
    this.entries.clear();
  }
}
