import { Check, Column, Entity, Index, PrimaryGeneratedColumn, Unique } from 'typeorm';
import { ACTOR_TYPES, type ActorType } from '../../access/actor';
import { sqlList } from '../../common/sql';

export const AUDIT_ACTIONS = [
  'customer.disabled',
  'customer.enabled',
  'hold.placed',
  'hold.lifted',
  'hold.expired',
  'hold.reviewed',
  'staff_user.created',
  'staff_user.updated',
  'staff_user.password_changed',
  'api_key.created',
  'api_key.revoked',
  'feature.created',
  'plan.created',
  'subscription.created',
  'subscription.changed',
  'subscription.cancelled',
  'webhook_endpoint.created',
  'webhook_endpoint.updated',
  'webhook_endpoint.deleted',
  'webhook_endpoint.secret_rotated',
  'invoice.paid',
  'invoice.voided',
  'auth.login_succeeded',
  'auth.login_failed',
  'audit.exported',
  'audit.archived',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

/** `staff_user.` and the like: `GET /audit-logs?action=` takes these to mean every action of a kind. */
export const AUDIT_ACTION_PREFIXES: readonly string[] = [
  ...new Set(AUDIT_ACTIONS.map((action) => `${action.split('.')[0]}.`)),
];

/** The actions a value of `?action=` stands for: itself, or every action with that prefix. */
export function auditActionsMatching(filter: string): AuditAction[] {
  return filter.endsWith('.')
    ? AUDIT_ACTIONS.filter((action) => action.startsWith(filter))
    : AUDIT_ACTIONS.filter((action) => action === filter);
}

/** `anonymous`: somebody not signed in, such as a failed sign-in (named by the email tried). */
export type AuditActorType = ActorType;

/** What an entry's `target` can be, besides its customer. */
export const AUDIT_TARGET_TYPES = [
  'staff_user',
  'api_key',
  'feature',
  'plan',
  'subscription',
  'webhook_endpoint',
  'invoice',
  'audit_log',
] as const;
export type AuditTargetType = (typeof AUDIT_TARGET_TYPES)[number];

/**
 * What an entry says the audited thing was before and after: a customer's `status` for a
 * transition, a hold's `state` for a hold entry (null before it was placed), or the fields of
 * another target that the action changed.
 */
export interface StatusSnapshot {
  status?: string;
  state?: string | null;
  [field: string]: unknown;
}

/**
 * One audited change. Append-only: the database refuses UPDATE, DELETE and TRUNCATE (see the
 * migrations), and nothing references the actor, the customer or the target by foreign key, so an
 * entry outlives whatever it names. `seq`, `prev_hash`, `hash` and `created_at` are the
 * database's own: whatever an INSERT says of them is replaced, and the audit_logs_seal trigger
 * sets them when the inserting transaction commits (docs/audit-chain.md).
 */
@Entity({ name: 'audit_logs' })
@Check('ck_audit_logs_actor_type', `actor_type IN (${sqlList(ACTOR_TYPES)})`)
@Check('ck_audit_logs_target', `(target_type IS NULL) = (target_id IS NULL)`)
@Unique('uq_audit_logs_seq', ['seq'])
@Unique('uq_audit_logs_prev_hash', ['prevHash'])
// Each filter of GET /audit-logs walks its own index newest first by (created_at, seq), which is
// seq order; the plain one serves the unfiltered list, from/to ranges and the export.
@Index('ix_audit_logs_created_at_seq', ['createdAt', 'seq'])
@Index('ix_audit_logs_customer_id_created_at_seq', ['customerId', 'createdAt', 'seq'])
@Index('ix_audit_logs_actor_id_created_at_seq', ['actorId', 'createdAt', 'seq'])
@Index('ix_audit_logs_action_created_at_seq', ['action', 'createdAt', 'seq'])
@Index('ix_audit_logs_target_id_created_at_seq', ['targetId', 'createdAt', 'seq'])
export class AuditLog {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'pk_audit_logs' })
  id: string;

  /**
   * Gap-free, in commit order (a bigint: TypeORM reads it as a string). Set on every committed
   * entry; NULL in the database only inside the inserting transaction, before its commit seals
   * the entry (so are prev_hash and hash), which is why the columns are nullable.
   */
  @Column({ type: 'bigint', nullable: true })
  seq: string;

  /** The previous entry's hash; 64 zeros before the first. */
  @Column({ name: 'prev_hash', type: 'text', nullable: true })
  prevHash: string;

  /** Lower-case hex SHA-256 of this entry's fields and prev_hash (docs/audit-chain.md). */
  @Column({ type: 'text', nullable: true })
  hash: string;

  @Column({ type: 'text' })
  action: AuditAction;

  @Column({ name: 'customer_id', type: 'uuid', nullable: true })
  customerId: string | null;

  /** What the entry is about besides a customer: a staff user, an API key, a plan... */
  @Column({ name: 'target_type', type: 'text', nullable: true })
  targetType: AuditTargetType | null;

  @Column({ name: 'target_id', type: 'uuid', nullable: true })
  targetId: string | null;

  @Column({ name: 'actor_type', type: 'text' })
  actorType: AuditActorType;

  /** Null for the `system` and `anonymous` actors. */
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
