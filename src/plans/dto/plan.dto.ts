import { ApiProperty } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayUnique,
  IsArray,
  IsIn,
  IsInt,
  IsObject,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidationArguments,
  ValidatorConstraint,
  ValidatorConstraintInterface,
  Validate,
} from 'class-validator';
import type { Plan, PlanInterval } from '../entities/plan.entity';
import { PLAN_INTERVALS } from '../entities/plan.entity';
import { CODE_MESSAGE, CODE_PATTERN } from './feature.dto';
import { Trim } from '../../common/transforms';

const MAX_INT = 2_147_483_647;

@ValidatorConstraint({ name: 'limitsMap' })
class LimitsMapConstraint implements ValidatorConstraintInterface {
  validate(value: unknown): boolean {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
    return Object.entries(value).every(
      ([code, limit]) =>
        CODE_PATTERN.test(code) && Number.isInteger(limit) && limit >= 0 && limit <= MAX_INT,
    );
  }

  defaultMessage(args: ValidationArguments): string {
    return `${args.property} must map feature codes to whole numbers from 0 to ${MAX_INT}`;
  }
}

export class CreatePlanDto {
  @ApiProperty({ example: 'pro-monthly', pattern: CODE_PATTERN.source })
  @IsString()
  @Matches(CODE_PATTERN, { message: `code ${CODE_MESSAGE}` })
  code: string;

  @ApiProperty({ example: 'Pro, monthly', maxLength: 200 })
  @Trim()
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  name: string;

  @ApiProperty({ description: 'Price per interval in minor units (cents)', example: 4900 })
  @IsInt()
  @Min(0)
  @Max(MAX_INT)
  amount: number;

  @ApiProperty({ description: 'ISO 4217 code', example: 'EUR', pattern: '^[A-Z]{3}$' })
  @IsString()
  @Matches(/^[A-Z]{3}$/, { message: 'currency must be an ISO 4217 code such as EUR' })
  currency: string;

  @ApiProperty({ enum: PLAN_INTERVALS })
  @IsIn(PLAN_INTERVALS)
  interval: PlanInterval;

  @ApiProperty({ description: 'Seats the plan grants', example: 5 })
  @IsInt()
  @Min(0)
  @Max(MAX_INT)
  user_count: number;

  @ApiProperty({
    type: [String],
    description: 'Codes of existing features the plan grants',
    example: ['api_calls', 'sso'],
  })
  @IsArray()
  @ArrayMaxSize(200)
  @ArrayUnique()
  @IsString({ each: true })
  features: string[];

  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'integer', minimum: 0 },
    description:
      'Limit per feature code; each must be one of `features`. A feature without a limit is not limited.',
    example: { api_calls: 10000 },
  })
  @IsObject()
  @Validate(LimitsMapConstraint)
  limits: Record<string, number>;
}

export class PlanDto {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty({ example: 'pro-monthly' })
  code: string;

  @ApiProperty({ example: 'Pro, monthly' })
  name: string;

  @ApiProperty({ description: 'Minor units (cents)', example: 4900 })
  amount: number;

  @ApiProperty({ example: 'EUR' })
  currency: string;

  @ApiProperty({ enum: PLAN_INTERVALS })
  interval: PlanInterval;

  @ApiProperty({ example: 5 })
  user_count: number;

  @ApiProperty({ type: [String], example: ['api_calls', 'sso'] })
  features: string[];

  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'integer' },
    example: { api_calls: 10000 },
  })
  limits: Record<string, number>;

  @ApiProperty({ format: 'date-time' })
  created_at: string;

  /** `grants` must be loaded with their features. */
  static from(this: void, plan: Plan): PlanDto {
    const grants = [...(plan.grants ?? [])].sort((a, b) =>
      a.feature!.code.localeCompare(b.feature!.code),
    );
    return {
      id: plan.id,
      code: plan.code,
      name: plan.name,
      amount: plan.amount,
      currency: plan.currency,
      interval: plan.interval,
      user_count: plan.userCount,
      features: grants.map((grant) => grant.feature!.code),
      limits: Object.fromEntries(
        grants
          .filter((grant) => grant.limit !== null)
          .map((grant) => [grant.feature!.code, grant.limit!]),
      ),
      created_at: plan.createdAt.toISOString(),
    };
  }
}
