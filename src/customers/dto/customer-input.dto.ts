import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  IsBoolean,
  IsEmail,
  IsIn,
  IsOptional,
  IsString,
  MaxLength,
  MinLength,
  ValidateIf,
} from 'class-validator';
import { PageQueryDto } from '../../common/pagination';
import { IsTimestamp } from '../../common/validation';
import type { CustomerStatus } from '../entities/customer.entity';
import { NormaliseEmail, QueryBoolean, Trim } from '../../common/transforms';
import { CUSTOMER_STATUSES } from '../../access/customer-status';

export class CreateCustomerDto {
  @ApiProperty({ example: 'billing@acme.test' })
  @NormaliseEmail()
  @IsEmail()
  @MaxLength(320)
  email: string;

  @ApiPropertyOptional({ type: String, nullable: true, example: 'Acme Ltd', maxLength: 200 })
  @IsOptional()
  @Trim()
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  name?: string | null;

  @ApiPropertyOptional({ type: String, nullable: true, example: 'ACME-001', maxLength: 200 })
  @IsOptional()
  @Trim()
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  reference?: string | null;

  @ApiPropertyOptional({ type: String, nullable: true, example: 'crm-4711', maxLength: 200 })
  @IsOptional()
  @Trim()
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  external_reference?: string | null;
}

/** Every field optional; `null` clears an optional one. The status is not changed here. */
export class UpdateCustomerDto {
  @ApiPropertyOptional({ example: 'billing@acme.test' })
  @IsOptional()
  @NormaliseEmail()
  @IsEmail()
  @MaxLength(320)
  email?: string;

  @ApiPropertyOptional({ type: String, nullable: true, maxLength: 200 })
  @ValidateIf((_, v) => v !== null && v !== undefined)
  @Trim()
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  name?: string | null;

  @ApiPropertyOptional({ type: String, nullable: true, maxLength: 200 })
  @ValidateIf((_, v) => v !== null && v !== undefined)
  @Trim()
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  reference?: string | null;

  @ApiPropertyOptional({ type: String, nullable: true, maxLength: 200 })
  @ValidateIf((_, v) => v !== null && v !== undefined)
  @Trim()
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  external_reference?: string | null;

  @ApiPropertyOptional({
    description:
      'Never held by the dunning rules (they still warn); setting it lifts the rules’ own active hold',
  })
  @IsOptional()
  @IsBoolean()
  dunning_exempt?: boolean;
}

export class ListCustomersQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ enum: CUSTOMER_STATUSES })
  @IsOptional()
  @IsIn(CUSTOMER_STATUSES)
  status?: CustomerStatus;

  @ApiPropertyOptional({ description: 'Exact email, case-insensitive' })
  @IsOptional()
  @NormaliseEmail()
  @IsString()
  @MaxLength(320)
  email?: string;

  @ApiPropertyOptional({ description: 'Search in email, name and references' })
  @IsOptional()
  @Trim()
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  q?: string;

  @ApiPropertyOptional({
    format: 'date-time',
    description:
      'Only customers disabled before this time; the page is then ordered by disabled_at, oldest first (for review)',
  })
  @IsOptional()
  @IsTimestamp()
  disabled_before?: string;

  @ApiPropertyOptional({
    type: Boolean,
    description:
      'Only disabled customers with an active hold whose review date has passed (longest disabled first)',
  })
  @IsOptional()
  @QueryBoolean()
  @IsBoolean()
  review_due?: boolean;
}
