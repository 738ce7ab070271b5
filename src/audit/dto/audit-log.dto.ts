import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { AUDIT_ACTIONS } from '../entities/audit-log.entity';
import type { AuditAction, AuditLog } from '../entities/audit-log.entity';

/** Who acted: a staff user, an API key or the service itself (`system`, no id), with its name at the time. */
export class ActorRefDto {
  @ApiProperty({ enum: ['user', 'api_key', 'system'] })
  type: 'user' | 'api_key' | 'system';

  @ApiProperty({ type: String, format: 'uuid', nullable: true })
  id: string | null;

  @ApiProperty({ example: 'Jane Support' })
  name: string;
}

export class StatusSnapshotDto {
  @ApiPropertyOptional({
    enum: ['enabled', 'disabled'],
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
}

export class AuditLogDto {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty({ enum: AUDIT_ACTIONS })
  action: AuditAction;

  @ApiProperty({ type: String, format: 'uuid', nullable: true })
  customer_id: string | null;

  @ApiProperty({ type: ActorRefDto })
  actor: ActorRefDto;

  @ApiProperty({ type: String, nullable: true })
  reason: string | null;

  @ApiProperty({ type: StatusSnapshotDto })
  before: StatusSnapshotDto;

  @ApiProperty({ type: StatusSnapshotDto })
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
      action: entry.action,
      customer_id: entry.customerId,
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

export class AuditLogPageDto {
  @ApiProperty({ type: [AuditLogDto] })
  data: AuditLogDto[];

  @ApiProperty({ type: String, nullable: true })
  next_cursor: string | null;
}
