import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  IsBoolean,
  IsIn,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
  MinLength,
} from 'class-validator';
import { ActorRefDto } from '../../audit/dto/audit-log.dto';
import { PageQueryDto } from '../../common/pagination';
import { QueryBoolean, Trim } from '../../common/transforms';
import { IsTimestamp } from '../../common/validation';
import { holdStateAt } from '../../customers/access/customer-access';
import { HOLD_SOURCES, HOLD_STATES } from '../../customers/entities/hold.entity';
import type { Hold, HoldSource, HoldState } from '../../customers/entities/hold.entity';
import { REASON_MAX_LENGTH } from './customer-status.dto';

export class PlaceHoldDto {
  @ApiProperty({ description: 'One of HOLD_REASON_CODES', example: 'compliance' })
  @IsString()
  @MaxLength(40)
  reason_code: string;

  @ApiPropertyOptional({
    type: String,
    nullable: true,
    maxLength: REASON_MAX_LENGTH,
    description: 'Internal; also added to the customer’s notes',
  })
  @IsOptional()
  @Trim()
  @IsString()
  @MaxLength(REASON_MAX_LENGTH)
  reason?: string | null;

  @ApiPropertyOptional({
    format: 'date-time',
    description: 'Default now; at most 60 s in the past. In the future: the hold is scheduled',
  })
  @IsOptional()
  @IsTimestamp()
  starts_at?: string;

  @ApiPropertyOptional({
    format: 'date-time',
    description: 'After starts_at and in the future; none: until lifted',
  })
  @IsOptional()
  @IsTimestamp()
  ends_at?: string;

  @ApiPropertyOptional({ description: 'Default BILLING_PAUSE_ON_DISABLE' })
  @IsOptional()
  @IsBoolean()
  pause_billing?: boolean;

  @ApiPropertyOptional({
    format: 'date-time',
    description: 'In the future; default placed_at + HOLD_REVIEW_DAYS',
  })
  @IsOptional()
  @IsTimestamp()
  review_at?: string;

  @ApiPropertyOptional({
    description:
      'Default true: the customer is emailed when the hold is scheduled, takes effect and ends (with SMTP_URL set); false: never about this hold',
  })
  @IsOptional()
  @IsBoolean()
  notify_customer?: boolean;
}

export class LiftHoldDto {
  @ApiPropertyOptional({
    type: String,
    nullable: true,
    maxLength: REASON_MAX_LENGTH,
    description: 'Kept in the audit entry and added to the customer’s notes',
  })
  @IsOptional()
  @Trim()
  @IsString()
  @MaxLength(REASON_MAX_LENGTH)
  reason?: string | null;
}

export class ReviewHoldDto {
  @ApiProperty({ format: 'date-time', description: 'The next review, in the future' })
  @IsTimestamp()
  review_at: string;

  @ApiPropertyOptional({
    maxLength: REASON_MAX_LENGTH,
    description: 'What the review found; added to the customer’s notes',
  })
  @IsOptional()
  @Trim()
  @IsString()
  @MinLength(1)
  @MaxLength(REASON_MAX_LENGTH)
  note?: string;
}

export class ListCustomerHoldsQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ enum: HOLD_STATES })
  @IsOptional()
  @IsIn(HOLD_STATES)
  state?: HoldState;
}

export class ListHoldsQueryDto extends ListCustomerHoldsQueryDto {
  @ApiPropertyOptional({ enum: HOLD_SOURCES })
  @IsOptional()
  @IsIn(HOLD_SOURCES)
  source?: HoldSource;

  @ApiPropertyOptional({ example: 'non_payment' })
  @IsOptional()
  @IsString()
  @Matches(/^[a-z][a-z0-9_]{0,39}$/)
  reason_code?: string;

  @ApiPropertyOptional({
    type: Boolean,
    description: 'Only active holds whose review date has passed',
  })
  @IsOptional()
  @QueryBoolean()
  @IsBoolean()
  review_due?: boolean;
}

export class HoldDto {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty({ format: 'uuid' })
  customer_id: string;

  @ApiProperty({ enum: HOLD_SOURCES })
  source: HoldSource;

  @ApiProperty({ example: 'non_payment' })
  reason_code: string;

  @ApiProperty({ type: String, nullable: true })
  reason: string | null;

  @ApiProperty({ format: 'date-time' })
  starts_at: string;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  ends_at: string | null;

  @ApiProperty()
  pause_billing: boolean;

  @ApiProperty({
    enum: HOLD_STATES,
    description: 'Derived from the times: scheduled, active, lifted or expired',
  })
  state: HoldState;

  @ApiProperty({ type: ActorRefDto })
  placed_by: ActorRefDto;

  @ApiProperty({ format: 'date-time' })
  placed_at: string;

  @ApiProperty({ type: ActorRefDto, nullable: true })
  lifted_by: ActorRefDto | null;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  lifted_at: string | null;

  @ApiProperty({ type: String, nullable: true })
  lift_reason: string | null;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  review_at: string | null;

  static from(this: void, hold: Hold, now: Date): HoldDto {
    return {
      id: hold.id,
      customer_id: hold.customerId,
      source: hold.source,
      reason_code: hold.reasonCode,
      reason: hold.reason,
      starts_at: hold.startsAt.toISOString(),
      ends_at: hold.endsAt?.toISOString() ?? null,
      pause_billing: hold.pauseBilling,
      state: holdStateAt(hold, now),
      placed_by: { type: hold.placedByType, id: hold.placedById, name: hold.placedByName },
      placed_at: hold.placedAt.toISOString(),
      lifted_by:
        hold.liftedByType === null
          ? null
          : { type: hold.liftedByType, id: hold.liftedById, name: hold.liftedByName ?? '' },
      lifted_at: hold.liftedAt?.toISOString() ?? null,
      lift_reason: hold.liftReason,
      review_at: hold.reviewAt?.toISOString() ?? null,
    };
  }
}

export class HoldReasonCodesDto {
  @ApiProperty({
    type: [String],
    description: 'HOLD_REASON_CODES, in the configured order; always includes `other`',
    example: ['non_payment', 'dispute', 'customer_request', 'compliance', 'security', 'other'],
  })
  reason_codes: string[];

  @ApiProperty({
    description:
      'Whether customers are emailed about their holds (SMTP_URL and EMAIL_FROM are set), so that a form can offer `notify_customer` ticked',
  })
  customer_emails: boolean;
}
