import { generateKeyPairSync } from 'node:crypto';
import {
  checkpointMessage,
  parseSigningKey,
  publicKeyFacts,
  publicKeyFromRaw,
  signMessage,
  verifyMessage,
} from './signing-key';

describe('the audit signing key', () => {
  it('reads a base64 seed and the PKCS#8 PEM of the same key as one key', () => {
    const seed = Buffer.alloc(32, 5);
    const fromSeed = parseSigningKey(seed.toString('base64'));
    const pem = fromSeed.export({ format: 'pem', type: 'pkcs8' }).toString();
    const fromPem = parseSigningKey(pem);
    // Environments often carry a PEM on one line with \n for its breaks.
    const fromEscaped = parseSigningKey(pem.replace(/\n/g, '\\n'));
    const facts = publicKeyFacts(fromSeed);
    expect(publicKeyFacts(fromPem)).toEqual(facts);
    expect(publicKeyFacts(fromEscaped)).toEqual(facts);
    expect(Buffer.from(facts.raw, 'base64')).toHaveLength(32);
    expect(facts.keyId).toMatch(/^[0-9a-f]{64}$/);
    expect(facts.pem).toMatch(/^-----BEGIN PUBLIC KEY-----/);
  });

  it('signs seq.hash.signed_at so that the raw public key verifies it, and nothing else', () => {
    const key = parseSigningKey(Buffer.alloc(32, 6).toString('base64'));
    const message = checkpointMessage(42, 'a'.repeat(64), '2026-11-27T10:00:00.000Z');
    expect(message).toBe(`42.${'a'.repeat(64)}.2026-11-27T10:00:00.000Z`);
    const signature = signMessage(key, message);
    const publicKey = publicKeyFromRaw(publicKeyFacts(key).raw);
    expect(verifyMessage(publicKey, message, signature)).toBe(true);
    expect(verifyMessage(publicKey, message.replace('42.', '43.'), signature)).toBe(false);
    expect(verifyMessage(publicKey, message, 'not a signature')).toBe(false);
  });

  it('refuses another kind of key and malformed input, saying why', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 })
      .privateKey.export({ format: 'pem', type: 'pkcs8' })
      .toString();
    expect(() => parseSigningKey(rsa)).toThrow('must be an Ed25519 key');
    expect(() => parseSigningKey(Buffer.alloc(31).toString('base64'))).toThrow(
      'must be a PKCS#8 PEM or the base64 of a 32-byte seed',
    );
    expect(() =>
      parseSigningKey('-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----'),
    ).toThrow('is not a readable PEM private key');
  });
});
