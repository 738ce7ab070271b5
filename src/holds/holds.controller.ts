import { Body, Controller, Get, HttpCode, Post, Query } from '@nestjs/common';
import { ApiBody, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { RequestOrigin, Roles } from '../access/access.decorators';
import type { Origin } from '../access/actor';
import { ApiProblemResponses } from '../common/api-problem-responses';
import { Page, PageDtoOf } from '../common/pagination';
import { UuidParam } from '../common/validation';
import { emailsEnabled } from '../config/app-config';
import type { AppConfig } from '../config/app-config';
import { InjectConfig } from '../config/config.module';
import {
  HoldDto,
  HoldReasonCodesDto,
  ListCustomerHoldsQueryDto,
  ListHoldsQueryDto,
  LiftHoldDto,
  PlaceHoldDto,
  ReviewHoldDto,
} from './dto/hold.dto';
import { HoldsService } from './holds.service';

const NOT_ACTIVE = [409, 'The hold is already lifted or expired (`hold_not_active`)'] as [
  number,
  string,
];

@ApiTags('holds')
@Controller()
export class HoldsController {
  constructor(
    private readonly holds: HoldsService,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  @Get('hold-reason-codes')
  @Roles('user', { apiKeys: 'platform' })
  @ApiOperation({
    summary: 'The reason codes a hold may carry',
    description:
      'The configured `HOLD_REASON_CODES`, so that forms offer exactly what is accepted, and whether ' +
      'customers are emailed about holds.',
  })
  @ApiOkResponse({ type: HoldReasonCodesDto })
  reasonCodes(): HoldReasonCodesDto {
    return {
      reason_codes: [...this.config.holdReasonCodes],
      customer_emails: emailsEnabled(this.config),
    };
  }

  @Post('customers/:id/holds')
  @Roles('customer_support', { apiKeys: 'platform' })
  @ApiOperation({
    summary: 'Place a hold on a customer',
    description:
      'A `manual` hold: the customer is disabled while it is active (from `starts_at`, default now, ' +
      'until `ends_at` or a lift). `starts_at` may lie at most 60 s in the past; `ends_at` must be after ' +
      'it and in the future; `reason_code` one of HOLD_REASON_CODES. Writes `hold.placed` (and ' +
      '`customer.disabled` if it takes effect now); the reason is also added to the notes.',
  })
  @ApiCreatedResponse({ type: HoldDto })
  @ApiProblemResponses(400, 404)
  place(
    @UuidParam() id: string,
    @Body() body: PlaceHoldDto,
    @RequestOrigin() origin: Origin,
  ): Promise<HoldDto> {
    return this.holds.place(id, body, origin);
  }

  @Get('customers/:id/holds')
  @Roles('user', { apiKeys: 'platform' })
  @ApiOperation({ summary: 'A customer’s holds, newest first' })
  @ApiOkResponse({ type: PageDtoOf(HoldDto) })
  @ApiProblemResponses(400, 404)
  listForCustomer(
    @UuidParam() id: string,
    @Query() query: ListCustomerHoldsQueryDto,
  ): Promise<Page<HoldDto>> {
    return this.holds.listForCustomer(id, query);
  }

  @Get('holds')
  @Roles('user', { apiKeys: 'platform' })
  @ApiOperation({
    summary: 'List holds, newest first',
    description: '`review_due=true`: active holds whose review date has passed.',
  })
  @ApiOkResponse({ type: PageDtoOf(HoldDto) })
  @ApiProblemResponses(400)
  list(@Query() query: ListHoldsQueryDto): Promise<Page<HoldDto>> {
    return this.holds.list(query);
  }

  @Post('holds/:id/lift')
  @HttpCode(200)
  @Roles('customer_support', { apiKeys: 'platform' })
  @ApiOperation({
    summary: 'Lift a hold',
    description:
      'A `manual` hold needs `customer_support`; a hold of another source needs `account_manager`. ' +
      'Lifting a scheduled hold cancels it. Writes `hold.lifted` (and `customer.enabled` if it was the last ' +
      'active hold); the reason is also added to the notes.',
  })
  @ApiBody({ type: LiftHoldDto, required: false })
  @ApiOkResponse({ type: HoldDto, description: 'The hold, lifted' })
  @ApiProblemResponses(400, 404, NOT_ACTIVE)
  lift(
    @UuidParam() id: string,
    @Body() body: LiftHoldDto,
    @RequestOrigin() origin: Origin,
  ): Promise<HoldDto> {
    return this.holds.lift(id, body, origin);
  }

  @Post('holds/:id/review')
  @HttpCode(200)
  @Roles('customer_support', { apiKeys: 'platform' })
  @ApiOperation({
    summary: 'Review a hold: set its next review date',
    description: 'Writes `hold.reviewed`; the note, if any, is added to the customer’s notes.',
  })
  @ApiOkResponse({ type: HoldDto })
  @ApiProblemResponses(400, 404, NOT_ACTIVE)
  review(
    @UuidParam() id: string,
    @Body() body: ReviewHoldDto,
    @RequestOrigin() origin: Origin,
  ): Promise<HoldDto> {
    return this.holds.review(id, body, origin);
  }
}
