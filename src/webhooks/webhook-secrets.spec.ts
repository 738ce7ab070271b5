import { Webhook } from 'standardwebhooks';
import { generateSecret, openSecret, SEALED_PREFIX, sealSecret } from './webhook-secrets';

const KEY = 'a-configured-key-of-at-least-32-characters';

describe('webhook secrets', () => {
  it('generates whsec_ secrets of 24 random bytes that the standard library accepts', () => {
    const secret = generateSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/);
    expect(Buffer.from(secret.slice('whsec_'.length), 'base64')).toHaveLength(24);
    expect(generateSecret()).not.toBe(secret);
    const signature = new Webhook(secret).sign('msg_1', new Date(), '{}');
    expect(signature).toMatch(/^v1,/);
  });

  it('stores a secret as given when no key is configured', () => {
    const secret = generateSecret();
    expect(sealSecret(secret, undefined)).toBe(secret);
    expect(openSecret(secret, undefined)).toBe(secret);
  });

  it('encrypts with a key, differently each time, and decrypts back', () => {
    const secret = generateSecret();
    const first = sealSecret(secret, KEY);
    const second = sealSecret(secret, KEY);
    expect(first.startsWith(SEALED_PREFIX)).toBe(true);
    expect(first).not.toContain(secret.slice('whsec_'.length));
    expect(first).not.toBe(second);
    expect(openSecret(first, KEY)).toBe(secret);
    expect(openSecret(second, KEY)).toBe(secret);
  });

  it('still reads secrets stored before the key was configured', () => {
    const secret = generateSecret();
    expect(openSecret(secret, KEY)).toBe(secret);
  });

  it('refuses an encrypted secret without the key, with another key, or tampered, never echoing it', () => {
    const secret = generateSecret();
    const sealed = sealSecret(secret, KEY);
    const attempts = [
      () => openSecret(sealed, undefined),
      () => openSecret(sealed, `${KEY}-but-another`),
      () => openSecret(sealed.slice(0, -2) + (sealed.endsWith('AA') ? 'BB' : 'AA'), KEY),
      () => openSecret(`${SEALED_PREFIX}short`, KEY),
    ];
    for (const attempt of attempts) {
      expect(attempt).toThrow(/webhook secret|WEBHOOK_SECRETS_KEY/);
      try {
        attempt();
      } catch (error) {
        expect((error as Error).message).not.toContain(secret);
      }
    }
  });
});
