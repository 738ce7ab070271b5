import { Controller, Get, Post, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Roles } from '../access/access.decorators';
import { ApiProblemResponses } from '../common/api-problem-responses';
import { Page, PageDtoOf, PageQueryDto } from '../common/pagination';
import { UuidParam } from '../common/validation';
import { BillingService } from './billing.service';
import { BillingRunDto, InvoiceDto } from './dto/billing.dto';

@ApiTags('billing')
@Controller()
export class BillingController {
  constructor(private readonly billing: BillingService) {}

  @Post('billing/runs')
  @Roles('developer')
  @ApiOperation({
    summary: 'Run billing now',
    description:
      'Invoices every active subscription whose period has ended and moves it to its next period. ' +
      'Customers whose billing is paused are skipped and counted; periods during which billing ' +
      'was paused are never invoiced. Safe to run while another run is going on.',
  })
  @ApiCreatedResponse({ type: BillingRunDto })
  run(): Promise<BillingRunDto> {
    return this.billing.run('manual');
  }

  @Get('customers/:id/invoices')
  @Roles('user')
  @ApiOperation({ summary: 'A customer’s invoices, newest first' })
  @ApiOkResponse({ type: PageDtoOf(InvoiceDto) })
  @ApiProblemResponses(400, 404)
  invoices(@UuidParam() id: string, @Query() page: PageQueryDto): Promise<Page<InvoiceDto>> {
    return this.billing.listInvoices(id, page);
  }
}
