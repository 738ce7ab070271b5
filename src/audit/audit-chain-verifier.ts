import { entryHash, GENESIS_HASH } from './audit-chain-encoding';
import { CHAIN_COLUMNS, ChainRow, hashedFields, Query } from './audit-chain-rows';
import { checkpointMessage, publicKeyFromRaw, verifyMessage } from '../common/signing-key';

/** Entries read per query: bounded memory whatever the range. */
export const VERIFY_BATCH = 5000;

/**
 * Why a chain is broken at a seq:
 * - `hash_mismatch`: the entry's fields no longer give its hash (it was edited);
 * - `link_broken`: its prev_hash is not the previous entry's hash (an entry was replaced);
 * - `missing_entry`: no entry has this seq (one was deleted);
 * - `checkpoint_mismatch`: a signed checkpoint says another hash at this seq (the chain was
 *   rewritten and rehashed from here or before);
 * - `checkpoint_signature_invalid`: a checkpoint of this seq does not verify (it was forged or
 *   edited);
 * - `anchor_missing`: the entries before this one are gone without an archive anchor signed by
 *   the current key;
 * - `head_mismatch`: the chain's head says another seq or hash than the last entry.
 */
export type BreakReason =
  | 'hash_mismatch'
  | 'link_broken'
  | 'missing_entry'
  | 'checkpoint_mismatch'
  | 'checkpoint_signature_invalid'
  | 'anchor_missing'
  | 'head_mismatch';

export interface SignedPoint {
  seq: number;
  hash: string;
  signed_at: string;
}

export type VerifyOutcome =
  | {
      ok: true;
      checked: number;
      from_seq: number | null;
      to_seq: number | null;
      head: { seq: number; hash: string };
      /** The latest checkpoint signed by the current key that the range was checked against. */
      checkpoint: SignedPoint | null;
    }
  | {
      ok: false;
      first_broken_seq: number;
      checked: number;
      reason: BreakReason;
      detail: string;
    };

interface CheckpointRow {
  kind: 'checkpoint' | 'archive';
  seq: string;
  hash: string;
  signed_at: Date;
  signature: string;
  key_id: string;
  public_key: string;
}

class Broken extends Error {
  constructor(
    readonly seq: number,
    readonly reason: BreakReason,
    detail: string,
  ) {
    super(detail);
  }
}

/**
 * Recomputes the chain over a range of seq, in batches, and checks every link, every hash, the
 * head, and every signed checkpoint in the range: a checkpoint's signature must verify with its
 * own public key, and the hash it signed must be the entry's. A rewrite of the whole chain by
 * whoever holds the database's keys, every hash recomputed, is found that way: they cannot sign.
 * The answer names the latest checkpoint of the current key (`trustedPublicKey`, raw base64) it
 * checked against; only that key's archive anchors may stand for archived entries.
 */
export class AuditChainVerifier {
  constructor(
    private readonly query: Query,
    private readonly trustedPublicKey: string,
  ) {}

  async verify(range: { fromSeq?: number; toSeq?: number } = {}): Promise<VerifyOutcome> {
    const [head] = await this.query<{ seq: string; hash: string }>(
      'SELECT seq, hash FROM audit_chain_head WHERE id',
    );
    const headSeq = Number(head.seq);
    const [{ min }] = await this.query<{ min: string | null }>(
      'SELECT min(seq)::text AS min FROM audit_logs',
    );
    const first = min === null ? headSeq + 1 : Number(min);
    const from = Math.max(range.fromSeq ?? 1, first, 1);
    const to = Math.min(range.toSeq ?? headSeq, headSeq);
    let checked = 0;
    let latest: SignedPoint | null = null;
    try {
      if (from > to) {
        // Nothing to recompute, but an empty table must agree with its head.
        if (min === null && headSeq > 0 && (range.toSeq ?? headSeq) >= headSeq) {
          await this.expectAnchor(headSeq + 1, head.hash);
        }
      } else {
        const checkpoints = await this.checkpoints(from - 1, to);
        let expectedPrev = await this.hashBefore(from, first);
        let expectedSeq = from;
        for (;;) {
          const rows = await this.query<ChainRow>(
            `SELECT ${CHAIN_COLUMNS} FROM audit_logs
              WHERE seq >= $1 AND seq <= $2 ORDER BY seq LIMIT $3`,
            [expectedSeq, to, VERIFY_BATCH],
          );
          for (const row of rows) {
            const seq = Number(row.seq);
            if (seq !== expectedSeq) {
              throw new Broken(expectedSeq, 'missing_entry', `No entry has seq ${expectedSeq}.`);
            }
            if (row.prev_hash !== expectedPrev) {
              throw new Broken(
                seq,
                'link_broken',
                `Entry ${seq}'s prev_hash is not the previous entry's hash.`,
              );
            }
            if (entryHash(hashedFields(row)) !== row.hash) {
              throw new Broken(seq, 'hash_mismatch', `Entry ${seq}'s fields do not give its hash.`);
            }
            for (const checkpoint of checkpoints.get(seq) ?? []) {
              if (checkpoint.hash !== row.hash) {
                throw new Broken(
                  seq,
                  'checkpoint_mismatch',
                  `A checkpoint signed ${checkpoint.signed_at.toISOString()} says entry ${seq} ` +
                    'has another hash: the chain was rewritten at or before this entry.',
                );
              }
              if (checkpoint.public_key === this.trustedPublicKey) {
                latest = {
                  seq,
                  hash: checkpoint.hash,
                  signed_at: checkpoint.signed_at.toISOString(),
                };
              }
            }
            expectedPrev = row.hash;
            expectedSeq = seq + 1;
            checked += 1;
          }
          if (rows.length < VERIFY_BATCH || expectedSeq > to) break;
        }
        if (expectedSeq <= to) {
          throw new Broken(expectedSeq, 'missing_entry', `No entry has seq ${expectedSeq}.`);
        }
        if (to === headSeq && expectedPrev !== head.hash) {
          throw new Broken(
            headSeq,
            'head_mismatch',
            `The chain's head disagrees with entry ${to}.`,
          );
        }
      }
      if (to === headSeq) await this.expectNothingSignedBeyond(headSeq);
    } catch (error) {
      if (!(error instanceof Broken)) throw error;
      return {
        ok: false,
        first_broken_seq: error.seq,
        checked,
        reason: error.reason,
        detail: error.message,
      };
    }
    return {
      ok: true,
      checked,
      from_seq: checked > 0 ? from : null,
      to_seq: checked > 0 ? to : null,
      head: { seq: headSeq, hash: head.hash },
      checkpoint: latest,
    };
  }

