import { createHash } from 'node:crypto';
import { AUDIT_HASH_EXAMPLE, ENTRY } from '../../test/support/audit-chain-example';
import {
  canonicalJson,
  encodeEntry,
  entryHash,
  GENESIS_HASH,
  microsecondTime,
} from './audit-chain-encoding';

describe('the audit chain encoding (docs/audit-chain.md)', () => {
  it('writes each field as its UTF-8 length, a colon and its bytes; null as -1:', () => {
    const encoded = encodeEntry(ENTRY);
    expect(
      encoded.startsWith('28:customer-access/audit-log/v1' + '1:7' + `64:${GENESIS_HASH}`),
    ).toBe(true);
    // "Zoë" is 4 bytes; the empty reason is not null.
    expect(encoded).toContain('4:Zoë0:');
    expect(encoded).toContain('-1:');
    expect(encoded).toContain('29:{"active":true,"role":"user"}');
    expect(encoded.endsWith('5:req-111:203.0.113.7-1:')).toBe(true);
    expect(entryHash(ENTRY)).toBe(
      createHash('sha256').update(Buffer.from(encoded, 'utf8')).digest('hex'),
    );
    // The example of docs/audit-chain.md, pinned: an outside implementation checks itself on it.
    expect(entryHash(ENTRY)).toBe(AUDIT_HASH_EXAMPLE);
  });

  it('changes the hash when any field changes, null and empty apart', () => {
    const hash = entryHash(ENTRY);
    expect(entryHash({ ...ENTRY, reason: null })).not.toBe(hash);
    expect(entryHash({ ...ENTRY, seq: '8' })).not.toBe(hash);
    expect(entryHash({ ...ENTRY, after: { role: 'admin', active: true } })).not.toBe(hash);
    // A value cannot slide into its neighbour: lengths delimit.
    expect(entryHash({ ...ENTRY, request_id: 'req-12', ip: '03.0.113.7' })).not.toBe(hash);
    expect(entryHash({ ...ENTRY })).toBe(hash);
  });

  it('writes JSON with sorted keys and no spaces, whatever the key order given', () => {
    expect(canonicalJson({ b: 1, a: [true, null, { d: 'x', c: 'é"' }] })).toBe(
      '{"a":[true,null,{"c":"é\\"","d":"x"}],"b":1}',
    );
    expect(canonicalJson({ a: undefined, b: 2 })).toBe('{"b":2}');
    expect(canonicalJson({})).toBe('{}');
    expect(canonicalJson('line\nbreak')).toBe('"line\\nbreak"');
  });

  it('gives times in UTC with six fractional digits', () => {
    expect(microsecondTime(new Date('2026-01-02T03:04:05.006Z'))).toBe(
      '2026-01-02T03:04:05.006000Z',
    );
  });
});
