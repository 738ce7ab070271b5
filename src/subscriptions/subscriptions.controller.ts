import { Body, Controller, Get, HttpCode, Patch, Post, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { RequestOrigin, Roles } from '../access/access.decorators';
import type { Origin } from '../access/actor';
import { ApiProblemResponses } from '../common/api-problem-responses';
import { Page, PageDtoOf, PageQueryDto } from '../common/pagination';
import { UuidParam } from '../common/validation';
import { ChangeSubscriptionDto, SubscribeDto, SubscriptionDto } from './dto/subscription.dto';
import { SubscriptionsService } from './subscriptions.service';

const DISABLED: [number, string] = [
  403,
  'Not allowed (`forbidden`), or the customer is disabled (`customer_disabled`)',
];

@ApiTags('subscriptions')
@Controller()
export class SubscriptionsController {
  constructor(private readonly subscriptions: SubscriptionsService) {}

  @Post('customers/:id/subscriptions')
  @ApiProblemResponses(DISABLED) // above @Roles, whose generic 403 it replaces
  @Roles('account_manager', { apiKeys: 'platform' })
  @ApiOperation({
    summary: 'Subscribe a customer to a plan',
    description:
      'The first period starts now. Refused for a disabled customer (`customer_disabled`).',
  })
  @ApiCreatedResponse({ type: SubscriptionDto })
  @ApiProblemResponses(400, [404, 'The customer or the plan does not exist (`not_found`)'])
  subscribe(
    @UuidParam() id: string,
    @Body() body: SubscribeDto,
    @RequestOrigin() origin: Origin,
  ): Promise<SubscriptionDto> {
    return this.subscriptions.subscribe(id, body, origin);
  }

  @Get('customers/:id/subscriptions')
  @Roles('user', { apiKeys: 'platform' })
  @ApiOperation({ summary: 'A customer’s subscriptions, newest first (cancelled ones too)' })
  @ApiOkResponse({ type: PageDtoOf(SubscriptionDto) })
  @ApiProblemResponses(400, 404)
  list(@UuidParam() id: string, @Query() page: PageQueryDto): Promise<Page<SubscriptionDto>> {
    return this.subscriptions.list(id, page);
  }

  @Patch('subscriptions/:id')
  @ApiProblemResponses(DISABLED) // above @Roles, whose generic 403 it replaces
  @Roles('account_manager', { apiKeys: 'platform' })
  @ApiOperation({
    summary: 'Move a subscription to another plan',
    description:
      'From now on; the current period stays and the next invoice is at the new price. ' +
      'Refused for a disabled customer (`customer_disabled`) and for a cancelled subscription (409).',
  })
  @ApiOkResponse({ type: SubscriptionDto })
  @ApiProblemResponses(
    400,
    [404, 'The subscription or the plan does not exist (`not_found`)'],
    [409, 'The subscription is cancelled (`conflict`)'],
  )
  change(
    @UuidParam() id: string,
    @Body() body: ChangeSubscriptionDto,
    @RequestOrigin() origin: Origin,
  ): Promise<SubscriptionDto> {
    return this.subscriptions.changePlan(id, body, origin);
  }

  @Post('subscriptions/:id/cancel')
  @HttpCode(200)
  @Roles('customer_support', { apiKeys: 'platform' })
  @ApiOperation({
    summary: 'Cancel a subscription',
    description:
      'At once; allowed while the customer is disabled. Cancelling a cancelled subscription changes nothing.',
  })
  @ApiOkResponse({ type: SubscriptionDto })
  @ApiProblemResponses(400, 404)
  cancel(@UuidParam() id: string, @RequestOrigin() origin: Origin): Promise<SubscriptionDto> {
    return this.subscriptions.cancel(id, origin);
  }
}