  /**
   * What entry `from`'s prev_hash must be: the genesis hash, the stored hash of the entry before
   * it, or, where the entries before it were archived, the hash of a signed archive anchor.
   */
  private async hashBefore(from: number, first: number): Promise<string> {
    if (from === 1) return GENESIS_HASH;
    if (from > first) {
      const [previous] = await this.query<{ hash: string }>(
        'SELECT hash FROM audit_logs WHERE seq = $1',
        [from - 1],
      );
      if (!previous) throw new Broken(from - 1, 'missing_entry', `No entry has seq ${from - 1}.`);
      return previous.hash;
    }
    const [entry] = await this.query<{ prev_hash: string }>(
      'SELECT prev_hash FROM audit_logs WHERE seq = $1',
      [from],
    );
    await this.expectAnchor(from, entry.prev_hash);
    return entry.prev_hash;
  }

  /** The entries before `seq` were archived: a signed anchor of the current key must say so. */
  private async expectAnchor(seq: number, hash: string): Promise<void> {
    const anchors = await this.query<CheckpointRow>(
      `SELECT kind, seq, hash, signed_at, signature, key_id, public_key
         FROM audit_checkpoints WHERE kind = 'archive' AND seq = $1`,
      [seq - 1],
    );
    const trusted = anchors.some(
      (anchor) =>
        anchor.public_key === this.trustedPublicKey && anchor.hash === hash && signedBy(anchor),
    );
    if (!trusted) {
      throw new Broken(
        seq,
        'anchor_missing',
        `The entries before ${seq} are gone, and no archive anchor signed by the current key ` +
          `vouches for entry ${seq - 1}'s hash.`,
      );
    }
  }

  /**
   * A checkpoint beyond the head means entries that were signed are gone with the head moved
   * back over them (the latest ones deleted): that chain is cut short.
   */
  private async expectNothingSignedBeyond(headSeq: number): Promise<void> {
    const beyond = await this.query<CheckpointRow>(
      `SELECT kind, seq, hash, signed_at, signature, key_id, public_key
         FROM audit_checkpoints WHERE seq > $1 ORDER BY seq LIMIT 1`,
      [headSeq],
    );
    if (beyond.length > 0 && signedBy(beyond[0])) {
      throw new Broken(
        headSeq + 1,
        'missing_entry',
        `A checkpoint signed entry ${beyond[0].seq}, but the chain ends at ${headSeq}: the latest ` +
          'entries were removed.',
      );
    }
  }

  /** The checkpoints of seq `from`..`to` by seq, each signature checked. */
  private async checkpoints(from: number, to: number): Promise<Map<number, CheckpointRow[]>> {
    const rows = await this.query<CheckpointRow>(
      `SELECT kind, seq, hash, signed_at, signature, key_id, public_key
         FROM audit_checkpoints WHERE seq >= $1 AND seq <= $2 ORDER BY seq, signed_at`,
      [from, to],
    );
    const bySeq = new Map<number, CheckpointRow[]>();
    for (const row of rows) {
      const seq = Number(row.seq);
      if (!signedBy(row)) {
        throw new Broken(
          seq,
          'checkpoint_signature_invalid',
          `A checkpoint of entry ${seq} does not verify with its own public key.`,
        );
      }
      bySeq.set(seq, [...(bySeq.get(seq) ?? []), row]);
    }
    return bySeq;
  }
}

function signedBy(row: CheckpointRow): boolean {
  try {
    return verifyMessage(
      publicKeyFromRaw(row.public_key),
      checkpointMessage(row.seq, row.hash, row.signed_at.toISOString()),
      row.signature,
    );
  } catch {
    return false;
  }
}
