import { ApiProperty } from '@nestjs/swagger';
import type { CustomerStatus } from '../../customers/entities/customer.entity';
import { HOLD_SOURCES } from '../../customers/entities/hold.entity';
import type { HoldSource } from '../../customers/entities/hold.entity';

/** An active hold, as the limits answer names it. */
export class LimitsHoldDto {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty({ enum: HOLD_SOURCES })
  source: HoldSource;

  @ApiProperty({ example: 'non_payment' })
  reason_code: string;

  @ApiProperty({ format: 'date-time', description: 'The hold’s starts_at' })
  since: string;

  @ApiProperty({
    type: String,
    format: 'date-time',
    nullable: true,
    description: 'The hold’s ends_at; null: until lifted',
  })
  until: string | null;
}

export class LimitsDto {
  @ApiProperty({ format: 'uuid' })
  customer_id: string;

  @ApiProperty({ enum: ['enabled', 'disabled'] })
  status: CustomerStatus;

  @ApiProperty({ description: 'True when the customer is disabled: then nothing is granted' })
  disabled: boolean;

  @ApiProperty({
    type: [LimitsHoldDto],
    description: 'Why the customer is disabled: its active holds ([] when enabled)',
  })
  holds: readonly LimitsHoldDto[];

  @ApiProperty({ description: 'Seats: the sum over the active subscriptions', example: 15 })
  user_count: number;

  @ApiProperty({
    type: [String],
    description: 'Features granted by any active subscription, by code',
    example: ['api_calls', 'sso'],
  })
  features: string[];

  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'integer' },
    description:
      'Limit per feature: the sum of the active subscriptions’ limits. A feature that any ' +
      'active subscription grants without a limit is not limited, and is not listed here.',
    example: { api_calls: 25000 },
  })
  limits: Record<string, number>;

  @ApiProperty({ format: 'date-time', description: 'When this answer was computed' })
  as_of: string;
}
