import { hash, randomBytes } from 'node:crypto';

const PREFIX = 'ca_';
/** `ca_` then 32 random bytes in base64url (43 characters): 256 bits, recognisable in a leak scan. */
const KEY_FORMAT = /^ca_[A-Za-z0-9_-]{43}$/;
const DISPLAY_LENGTH = PREFIX.length + 8;

export function generateApiKey(): string {
  return PREFIX + randomBytes(32).toString('base64url');
}

/** Cheap check before any lookup: anything else cannot be a key of ours. */
export function looksLikeApiKey(key: string): boolean {
  return KEY_FORMAT.test(key);
}

/**
 * SHA-256, hex. A key has 256 bits of entropy, so a slow password hash would add nothing but
 * latency on every request; the one-shot `crypto.hash` is the fastest way to it in Node (no
 * hasher object per call).
 */
export function hashApiKey(key: string): string {
  return hash('sha256', key);
}

/** What lists show to tell keys apart without revealing them. */
export function displayPrefix(key: string): string {
  return key.slice(0, DISPLAY_LENGTH);
}
