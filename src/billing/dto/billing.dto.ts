import { ApiProperty } from '@nestjs/swagger';
import type { Invoice } from '../entities/invoice.entity';

export class BillingRunDto {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty({ description: 'Invoices written by this run', example: 42 })
  invoiced: number;

  @ApiProperty({
    description:
      'Customers with a period to invoice whose billing is paused: nothing was invoiced for them',
    example: 3,
  })
  skipped: number;
}

export class InvoiceDto {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty({ format: 'uuid' })
  customer_id: string;

  @ApiProperty({ format: 'uuid' })
  subscription_id: string;

  @ApiProperty({ example: 'pro-monthly' })
  plan_code: string;

  @ApiProperty({ description: 'Minor units (cents)', example: 4900 })
  amount: number;

  @ApiProperty({ example: 'EUR' })
  currency: string;

  @ApiProperty({ format: 'date-time' })
  period_start: string;

  @ApiProperty({ format: 'date-time' })
  period_end: string;

  @ApiProperty({ format: 'date-time' })
  created_at: string;

  /** `plan` must be loaded. */
  static from(this: void, invoice: Invoice): InvoiceDto {
    return {
      id: invoice.id,
      customer_id: invoice.customerId,
      subscription_id: invoice.subscriptionId,
      plan_code: invoice.plan!.code,
      amount: invoice.amount,
      currency: invoice.currency,
      period_start: invoice.periodStart.toISOString(),
      period_end: invoice.periodEnd.toISOString(),
      created_at: invoice.createdAt.toISOString(),
    };
  }
}

export class InvoicePageDto {
  @ApiProperty({ type: [InvoiceDto] })
  data: InvoiceDto[];

  @ApiProperty({ type: String, nullable: true })
  next_cursor: string | null;
}
