import { ApiProperty } from '@nestjs/swagger';
import type { Customer, CustomerStatus } from '../entities/customer.entity';

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

  @ApiProperty({ enum: ['enabled', 'disabled'] })
  status: CustomerStatus;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  disabled_at: string | null;

  @ApiProperty({ type: String, nullable: true })
  disabled_reason: string | null;

  @ApiProperty()
  billing_paused: boolean;

  @ApiProperty({ format: 'date-time' })
  created_at: string;

  @ApiProperty({ format: 'date-time' })
  updated_at: string;

  @ApiProperty({ description: 'Incremented on every change', example: 1 })
  version: number;

  static from(this: void, customer: Customer): CustomerDto {
    return {
      id: customer.id,
      email: customer.email,
      name: customer.name,
      reference: customer.reference,
      external_reference: customer.externalReference,
      status: customer.status,
      disabled_at: customer.disabledAt?.toISOString() ?? null,
      disabled_reason: customer.disabledReason,
      billing_paused: customer.billingPaused,
      created_at: customer.createdAt.toISOString(),
      updated_at: customer.updatedAt.toISOString(),
      version: customer.version,
    };
  }
}

export class CustomerPageDto {
  @ApiProperty({ type: [CustomerDto] })
  data: CustomerDto[];

  @ApiProperty({ type: String, nullable: true })
  next_cursor: string | null;
}
