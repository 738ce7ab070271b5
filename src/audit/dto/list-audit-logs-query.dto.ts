import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsISO8601, IsOptional, IsUUID } from 'class-validator';
import { PageQueryDto } from '../../common/pagination';
import { CanonicalUuid } from '../../common/transforms';
import { AUDIT_ACTIONS } from '../entities/audit-log.entity';
import type { AuditAction } from '../entities/audit-log.entity';

export class ListAuditLogsQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ format: 'uuid' })
  @IsOptional()
  @CanonicalUuid()
  @IsUUID()
  customer_id?: string;

  @ApiPropertyOptional({ format: 'uuid', description: 'A staff user or API key id' })
  @IsOptional()
  @CanonicalUuid()
  @IsUUID()
  actor_id?: string;

  @ApiPropertyOptional({ enum: AUDIT_ACTIONS })
  @IsOptional()
  @IsIn(AUDIT_ACTIONS)
  action?: AuditAction;

  @ApiPropertyOptional({ format: 'date-time', description: 'Entries at or after this time' })
  @IsOptional()
  @IsISO8601({ strict: true })
  from?: string;

  @ApiPropertyOptional({ format: 'date-time', description: 'Entries before this time' })
  @IsOptional()
  @IsISO8601({ strict: true })
  to?: string;
}
