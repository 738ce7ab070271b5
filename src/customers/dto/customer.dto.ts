import { ApiProperty } from '@nestjs/swagger';
import type { Access } from '../access/customer-access';
import type { Customer, CustomerStatus } from '../entities/customer.entity';
import { HOLD_SOURCES } from '../entities/hold.entity';
import type { Hold, HoldSource } from '../entities/hold.entity';
import { CUSTOMER_STATUSES } from '../../access/customer-status';

/** One of the customer's active or scheduled holds, in short. */
export class HoldRefDto {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty({ enum: HOLD_SOURCES })
  source: HoldSource;

  @ApiProperty({ example: 'non_payment' })
  reason_code: string;

  @ApiProperty({ format: 'date-time' })
  starts_at: string;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  ends_at: string | null;
}

export class CustomerDto {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty({ example: 'billing@acme.test' })
  email: string;

  @ApiProperty({ type: String, nullable: true, example: 'Acme Ltd' })
  name: string | null;

  @ApiProperty({ type: String, nullable: true, example: 'ACME-001' })
  reference: string | null;

  @ApiProperty({ type: String, nullable: true, example: 'crm-4711' })
  external_reference: string | null;

  @ApiProperty({ enum: CUSTOMER_STATUSES })
  status: CustomerStatus;

  @ApiProperty({
    type: String,
    format: 'date-time',
    nullable: true,
    description: 'When the current disabled stretch began',
  })
  disabled_at: string | null;

  @ApiProperty({
    type: String,
    nullable: true,
    description: 'The reason of the earliest active hold',
  })
  disabled_reason: string | null;

  @ApiProperty({ description: 'Whether any active hold pauses billing' })
  billing_paused: boolean;

  @ApiProperty({ description: 'Never held by the dunning rules (see PATCH)' })
  dunning_exempt: boolean;

  @ApiProperty({
    type: [HoldRefDto],
    description: 'The active and scheduled holds, earliest start first',
  })
  holds: HoldRefDto[];

  @ApiProperty({ format: 'date-time' })
  created_at: string;

  @ApiProperty({ format: 'date-time' })
  updated_at: string;

  @ApiProperty({ description: 'Incremented on every change', example: 1 })
  version: number;

  /**
   * With `access` (derived from the holds at the clock's now) the status fields are right at the
   * instant; without it they are the stored projection and `holds` is empty.
   */
  static from(
    this: void,
    customer: Customer,
    access?: Access<Hold> & { pendingHolds: Hold[] },
  ): CustomerDto {
    return {
      id: customer.id,
      email: customer.email,
      name: customer.name,
      reference: customer.reference,
      external_reference: customer.externalReference,
      status: access ? (access.disabled ? 'disabled' : 'enabled') : customer.status,
      disabled_at: (access ? access.disabledSince : customer.disabledAt)?.toISOString() ?? null,
      disabled_reason: access ? access.reason : customer.disabledReason,
      billing_paused: access ? access.billingPaused : customer.billingPaused,
      dunning_exempt: customer.dunningExempt,
      holds: (access?.pendingHolds ?? []).map((hold) => ({
        id: hold.id,
        source: hold.source,
        reason_code: hold.reasonCode,
        starts_at: hold.startsAt.toISOString(),
        ends_at: hold.endsAt?.toISOString() ?? null,
      })),
      created_at: customer.createdAt.toISOString(),
      updated_at: customer.updatedAt.toISOString(),
      version: customer.version,
    };
  }
}
