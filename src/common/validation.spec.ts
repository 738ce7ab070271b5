import { canonicalUuid, isUuid } from './validation';

describe('canonicalUuid', () => {
  const id = '0108d358-5b2e-4c1a-9f3e-a1b2c3d4e5f6';

  it('gives a uuid in any letter case in lower case', () => {
    expect(canonicalUuid(id.toUpperCase())).toBe(id);
    expect(canonicalUuid('0108D358-5b2E-4C1a-9F3e-A1b2C3d4E5f6')).toBe(id);
    expect(canonicalUuid(id)).toBe(id);
  });

  it('leaves anything that is not a uuid as it is, for the validators to refuse', () => {
    for (const value of [
      'NOT-A-UUID',
      `${id.toUpperCase()}X`,
      ` ${id.toUpperCase()}`,
      '',
      42,
      null,
    ]) {
      expect(canonicalUuid(value)).toBe(value);
    }
    expect(isUuid(canonicalUuid('NOT-A-UUID'))).toBe(false);
  });
});
