import { ApiProperty } from '@nestjs/swagger';
import { AUDIT_ACTIONS } from '../entities/audit-log.entity';
import type { AuditAction, AuditLog } from '../entities/audit-log.entity';

/** Who acted: a staff user or an API key, with its name at the time. */
export class ActorRefDto {
  @ApiProperty({ enum: ['user', 'api_key'] })
  type: 'user' | 'api_key';

  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty({ example: 'Jane Support' })
  name: string;
}

export class StatusSnapshotDto {
  @ApiProperty({ enum: ['enabled', 'disabled'] })
  status: string;
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
      before: { status: entry.before.status },
      after: { status: entry.after.status },
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
