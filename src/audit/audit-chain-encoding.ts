import { createHash } from 'node:crypto';

/**
 * The hash chain's encoding (docs/audit-chain.md), in TypeScript. The database computes it when
 * an entry is written (audit_entry_hash() in the AuditChain migration); the service recomputes it
 * here to verify, and scripts/verify-audit-export.mjs does the same outside the service: three
 * implementations that the tests hold to one another.
 */

/** The prev_hash of the first entry. */
export const GENESIS_HASH = '0'.repeat(64);

/** The first field of every encoded entry: names the encoding, so that it can change later. */
export const AUDIT_HASH_FORMAT = 'customer-access/audit-log/v1';

/** An entry as hashed: every field as text, times at microsecond precision. */
export interface HashedFields {
  seq: string;
  prev_hash: string;
  id: string;
  created_at: string;
  action: string;
  customer_id: string | null;
  target_type: string | null;
  target_id: string | null;
  hold_id: string | null;
  actor_type: string;
  actor_id: string | null;
  actor_name: string;
  reason: string | null;
  before: unknown;
  after: unknown;
  effective_at: string | null;
  request_id: string | null;
  ip: string | null;
  user_agent: string | null;
}

/** `2026-11-27T09:05:00.123000Z`: UTC, six fractional digits (stored times have three). */
export function microsecondTime(time: Date): string {
  const iso = time.toISOString();
  return `${iso.slice(0, 23)}000Z`;
}

const byUtf8 = (a: string, b: string): number => Buffer.compare(Buffer.from(a), Buffer.from(b));

/**
 * JSON with object keys sorted (by their UTF-8 bytes) and no whitespace; strings and numbers as
 * JSON.stringify writes them. The entries' before/after hold strings, booleans, integers, null,
 * arrays and objects only.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const object = value as Record<string, unknown>;
  const keys = Object.keys(object)
    .filter((key) => object[key] !== undefined)
    .sort(byUtf8);
  return `{${keys.map((key) => `${JSON.stringify(key)}:${canonicalJson(object[key])}`).join(',')}}`;
}

/** `<UTF-8 byte length>:<the bytes>`, or `-1:` for null. */
function field(value: string | null): string {
  return value === null ? '-1:' : `${Buffer.byteLength(value, 'utf8')}:${value}`;
}

/** The bytes that are hashed, as a string (UTF-8 when hashed). */
export function encodeEntry(entry: HashedFields): string {
  return [
    AUDIT_HASH_FORMAT,
    entry.seq,
    entry.prev_hash,
    entry.id,
    entry.created_at,
    entry.action,
    entry.customer_id,
    entry.target_type,
    entry.target_id,
    entry.hold_id,
    entry.actor_type,
    entry.actor_id,
    entry.actor_name,
    entry.reason,
    canonicalJson(entry.before),
    canonicalJson(entry.after),
    entry.effective_at,
    entry.request_id,
    entry.ip,
    entry.user_agent,
  ]
    .map(field)
    .join('');
}

/** Lower-case hex SHA-256 of the encoded entry. */
export function entryHash(entry: HashedFields): string {
  return createHash('sha256').update(encodeEntry(entry), 'utf8').digest('hex');
}
