import { randomUUID } from 'node:crypto';
import { hexNumber, hexWords, IdTable, isCanonicalUuid, uuidWords } from './id-table';

describe('uuidWords', () => {
  it('reads the 128 bits of a canonical uuid', () => {
    const words = new Uint32Array(4);
    expect(uuidWords('01234567-89ab-cdef-0123-456789abcdef', words)).toBe(true);
    expect([...words]).toEqual([0x01234567, 0x89abcdef, 0x01234567, 0x89abcdef]);
  });

  it.each([
    ['upper case', '01234567-89AB-CDEF-0123-456789ABCDEF'],
    ['no dashes', '0123456789abcdef0123456789abcdef'],
    ['a dash moved', '0123456-789ab-cdef-0123-456789abcdef'],
    ['a letter past f', '01234567-89ab-cdef-0123-456789abcdeg'],
    ['too short', '01234567-89ab-cdef-0123-456789abcde'],
    ['non-ASCII', '01234567-89ab-cdef-0123-456789abcdeé'],
  ])('refuses %s', (_, id) => {
    expect(uuidWords(id, new Uint32Array(4))).toBe(false);
    expect(isCanonicalUuid(id)).toBe(false);
  });

  it('reads the same bits from 32 hex digits inside a longer text', () => {
    const id = randomUUID();
    const text = `xx${id.replaceAll('-', '')}00002a`;
    const [a, b] = [new Uint32Array(4), new Uint32Array(4)];
    uuidWords(id, a);
    expect(hexWords(text, 2, b)).toBe(true);
    expect([...b]).toEqual([...a]);
    expect(hexNumber(text, 34, 40)).toBe(42);
    expect(hexNumber('zz', 0, 2)).toBeNaN();
  });
});

describe('IdTable', () => {
  it('gives dense slots in order of arrival, the same one again for a known id', () => {
    const table = new IdTable(4);
    const [a, b] = [randomUUID(), randomUUID()];
    expect(table.slotOf(a)).toBe(0);
    expect(table.slotOf(b)).toBe(1);
    expect(table.slotOf(a)).toBe(0);
    expect(table.get(b)).toBe(1);
    expect(table.get(randomUUID())).toBeUndefined();
    expect(table.get('not-a-uuid')).toBeUndefined();
    expect(table.get(a.toUpperCase())).toBeUndefined();
    expect(table.size).toBe(2);
    expect(() => table.slotOf('not-a-uuid')).toThrow(/Not a uuid/);
  });

  it('keeps every id as it grows far past its first capacity, random or not', () => {
    const table = new IdTable(2);
    const ids = Array.from({ length: 50_000 }, (_, i) =>
      // Half random, half sequential (ids need not be random: uuid v7 starts with a clock).
      i % 2 ? randomUUID() : `00000000-0000-7000-8000-${i.toString(16).padStart(12, '0')}`,
    );
    ids.forEach((id, i) => expect(table.slotOf(id)).toBe(i));
    expect(table.size).toBe(ids.length);
    expect(ids.every((id, i) => table.get(id) === i)).toBe(true);
  });
});
