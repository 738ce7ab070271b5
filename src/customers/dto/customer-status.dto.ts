import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsBoolean, IsOptional, IsString, MaxLength } from 'class-validator';

export const REASON_MAX_LENGTH = 1000;

const trim = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value);

export class EnableCustomerDto {
  @ApiPropertyOptional({
    type: String,
    nullable: true,
    maxLength: REASON_MAX_LENGTH,
    description: 'Kept in the audit entry and added to the customer’s internal notes',
    example: 'Paid the overdue invoice',
  })
  @IsOptional()
  @Transform(trim)
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
