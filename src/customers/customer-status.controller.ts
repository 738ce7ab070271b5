import { Body, Controller, Get, HttpCode, Post, Query } from '@nestjs/common';
import { ApiBody, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AuditService } from '../audit/audit.service';
import { Audited } from '../audit/audited.decorator';
import { AuditLogDto, AuditLogPageDto } from '../audit/dto/audit-log.dto';
import { Roles } from '../auth/access.decorators';
import { ApiProblemResponses } from '../common/api-problem-responses';
import { Page, PageQueryDto } from '../common/pagination';
import { UuidParam } from '../common/validation';
import { CustomerStatusService } from './customer-status.service';
import { CustomerDto } from './dto/customer.dto';
import { DisableCustomerDto, EnableCustomerDto } from './dto/customer-status.dto';

@ApiTags('customers')
@Controller('customers/:id')
export class CustomerStatusController {
  constructor(
    private readonly status: CustomerStatusService,
    private readonly audit: AuditService,
  ) {}

  @Post('disable')
  @HttpCode(200)
  @Audited()
  @Roles('customer_support', { apiKeys: 'platform' })
  @ApiOperation({
    summary: 'Disable a customer',
    description:
      'Takes effect at once and writes one audit entry; the reason is also added to the customer’s notes. ' +
      'Disabling a disabled customer answers 200 with the customer as it is and changes nothing.',
  })
  @ApiBody({ type: DisableCustomerDto, required: false })
  @ApiOkResponse({ type: CustomerDto, description: 'The customer, disabled' })
  @ApiProblemResponses(400, 404)
  disable(@UuidParam() id: string, @Body() body: DisableCustomerDto): Promise<CustomerDto> {
    return this.status.disableCustomer(id, body);
  }

  @Post('enable')
  @HttpCode(200)
  @Audited()
  @Roles('customer_support', { apiKeys: 'platform' })
  @ApiOperation({
    summary: 'Enable a customer',
    description:
      'Takes effect at once, resumes billing and writes one audit entry; the reason is also added to the customer’s notes. ' +
      'Enabling an enabled customer answers 200 with the customer as it is and changes nothing.',
  })
  @ApiBody({ type: EnableCustomerDto, required: false })
  @ApiOkResponse({ type: CustomerDto, description: 'The customer, enabled' })
  @ApiProblemResponses(400, 404)
  enable(@UuidParam() id: string, @Body() body: EnableCustomerDto): Promise<CustomerDto> {
    return this.status.enableCustomer(id, body);
  }

  @Get('audit-logs')
  @Roles('user')
  @ApiOperation({ summary: 'A customer’s audit entries, newest first' })
  @ApiOkResponse({ type: AuditLogPageDto })
  @ApiProblemResponses(400, 404)
  auditLogs(@UuidParam() id: string, @Query() page: PageQueryDto): Promise<Page<AuditLogDto>> {
    return this.audit.listForCustomer(id, page);
  }
}
