import { ApiProperty } from '@nestjs/swagger';
import type { CustomerStatus } from '../../customers/entities/customer.entity';

export class LimitsDto {
  @ApiProperty({ format: 'uuid' })
  customer_id: string;

  @ApiProperty({ enum: ['enabled', 'disabled'] })
  status: CustomerStatus;

  @ApiProperty({ description: 'True when the customer is disabled: then nothing is granted' })
  disabled: boolean;

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
}
