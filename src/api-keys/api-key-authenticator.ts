import { TransactionHost } from '@nestjs-cls/transactional';
import { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { Injectable } from '@nestjs/common';
import type { ApiKeyActor } from '../access/actor';
import type { ApiKeyAuthenticator } from '../auth/authentication.guard';
import { ChangeAwareCache } from '../changes/change-aware-cache';
import { CustomerChangeFeed } from '../changes/customer-change-feed';
import { CustomerAccessReader } from '../customers/access/customer-access-reader';
import { hashApiKey, looksLikeApiKey } from './api-key-format';
import { ApiKey } from './entities/api-key.entity';

const MAX_CACHED_KEYS = 100_000;
/** Keys whose hash the fast lane remembers (the callers of a busy instance use a few each). */
const MAX_REMEMBERED_KEYS = 10_000;

/**
 * Resolves `X-API-Key` for the authentication guard. On the hot path: a format check, one
 * SHA-256 and a map lookup, no query (for the limits fast lane, a remembered key skips the
 * SHA-256). Live keys are cached by hash, and a key is dropped when its
 * revoke is committed by any instance, so a revoked key is refused from the next request on. Unknown keys are not cached (nothing to invalidate when a
 * key is created, and no memory for an attacker to fill).
 */
@Injectable()
export class CachedApiKeyAuthenticator implements ApiKeyAuthenticator {
  private readonly cache: ChangeAwareCache<ApiKeyActor | undefined>;
  /**
   * The hash of each key the fast lane found live, by the key as presented: a hit costs a map
   * lookup instead of a SHA-256. Only a memo of the hash: whether the key is live is still the
   * cache's answer on every request, so a revoke is heard exactly as before (and drops the key's
   * text from here on its next use). The keys' text is kept in the process's memory, where every
   * request carries it anyway; never written anywhere, and bounded.
   */
  private readonly hashes = new Map<string, string>();

  constructor(
    private readonly txHost: TransactionHost<TransactionalAdapterTypeOrm>,
    feed: CustomerChangeFeed,
    private readonly access: CustomerAccessReader,
  ) {
    // Its own cache, dropping only the revoked key: a revoke leaves every customer's limits
    // (and every other key) in memory.
    this.cache = feed.recordCache('api_key', {
      maxEntries: MAX_CACHED_KEYS,
      idOf: (actor) => actor?.id,
    });
  }

  authenticate(key: string): ApiKeyActor | null | Promise<ApiKeyActor | null> {
    if (!looksLikeApiKey(key)) return null;
    const hash = hashApiKey(key);
    const found = this.cache.get(hash, () => this.find(hash));
    return found instanceof Promise ? found.then((actor) => actor ?? null) : (found ?? null);
  }

  /**
   * The key's actor if the cache holds it and may be used now, else undefined (unknown, revoked,
   * not in memory: only `authenticate` can tell); never loads. For the limits fast lane.
   */
  cachedActorOf(key: string): ApiKeyActor | undefined {
    const known = this.hashes.get(key);
    if (known !== undefined) {
      const actor = this.cache.peek(known);
      // Revoked (or dropped from the cache): its text is forgotten too.
      if (actor === undefined) this.hashes.delete(key);
      return actor;
    }
    if (!looksLikeApiKey(key)) return undefined;
    const hash = hashApiKey(key);
    const actor = this.cache.peek(hash);
    if (actor !== undefined) {
      if (this.hashes.size >= MAX_REMEMBERED_KEYS) {
        this.hashes.delete(this.hashes.keys().next().value!);
      }
      this.hashes.set(key, hash);
    }
    return actor;
  }

  isCustomerDisabled(customerId: string): boolean | Promise<boolean> {
    return this.access.isDisabledNow(customerId);
  }

  private async find(hash: string): Promise<ApiKeyActor | undefined> {
    const key = await this.txHost.tx
      .getRepository(ApiKey)
      .createQueryBuilder('k')
      .select(['k.id', 'k.name', 'k.customerId'])
      .where('k.key_hash = :hash AND k.revoked_at IS NULL', { hash })
      .getOne();
    return key
      ? { type: 'api_key', id: key.id, name: key.name, customerId: key.customerId }
      : undefined;
  }
}
