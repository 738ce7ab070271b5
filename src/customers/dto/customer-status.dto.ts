import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsOptional, IsString, MaxLength } from 'class-validator';
import { Trim } from '../../common/transforms';

export const REASON_MAX_LENGTH = 1000;

export class EnableCustomerDto {
  @ApiPropertyOptional({
    type: String,
    nullable: true,
    maxLength: REASON_MAX_LENGTH,
    description: 'Kept in the audit entry and added to the customer’s internal notes',
    example: 'Paid the overdue invoice',
  })
  @IsOptional()
  @Trim()
  @IsString()
  @MaxLength(REASON_MAX_LENGTH)
  reason?: string | null;
}

export class DisableCustomerDto extends EnableCustomerDto {
  @ApiPropertyOptional({
    description: 'Pause billing while disabled; defaults to the BILLING_PAUSE_ON_DISABLE setting',
  })
  @IsOptional()
  @IsBoolean()
  pause_billing?: boolean;
}
