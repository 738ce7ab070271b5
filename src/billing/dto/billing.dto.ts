import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  IsBoolean,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  IsUUID,
  Max,
  MaxLength,
  Min,
  MinLength,
} from 'class-validator';
import { ActorRefDto } from '../../audit/dto/audit-log.dto';
import { PageQueryDto } from '../../common/pagination';
import { CanonicalUuid, QueryBoolean, Trim } from '../../common/transforms';
import { daysOverdue } from '../overdue';
import type { InvoicePayment } from '../entities/invoice-payment.entity';
import { formatInvoiceNumber, INVOICE_STATUSES } from '../entities/invoice.entity';
import type { Invoice, InvoiceStatus } from '../entities/invoice.entity';

/** The largest amount PostgreSQL's `integer` holds. */
const MAX_AMOUNT = 2_147_483_647;

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

  @ApiProperty({ description: 'Readable and unique, from a sequence', example: 'INV-000042' })
  number: string;

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

  @ApiProperty({ enum: INVOICE_STATUSES })
  status: InvoiceStatus;

  @ApiProperty({ format: 'date-time', description: 'Issued plus INVOICE_TERMS_DAYS' })
  due_at: string;

  @ApiProperty({ description: 'Minor units', example: 4900 })
  amount_due: number;

  @ApiProperty({ description: 'Minor units: the sum of its payments', example: 0 })
  amount_paid: number;

  @ApiProperty({
    description: 'Whole days past due_at while it is open; 0 otherwise',
    example: 0,
  })
  days_overdue: number;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  paid_at: string | null;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  voided_at: string | null;

  @ApiProperty({ type: String, nullable: true })
  void_reason: string | null;

  @ApiProperty({ format: 'date-time', description: 'When it was issued' })
  created_at: string;

  /** `plan` must be loaded; `now` is the clock's, for days_overdue. */
  static from(this: void, invoice: Invoice, now: Date): InvoiceDto {
    return {
      id: invoice.id,
      number: formatInvoiceNumber(invoice.number),
      customer_id: invoice.customerId,
      subscription_id: invoice.subscriptionId,
      plan_code: invoice.plan!.code,
      amount: invoice.amount,
      currency: invoice.currency,
      period_start: invoice.periodStart.toISOString(),
      period_end: invoice.periodEnd.toISOString(),
      status: invoice.status,
      due_at: invoice.dueAt.toISOString(),
      amount_due: invoice.amountDue,
      amount_paid: invoice.amountPaid,
      days_overdue: invoice.status === 'open' ? daysOverdue(invoice.dueAt, now) : 0,
      paid_at: invoice.paidAt?.toISOString() ?? null,
      voided_at: invoice.voidedAt?.toISOString() ?? null,
      void_reason: invoice.voidReason,
      created_at: invoice.createdAt.toISOString(),
    };
  }
}

export class ListInvoicesQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ enum: INVOICE_STATUSES })
  @IsOptional()
  @IsIn(INVOICE_STATUSES)
  status?: InvoiceStatus;

  @ApiPropertyOptional({
    type: Boolean,
    description: 'true: only open invoices past their due date; false: only the others',
  })
  @IsOptional()
  @QueryBoolean()
  @IsBoolean()
  overdue?: boolean;

  @ApiPropertyOptional({ format: 'uuid' })
  @IsOptional()
  @CanonicalUuid()
  @IsUUID()
  customer_id?: string;
}

export class RecordPaymentDto {
  @ApiProperty({
    type: 'integer',
    minimum: 1,
    maximum: MAX_AMOUNT,
    description:
      'Minor units (cents): a whole number, at most what remains due (amount_due - amount_paid)',
    example: 4900,
  })
  @IsInt()
  @Min(1)
  @Max(MAX_AMOUNT)
  amount: number;

  @ApiPropertyOptional({
    maxLength: 200,
    description: 'The payer’s or the bank’s reference',
    example: 'SEPA 2027-03-01 ACME',
  })
  @IsOptional()
  @Trim()
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  reference?: string;
}

export class VoidInvoiceDto {
  @ApiProperty({ maxLength: 1000, description: 'Why it is void (kept on the invoice)' })
  @Trim()
  @IsString()
  @MinLength(1)
  @MaxLength(1000)
  reason: string;
}

export class InvoicePaymentDto {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty({ format: 'uuid' })
  invoice_id: string;

  @ApiProperty({ description: 'Minor units', example: 4900 })
  amount: number;

  @ApiProperty({ type: String, nullable: true })
  reference: string | null;

  @ApiProperty({ type: ActorRefDto, description: 'Who recorded it' })
  recorded_by: ActorRefDto;

  @ApiProperty({ format: 'date-time' })
  created_at: string;

  @ApiProperty({ type: InvoiceDto, description: 'The invoice with this payment' })
  invoice: InvoiceDto;

  static from(payment: InvoicePayment, invoice: InvoiceDto): InvoicePaymentDto {
    return {
      id: payment.id,
      invoice_id: payment.invoiceId,
      amount: payment.amount,
      reference: payment.reference,
      recorded_by: {
        type: payment.recordedByType,
        id: payment.recordedById,
        name: payment.recordedByName,
      },
      created_at: payment.createdAt.toISOString(),
      invoice,
    };
  }
}
