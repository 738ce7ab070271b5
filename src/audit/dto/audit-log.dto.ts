import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { AUDIT_ACTIONS, AUDIT_TARGET_TYPES } from '../entities/audit-log.entity';
import type {
  AuditAction,
  AuditActorType,
  AuditLog,
  AuditTargetType,
} from '../entities/audit-log.entity';
import { ACTOR_TYPES } from '../../access/actor';
import { CUSTOMER_STATUSES } from '../../access/customer-status';

/**
 * Who acted: a staff user, an API key, the service itself (`system`, no id), or somebody not
 * signed in (`anonymous`, no id: a failed sign-in, named by the email tried), with its name at
 * the time.
 */
export class ActorRefDto {
  @ApiProperty({ enum: ACTOR_TYPES })
  type: AuditActorType;

  @ApiProperty({ type: String, format: 'uuid', nullable: true })
  id: string | null;

  @ApiProperty({ example: 'Jane Support' })
  name: string;
}

/** What an entry is about when it is not (only) a customer. */
export class AuditTargetDto {
  @ApiProperty({ enum: AUDIT_TARGET_TYPES })
  type: AuditTargetType;

  @ApiProperty({ format: 'uuid' })
  id: string;
}

/**
 * What the entry's subject was before and after: `status` for a customer, `state` for a hold, or
 * the fields an action changed (a staff user's `role`, `name`, `active`; a subscription's
 * `plan_code`...). Never a password or a secret.
 */
export class StatusSnapshotDto {
  @ApiPropertyOptional({
    enum: CUSTOMER_STATUSES,
    description: 'The customer’s status (customer.* entries)',
  })
  status?: string;

  @ApiPropertyOptional({
    type: String,
    enum: ['scheduled', 'active', 'lifted', 'expired'],
    nullable: true,
    description: 'The hold’s state (hold.* entries); null before it was placed',
  })
  state?: string | null;

  [field: string]: unknown;
}

export class AuditLogDto {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty({
    type: Number,
    description: 'Position in the hash chain: gap-free, in commit order',
    example: 1042,
  })
  seq: number;

  @ApiProperty({
    description: 'The previous entry’s hash (64 zeros before the first entry)',
    pattern: '^[0-9a-f]{64}$',
  })
  prev_hash: string;

  @ApiProperty({
    description:
      'Lower-case hex SHA-256 over the entry’s fields and prev_hash, encoded as docs/audit-chain.md says',
    pattern: '^[0-9a-f]{64}$',
  })
  hash: string;

  @ApiProperty({ enum: AUDIT_ACTIONS })
  action: AuditAction;

  @ApiProperty({ type: String, format: 'uuid', nullable: true })
  customer_id: string | null;

  @ApiProperty({
    type: AuditTargetDto,
    nullable: true,
    description: 'What the entry is about besides a customer (a staff user, an API key, a plan...)',
  })
  target: AuditTargetDto | null;

  @ApiProperty({ type: ActorRefDto })
  actor: ActorRefDto;

  @ApiProperty({ type: String, nullable: true })
  reason: string | null;

  @ApiProperty({
    type: StatusSnapshotDto,
    description:
      'Before the change: `status` for a customer, `state` for a hold, or the fields the action ' +
      'changed (a staff user’s `role`, `name`, `active`; a subscription’s `plan_code`...); never ' +
      'a password or a secret',
  })
  before: StatusSnapshotDto;

  @ApiProperty({ type: StatusSnapshotDto, description: 'After the change, as `before`' })
  after: StatusSnapshotDto;

  @ApiProperty({
    type: String,
    format: 'uuid',
    nullable: true,
    description: 'The hold this entry concerns',
  })
  hold_id: string | null;

  @ApiProperty({
    type: String,
    format: 'date-time',
    nullable: true,
    description: 'When the change took effect (a scheduled start or end: that instant)',
  })
  effective_at: string | null;

  @ApiProperty({
    type: String,
    nullable: true,
    description: 'X-Request-Id of the request that made the change',
  })
  request_id: string | null;

  @ApiProperty({ type: String, nullable: true, example: '203.0.113.7' })
  ip: string | null;

  @ApiProperty({ type: String, nullable: true })
  user_agent: string | null;

  @ApiProperty({ format: 'date-time' })
  created_at: string;

  static from(this: void, entry: AuditLog): AuditLogDto {
    return {
      id: entry.id,
      seq: Number(entry.seq),
      prev_hash: entry.prevHash,
      hash: entry.hash,
      action: entry.action,
      customer_id: entry.customerId,
      target:
        entry.targetType !== null && entry.targetId !== null
          ? { type: entry.targetType, id: entry.targetId }
          : null,
      actor: { type: entry.actorType, id: entry.actorId, name: entry.actorName },
      reason: entry.reason,
      before: { ...entry.before },
      after: { ...entry.after },
      hold_id: entry.holdId,
      effective_at: entry.effectiveAt?.toISOString() ?? null,
      request_id: entry.requestId,
      ip: entry.ip,
      user_agent: entry.userAgent,
      created_at: entry.createdAt.toISOString(),
    };
  }
}
