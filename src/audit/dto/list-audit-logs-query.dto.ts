import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsUUID } from 'class-validator';
import { PageQueryDto } from '../../common/pagination';
import { CanonicalUuid } from '../../common/transforms';
import { IsTimestamp } from '../../common/validation';
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
  @IsTimestamp()
  from?: string;

  @ApiPropertyOptional({ format: 'date-time', description: 'Entries before this time' })
  @IsOptional()
  @IsTimestamp()
  to?: string;
}
