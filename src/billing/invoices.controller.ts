import { Body, Controller, Get, HttpCode, Post, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { RequestOrigin, Roles } from '../access/access.decorators';
import type { Origin } from '../access/actor';
import { ApiProblemResponses } from '../common/api-problem-responses';
import { Page, PageDtoOf } from '../common/pagination';
import { UuidParam } from '../common/validation';
import {
  InvoiceDto,
  InvoicePaymentDto,
  ListInvoicesQueryDto,
  RecordPaymentDto,
  VoidInvoiceDto,
} from './dto/billing.dto';
import { InvoicesService } from './invoices.service';

@ApiTags('billing')
@Controller('invoices')
export class InvoicesController {
  constructor(private readonly invoices: InvoicesService) {}

  @Get()
  @Roles('user', { apiKeys: 'platform' })
  @ApiOperation({
    summary: 'List invoices, newest first',
    description:
      '`overdue=true`: open invoices past their due date (`days_overdue` counts whole days).',
  })
  @ApiOkResponse({ type: PageDtoOf(InvoiceDto) })
  @ApiProblemResponses(400)
  list(@Query() query: ListInvoicesQueryDto): Promise<Page<InvoiceDto>> {
    return this.invoices.list(query);
  }

  @Post(':id/payments')
  @Roles('account_manager', { apiKeys: 'platform' })
  @ApiOperation({
    summary: 'Record a payment of an invoice',
    description:
      'Payments add up; the invoice is `paid` (with `paid_at`, and an `invoice.paid` event) once ' +
      'they cover `amount_due`. There is no credit balance: a payment beyond what remains due is ' +
      'refused. The dunning rules re-evaluate the customer in the same transaction, so a payment ' +
      'that settles the last invoice that was too late lifts their hold with it.',
  })
  @ApiCreatedResponse({ type: InvoicePaymentDto })
  @ApiProblemResponses(
    [
      400,
      'Validation failed: the amount is not a whole number of minor units above 0 (`validation_failed`)',
    ],
    404,
    [
      409,
      'More than remains due (`payment_exceeds_amount_due`), the invoice is void (`invoice_void`) ' +
        'or paid already (`invoice_paid`)',
    ],
  )
  recordPayment(
    @UuidParam() id: string,
    @Body() body: RecordPaymentDto,
    @RequestOrigin() origin: Origin,
  ): Promise<InvoicePaymentDto> {
    return this.invoices.recordPayment(id, body, origin);
  }

  @Post(':id/void')
  @HttpCode(200)
  @Roles('account_manager')
  @ApiOperation({
    summary: 'Void an invoice',
    description:
      'An open invoice (even partly paid) becomes `void` and is no longer owed: the dunning rules ' +
      're-evaluate the customer in the same transaction.',
  })
  @ApiOkResponse({ type: InvoiceDto, description: 'The invoice, void' })
  @ApiProblemResponses(400, 404, [
    409,
    'The invoice is paid (`invoice_paid`) or void already (`invoice_void`)',
  ])
  void(
    @UuidParam() id: string,
    @Body() body: VoidInvoiceDto,
    @RequestOrigin() origin: Origin,
  ): Promise<InvoiceDto> {
    return this.invoices.void(id, body, origin);
  }
}
