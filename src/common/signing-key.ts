import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  KeyObject,
  sign,
  verify,
} from 'node:crypto';

/** PKCS#8 DER of an Ed25519 private key, up to its 32-byte seed (RFC 8410). */
const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
/** SPKI DER of an Ed25519 public key, up to its 32 raw bytes. */
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

/**
 * The Ed25519 key that signs the audit chain's checkpoints, from AUDIT_SIGNING_KEY: a PKCS#8 PEM
 * (`openssl genpkey -algorithm ed25519`; `\n` may stand for its line breaks) or the base64 of a
 * 32-byte seed (`openssl rand -base64 32`). Throws a message naming what is wrong.
 */
export function parseSigningKey(raw: string): KeyObject {
  const text = raw.trim();
  if (text.includes('-----BEGIN')) {
    let key: KeyObject;
    try {
      key = createPrivateKey({ key: text.replace(/\\n/g, '\n'), format: 'pem' });
    } catch (error) {
      throw new Error(`is not a readable PEM private key (${(error as Error).message})`);
    }
    if (key.asymmetricKeyType !== 'ed25519') {
      throw new Error(`must be an Ed25519 key (this PEM holds ${key.asymmetricKeyType} key)`);
    }
    return key;
  }
  if (!/^[A-Za-z0-9+/]{43}=?$/.test(text)) {
    throw new Error('must be a PKCS#8 PEM or the base64 of a 32-byte seed');
  }
  const seed = Buffer.from(text, 'base64');
  if (seed.length !== 32) throw new Error('must be the base64 of exactly 32 bytes');
  return createPrivateKey({
    key: Buffer.concat([ED25519_PKCS8_PREFIX, seed]),
    format: 'der',
    type: 'pkcs8',
  });
}

/** What a checkpoint signs: `seq.hash.signed_at`, signed_at as ISO 8601 with milliseconds. */
export const checkpointMessage = (seq: string | number, hash: string, signedAt: string): string =>
  `${seq}.${hash}.${signedAt}`;

/** A public key, as the checkpoints and GET /audit-logs/public-key give it. */
export interface PublicKeyFacts {
  /** Raw 32-byte Ed25519 public key, base64. */
  raw: string;
  /** SPKI PEM, for openssl and Node's crypto.verify. */
  pem: string;
  /** Lower-case hex SHA-256 of the raw key. */
  keyId: string;
}

export function publicKeyFacts(key: KeyObject): PublicKeyFacts {
  const publicKey = key.type === 'private' ? createPublicKey(key) : key;
  const spki = publicKey.export({ format: 'der', type: 'spki' });
  const raw = spki.subarray(ED25519_SPKI_PREFIX.length);
  return {
    raw: raw.toString('base64'),
    pem: publicKey.export({ format: 'pem', type: 'spki' }).toString(),
    keyId: createHash('sha256').update(raw).digest('hex'),
  };
}

/** The public key from its raw base64 form, as a checkpoint row stores it. */
export function publicKeyFromRaw(raw: string): KeyObject {
  return createPublicKey({
    key: Buffer.concat([ED25519_SPKI_PREFIX, Buffer.from(raw, 'base64')]),
    format: 'der',
    type: 'spki',
  });
}

/** A signing key made for this process only (outside production, when none is configured). */
export function generateSigningKey(): KeyObject {
  return generateKeyPairSync('ed25519').privateKey;
}

export function signMessage(key: KeyObject, message: string): string {
  return sign(null, Buffer.from(message, 'utf8'), key).toString('base64');
}

export function verifyMessage(publicKey: KeyObject, message: string, signature: string): boolean {
  try {
    return verify(null, Buffer.from(message, 'utf8'), publicKey, Buffer.from(signature, 'base64'));
  } catch {
    return false;
  }
}
