import { Check, Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

export const AUDIT_ACTIONS = [
  'customer.disabled',
  'customer.enabled',
  'hold.placed',
  'hold.lifted',
  'hold.expired',
  'hold.reviewed',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

export type AuditActorType = 'user' | 'api_key' | 'system';

/**
 * What an entry says the audited thing was before and after: a customer's `status` for a
 * transition, a hold's `state` for a hold entry (null before it was placed).
 */
export interface StatusSnapshot {
  status?: string;
  state?: string | null;
}

/**
 * One audited change. Append-only: the database refuses UPDATE, DELETE and TRUNCATE (see the
 * migration), and nothing references the actor or the customer by foreign key, so an entry
 * outlives a deleted user, a revoked key or anything else it names.
 */
@Entity({ name: 'audit_logs' })
@Check('ck_audit_logs_actor_type', `actor_type IN ('user', 'api_key', 'system')`)
// Each filter of GET /audit-logs walks its own index newest first by (created_at, id); the
// plain one serves the unfiltered list and from/to ranges.
@Index('ix_audit_logs_created_at_id', ['createdAt', 'id'])
@Index('ix_audit_logs_customer_id_created_at_id', ['customerId', 'createdAt', 'id'])
@Index('ix_audit_logs_actor_id_created_at_id', ['actorId', 'createdAt', 'id'])
@Index('ix_audit_logs_action_created_at_id', ['action', 'createdAt', 'id'])
export class AuditLog {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'pk_audit_logs' })
  id: string;

  @Column({ type: 'text' })
  action: AuditAction;

  @Column({ name: 'customer_id', type: 'uuid', nullable: true })
  customerId: string | null;

  @Column({ name: 'actor_type', type: 'text' })
  actorType: AuditActorType;

  /** Null for the `system` actor. */
  @Column({ name: 'actor_id', type: 'uuid', nullable: true })
  actorId: string | null;

  /** The actor's name when it acted: a later rename does not rewrite history. */
  @Column({ name: 'actor_name', type: 'text' })
  actorName: string;

  @Column({ type: 'text', nullable: true })
  reason: string | null;

  @Column({ type: 'jsonb' })
  before: StatusSnapshot;

  @Column({ type: 'jsonb' })
  after: StatusSnapshot;

  /** The hold the entry concerns (a hold entry, or the hold whose change made a transition). */
  @Column({ name: 'hold_id', type: 'uuid', nullable: true })
  holdId: string | null;

  /** When the change took effect: a scheduled boundary's instant, or the moment of the request. */
  @Column({ name: 'effective_at', type: 'timestamptz', precision: 3, nullable: true })
  effectiveAt: Date | null;

  @Column({ name: 'request_id', type: 'text', nullable: true })
  requestId: string | null;

  @Column({ type: 'text', nullable: true })
  ip: string | null;

  @Column({ name: 'user_agent', type: 'text', nullable: true })
  userAgent: string | null;

  @Column({ name: 'created_at', type: 'timestamptz', precision: 3, default: () => 'now()' })
  createdAt: Date;
}
