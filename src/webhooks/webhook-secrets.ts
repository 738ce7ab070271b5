import { createCipheriv, createDecipheriv, hash, randomBytes } from 'node:crypto';

/** The Standard Webhooks prefix of a signing secret. */
export const SECRET_PREFIX = 'whsec_';
/** The prefix of a secret encrypted at rest; the version names the scheme. */
export const SEALED_PREFIX = 'enc:v1:';

const IV_BYTES = 12;
const TAG_BYTES = 16;

/** A new signing secret: `whsec_` + base64 of 24 random bytes, as Standard Webhooks gives them. */
export function generateSecret(): string {
  return SECRET_PREFIX + randomBytes(24).toString('base64');
}

/** AES-256 wants 32 bytes: the configured key (32+ characters of any kind) is hashed to them. */
function aesKey(key: string): Buffer {
  return Buffer.from(hash('sha256', key, 'hex'), 'hex');
}

/**
 * The secret as stored: with a key, `enc:v1:` + base64url(IV ‖ ciphertext ‖ tag) of AES-256-GCM
 * (a random 12-byte IV each time), so that a copy of the table does not sign anything; without
 * one, as the standard gives it.
 */
export function sealSecret(secret: string, key: string | undefined): string {
  if (key === undefined) return secret;
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', aesKey(key), iv);
  const ciphertext = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
  return SEALED_PREFIX + Buffer.concat([iv, ciphertext, cipher.getAuthTag()]).toString('base64url');
}

/**
 * The `whsec_` secret from its stored form, whichever it is: secrets saved before a key was
 * configured stay readable. A sealed secret without the key, or with another key, throws (GCM's
 * tag check): the message never includes the secret.
 */
export function openSecret(stored: string, key: string | undefined): string {
  if (!stored.startsWith(SEALED_PREFIX)) return stored;
  if (key === undefined) {
    throw new Error('A webhook secret is encrypted, and WEBHOOK_SECRETS_KEY is not set');
  }
  const sealed = Buffer.from(stored.slice(SEALED_PREFIX.length), 'base64url');
  if (sealed.length <= IV_BYTES + TAG_BYTES) throw new Error('A webhook secret is malformed');
  const iv = sealed.subarray(0, IV_BYTES);
  const tag = sealed.subarray(sealed.length - TAG_BYTES);
  const decipher = createDecipheriv('aes-256-gcm', aesKey(key), iv);
  decipher.setAuthTag(tag);
  try {
    return Buffer.concat([
      decipher.update(sealed.subarray(IV_BYTES, sealed.length - TAG_BYTES)),
      decipher.final(),
    ]).toString('utf8');
  } catch {
    throw new Error('A webhook secret does not decrypt with WEBHOOK_SECRETS_KEY');
  }
}
