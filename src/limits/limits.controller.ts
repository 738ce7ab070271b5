import { Controller, Get, Header, Req } from '@nestjs/common';
import { RouteConfig } from '@nestjs/platform-fastify';
import { ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { AllowDisabledCustomerKey, Roles } from '../access/access.decorators';
import { ApiProblemResponses } from '../common/api-problem-responses';
import { API_HEADERS_ONLY } from '../common/security-headers';
import { parseUuid } from '../common/validation';
import { LimitsDto } from './dto/limits.dto';
import { LimitsStore } from './limits-store';

/** Fastify route config flag that puts LimitsFastLane in front of a route (this one). */
export const LIMITS_FAST_LANE = 'limitsFastLane';
/** The answer is LimitsDto already in JSON (built from parts kept in memory): said so, as Fastify would. */
export const LIMITS_CONTENT_TYPE = 'application/json; charset=utf-8';

@ApiTags('limits')
@Controller('customers')
export class LimitsController {
  constructor(private readonly limits: LimitsStore) {}

  @Get(':id/limits')
  @Roles('user', { apiKeys: 'platform_and_own_customer' })
  @AllowDisabledCustomerKey()
  // A key and limits found in memory are answered before Nest's pipeline (LimitsFastLane),
  // with the same answer; everything else comes here. Every answer of the route carries the
  // headers of a JSON API (API_HEADERS), the lane's as the route's.
  @RouteConfig({ [LIMITS_FAST_LANE]: true, [API_HEADERS_ONLY]: true })
  @Header('Content-Type', LIMITS_CONTENT_TYPE)
  @ApiOperation({
    summary: 'What the customer may do now (the hot path)',
    description:
      'Computed from the active subscriptions: features united, limits and user_count summed. ' +
      'A disabled customer gets 200 with status "disabled", disabled: true and no grants; its own ' +
      'key may still call this route (and only this one).',
  })
  @ApiParam({ name: 'id', type: String, format: 'uuid' })
  @ApiOkResponse({ type: LimitsDto })
  @ApiProblemResponses(400, 404)
  get(@Req() request: FastifyRequest<{ Params: { id: string } }>): string | Promise<string> {
    // Read from the request rather than with @UuidParam(): a pipeable parameter runs Nest's
    // pipe chain, and would keep this route out of the fast lane. Same 400 answer.
    return this.limits.limitsOf(parseUuid(request.params.id));
  }
}
