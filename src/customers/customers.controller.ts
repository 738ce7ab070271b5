import { Body, Controller, Get, Patch, Post, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Roles } from '../access/access.decorators';
import { ApiProblemResponses } from '../common/api-problem-responses';
import { Page, PageDtoOf } from '../common/pagination';
import { UuidParam } from '../common/validation';
import { CustomersService } from './customers.service';
import { CustomerDto } from './dto/customer.dto';
import {
  CreateCustomerDto,
  ListCustomersQueryDto,
  UpdateCustomerDto,
} from './dto/customer-input.dto';

@ApiTags('customers')
@Controller('customers')
export class CustomersController {
  constructor(private readonly customers: CustomersService) {}

  @Post()
  @Roles('account_manager', { apiKeys: 'platform' })
  @ApiOperation({ summary: 'Create a customer (enabled)' })
  @ApiCreatedResponse({ type: CustomerDto })
  @ApiProblemResponses(400, [409, 'A customer with this email exists (`customer_exists`)'])
  create(@Body() body: CreateCustomerDto): Promise<CustomerDto> {
    return this.customers.create(body);
  }

  @Get()
  @Roles('user', { apiKeys: 'platform' })
  @ApiOperation({
    summary: 'List customers',
    description:
      'Newest first. With status=disabled or disabled_before, ordered by disabled_at, longest disabled first, for review.',
  })
  @ApiOkResponse({ type: PageDtoOf(CustomerDto) })
  @ApiProblemResponses(400)
  list(@Query() query: ListCustomersQueryDto): Promise<Page<CustomerDto>> {
    return this.customers.list(query);
  }

  @Get(':id')
  @Roles('user', { apiKeys: 'platform_and_own_customer' })
  @ApiOperation({ summary: 'Get a customer' })
  @ApiOkResponse({ type: CustomerDto })
  @ApiProblemResponses(400, 404)
  get(@UuidParam() id: string): Promise<CustomerDto> {
    return this.customers.get(id);
  }

  @Patch(':id')
  @Roles('account_manager', { apiKeys: 'platform' })
  @ApiOperation({
    summary: 'Change a customer’s details (not its status)',
    description:
      '`dunning_exempt`: true keeps the dunning rules from holding the customer and lifts their ' +
      'own active hold (as `system`); false lets them act again. Either way the rules ' +
      're-evaluate the customer in the same transaction.',
  })
  @ApiOkResponse({ type: CustomerDto })
  @ApiProblemResponses(400, 404, [409, 'A customer with this email exists (`customer_exists`)'])
  update(@UuidParam() id: string, @Body() body: UpdateCustomerDto): Promise<CustomerDto> {
    return this.customers.update(id, body);
  }
}
