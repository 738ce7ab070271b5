import { Check, Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * The chain's one-row head: the last entry's seq, hash and time. Its row is what every append
 * locks at its commit (FOR UPDATE, in the audit_logs_seal trigger), so that entries are numbered
 * and linked one transaction at a time, in commit order. It always exists: the migration inserts it and a
 * trigger refuses to delete it.
 */
@Entity({ name: 'audit_chain_head' })
@Check('ck_audit_chain_head_one_row', `id`)
export class AuditChainHead {
  @PrimaryColumn({
    type: 'boolean',
    default: true,
    primaryKeyConstraintName: 'pk_audit_chain_head',
  })
  id: boolean;

  @Column({ type: 'bigint' })
  seq: string;

  @Column({ type: 'text' })
  hash: string;

  @Column({ name: 'created_at', type: 'timestamptz', precision: 3, nullable: true })
  createdAt: Date | null;
}
