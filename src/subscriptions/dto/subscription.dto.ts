import { ApiProperty } from '@nestjs/swagger';
import { IsString, Matches } from 'class-validator';
import { CODE_MESSAGE, CODE_PATTERN } from '../../plans/dto/feature.dto';
import type { Subscription, SubscriptionStatus } from '../entities/subscription.entity';

export class SubscribeDto {
  @ApiProperty({ example: 'pro-monthly' })
  @IsString()
  @Matches(CODE_PATTERN, { message: `plan_code ${CODE_MESSAGE}` })
  plan_code: string;
}

export class ChangeSubscriptionDto extends SubscribeDto {}

export class SubscriptionDto {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty({ format: 'uuid' })
  customer_id: string;

  @ApiProperty({ example: 'pro-monthly' })
  plan_code: string;

  @ApiProperty({ enum: ['active', 'cancelled'] })
  status: SubscriptionStatus;

  @ApiProperty({ format: 'date-time' })
  current_period_start: string;

  @ApiProperty({ format: 'date-time' })
  current_period_end: string;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  cancelled_at: string | null;

  @ApiProperty({ format: 'date-time' })
  created_at: string;

  @ApiProperty({ format: 'date-time' })
  updated_at: string;

  /** `plan` must be loaded. */
  static from(this: void, subscription: Subscription): SubscriptionDto {
    return {
      id: subscription.id,
      customer_id: subscription.customerId,
      plan_code: subscription.plan!.code,
      status: subscription.status,
      current_period_start: subscription.currentPeriodStart.toISOString(),
      current_period_end: subscription.currentPeriodEnd.toISOString(),
      cancelled_at: subscription.cancelledAt?.toISOString() ?? null,
      created_at: subscription.createdAt.toISOString(),
      updated_at: subscription.updatedAt.toISOString(),
    };
  }
}
