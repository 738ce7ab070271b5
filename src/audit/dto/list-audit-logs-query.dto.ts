import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsUUID } from 'class-validator';
import { PageQueryDto } from '../../common/pagination';
import { CanonicalUuid } from '../../common/transforms';
import { IsTimestamp } from '../../common/validation';
import { AUDIT_ACTION_PREFIXES, AUDIT_ACTIONS } from '../entities/audit-log.entity';

/** What `?action=` accepts: an action, or a prefix ending with a dot for every action of a kind. */
export const ACTION_FILTERS: readonly string[] = [...AUDIT_ACTIONS, ...AUDIT_ACTION_PREFIXES];

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

  @ApiPropertyOptional({
    enum: ACTION_FILTERS,
    description:
      'An action, or a prefix ending with a dot (`staff_user.`) for every action of that kind',
  })
  @IsOptional()
  @IsIn(ACTION_FILTERS)
  action?: string;

  @ApiPropertyOptional({ format: 'date-time', description: 'Entries at or after this time' })
  @IsOptional()
  @IsTimestamp()
  from?: string;

  @ApiPropertyOptional({ format: 'date-time', description: 'Entries before this time' })
  @IsOptional()
  @IsTimestamp()
  to?: string;
}
