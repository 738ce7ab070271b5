import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsOptional, IsString, MaxLength } from 'class-validator';
import { Trim } from '../../common/transforms';
import { IsTimestamp } from '../../common/validation';

export const REASON_MAX_LENGTH = 1000;

export class EnableCustomerDto {
  @ApiPropertyOptional({
    type: String,
    nullable: true,
    maxLength: REASON_MAX_LENGTH,
    description: 'Kept in the audit entries and added to the customer’s internal notes',
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
    description: 'One of HOLD_REASON_CODES; `other` when absent',
    example: 'non_payment',
  })
  @IsOptional()
  @IsString()
  @MaxLength(40)
  reason_code?: string;

  @ApiPropertyOptional({
    description: 'Pause billing while disabled; defaults to the BILLING_PAUSE_ON_DISABLE setting',
  })
  @IsOptional()
  @IsBoolean()
  pause_billing?: boolean;

  @ApiPropertyOptional({
    format: 'date-time',
    description: 'When the hold ends by itself (in the future); none: until lifted',
  })
  @IsOptional()
  @IsTimestamp()
  ends_at?: string;

  @ApiPropertyOptional({
    description:
      'Default true: the customer is emailed that it is disabled, and later enabled (with SMTP_URL set); false: neither',
  })
  @IsOptional()
  @IsBoolean()
  notify_customer?: boolean;
}
