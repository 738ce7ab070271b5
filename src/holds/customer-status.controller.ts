import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ApiBody, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { RequestOrigin, Roles } from '../access/access.decorators';
import type { Origin } from '../access/actor';
import { ApiProblemResponses } from '../common/api-problem-responses';
import { UuidParam } from '../common/validation';
import { CustomerDto } from '../customers/dto/customer.dto';
import { DisableCustomerDto, EnableCustomerDto } from './dto/customer-status.dto';
import { HoldsService } from './holds.service';

/** The one-click flow, on top of holds. */
@ApiTags('customers')
@Controller('customers/:id')
export class CustomerStatusController {
  constructor(private readonly holds: HoldsService) {}

  @Post('disable')
  @HttpCode(200)
  @Roles('customer_support', { apiKeys: 'platform' })
  @ApiOperation({
    summary: 'Disable a customer',
    description:
      'Places a `manual` hold starting now (reason code `other` unless given) and answers the customer. ' +
      'Writes `hold.placed` and `customer.disabled` audit entries; the reason is also added to the customer’s notes. ' +
      'A customer that already has an active manual hold answers 200 as it is, and nothing is placed or recorded.',
  })
  @ApiBody({ type: DisableCustomerDto, required: false })
  @ApiOkResponse({ type: CustomerDto, description: 'The customer, disabled' })
  @ApiProblemResponses(400, 404)
  disable(
    @UuidParam() id: string,
    @Body() body: DisableCustomerDto,
    @RequestOrigin() origin: Origin,
  ): Promise<CustomerDto> {
    return this.holds.disable(id, body, origin);
  }

  @Post('enable')
  @HttpCode(200)
  @Roles('customer_support', { apiKeys: 'platform' })
  @ApiOperation({
    summary: 'Enable a customer',
    description:
      'Lifts every active and scheduled hold of the customer, whatever its source, and answers the customer. ' +
      'Writes a `hold.lifted` entry per hold and a `customer.enabled` entry; the reason is also added to the customer’s notes. ' +
      'A customer with no active or scheduled hold answers 200 as it is and nothing changes.',
  })
  @ApiBody({ type: EnableCustomerDto, required: false })
  @ApiOkResponse({ type: CustomerDto, description: 'The customer, enabled' })
  @ApiProblemResponses(400, 404)
  enable(
    @UuidParam() id: string,
    @Body() body: EnableCustomerDto,
    @RequestOrigin() origin: Origin,
  ): Promise<CustomerDto> {
    return this.holds.enable(id, body, origin);
  }
}
