import { Check, Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/**
 * `checkpoint`: the head signed on a schedule or on demand. `archive`: the last entry that
 * `npm run audit:archive` removed, signed before it did, so that the chain left in the table
 * still starts from a signed hash.
 */
export type AuditCheckpointKind = 'checkpoint' | 'archive';

/**
 * A signed statement "entry `seq` has hash `hash`" (Ed25519 over `seq.hash.signed_at`, with the
 * key of AUDIT_SIGNING_KEY). Whoever holds the database's keys can rewrite the chain and
 * recompute every hash, but cannot sign: a checkpoint then no longer matches. Append-only.
 */
@Entity({ name: 'audit_checkpoints' })
@Check('ck_audit_checkpoints_kind', `kind IN ('checkpoint', 'archive')`)
@Index('ix_audit_checkpoints_seq_signed_at', ['seq', 'signedAt'])
@Index('ix_audit_checkpoints_signed_at_id', ['signedAt', 'id'])
export class AuditCheckpoint {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'pk_audit_checkpoints' })
  id: string;

  @Column({ type: 'text' })
  kind: AuditCheckpointKind;

  @Column({ type: 'bigint' })
  seq: string;

  @Column({ type: 'text' })
  hash: string;

  @Column({ name: 'signed_at', type: 'timestamptz', precision: 3 })
  signedAt: Date;

  /** Base64 Ed25519 signature of `${seq}.${hash}.${signed_at}` (signed_at as ISO 8601, ms). */
  @Column({ type: 'text' })
  signature: string;

  /** Lower-case hex SHA-256 of the raw 32-byte public key. */
  @Column({ name: 'key_id', type: 'text' })
  keyId: string;

  /** The raw 32-byte Ed25519 public key, base64. */
  @Column({ name: 'public_key', type: 'text' })
  publicKey: string;
}
