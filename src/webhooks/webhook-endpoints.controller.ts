import { Body, Controller, Delete, Get, HttpCode, Patch, Post, Query } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { RequestOrigin, Roles } from '../access/access.decorators';
import type { Origin } from '../access/actor';
import { ApiProblemResponses } from '../common/api-problem-responses';
import { Page, PageDtoOf, PageQueryDto } from '../common/pagination';
import { UuidParam } from '../common/validation';
import {
  CreatedWebhookEndpointDto,
  CreateWebhookEndpointDto,
  ListWebhookAttemptsQueryDto,
  RedeliverEventDto,
  UpdateWebhookEndpointDto,
  WebhookAttemptDto,
  WebhookEndpointDto,
  WebhookSecretDto,
  WebhookTestDto,
} from './dto/webhook-endpoint.dto';
import { WebhookEndpointsService } from './webhook-endpoints.service';

const UNKNOWN_ENDPOINT: [number, string] = [404, 'No such webhook endpoint (`not_found`)'];

@ApiTags('webhooks')
@Controller('webhook-endpoints')
@Roles('developer')
export class WebhookEndpointsController {
  constructor(private readonly endpoints: WebhookEndpointsService) {}

  @Post()
  @ApiOperation({
    summary: 'Add a webhook endpoint',
    description:
      'Every event of the subscribed types is POSTed to `url` as Standard Webhooks describes ' +
      '(`webhook-id`, `webhook-timestamp`, `webhook-signature`), retried on WEBHOOK_RETRY_SCHEDULE ' +
      'until a 2xx answers within WEBHOOK_TIMEOUT_MS. The signing secret is in this answer only: ' +
      'store it now, it cannot be shown again.',
  })
  @ApiCreatedResponse({ type: CreatedWebhookEndpointDto })
  @ApiProblemResponses(400)
  create(
    @Body() body: CreateWebhookEndpointDto,
    @RequestOrigin() origin: Origin,
  ): Promise<CreatedWebhookEndpointDto> {
    return this.endpoints.create(body, origin);
  }

  @Get()
  @ApiOperation({ summary: 'List webhook endpoints, newest first (never their secrets)' })
  @ApiOkResponse({ type: PageDtoOf(WebhookEndpointDto) })
  @ApiProblemResponses(400)
  list(@Query() page: PageQueryDto): Promise<Page<WebhookEndpointDto>> {
    return this.endpoints.list(page);
  }

  @Patch(':id')
  @ApiOperation({
    summary: 'Change a webhook endpoint',
    description:
      'A disabled endpoint gets no deliveries of new events, and its pending ones fail with ' +
      '`endpoint disabled` in its log; enabling it again does not bring them back (redeliver them).',
  })
  @ApiOkResponse({ type: WebhookEndpointDto })
  @ApiProblemResponses(400, UNKNOWN_ENDPOINT)
  update(
    @UuidParam() id: string,
    @Body() body: UpdateWebhookEndpointDto,
    @RequestOrigin() origin: Origin,
  ): Promise<WebhookEndpointDto> {
    return this.endpoints.update(id, body, origin);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({
    summary: 'Delete a webhook endpoint',
    description: 'Its pending deliveries and its delivery log go with it.',
  })
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiProblemResponses(400, UNKNOWN_ENDPOINT)
  remove(@UuidParam() id: string, @RequestOrigin() origin: Origin): Promise<void> {
    return this.endpoints.remove(id, origin);
  }

  @Post(':id/rotate-secret')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Give a webhook endpoint a new signing secret',
    description:
      'The new secret is in this answer only. For 24 hours every delivery carries two ' +
      'signatures, by the new and the previous secret (`webhook-signature: v1,<new> v1,<old>`), ' +
      'so that receivers can switch over without missing one.',
  })
  @ApiOkResponse({ type: WebhookSecretDto })
  @ApiProblemResponses(400, UNKNOWN_ENDPOINT)
  rotateSecret(
    @UuidParam() id: string,
    @RequestOrigin() origin: Origin,
  ): Promise<WebhookSecretDto> {
    return this.endpoints.rotateSecret(id, origin);
  }

  @Post(':id/test')
  @HttpCode(202)
  @ApiOperation({
    summary: 'Send a test event to a webhook endpoint',
    description:
      'Records a `webhook.test` event (data `{"test": true}`) and delivers it to this endpoint ' +
      'only, like any other event (signed, retried, logged).',
  })
  @ApiAcceptedResponse({ type: WebhookTestDto })
  @ApiProblemResponses(400, UNKNOWN_ENDPOINT)
  sendTest(@UuidParam() id: string): Promise<WebhookTestDto> {
    return this.endpoints.sendTest(id);
  }

  @Get(':id/deliveries')
  @ApiOperation({
    summary: 'A webhook endpoint’s delivery log: every attempt, newest first',
  })
  @ApiOkResponse({ type: PageDtoOf(WebhookAttemptDto) })
  @ApiProblemResponses(400, UNKNOWN_ENDPOINT)
  attempts(
    @UuidParam() id: string,
    @Query() query: ListWebhookAttemptsQueryDto,
  ): Promise<Page<WebhookAttemptDto>> {
    return this.endpoints.attempts(id, query);
  }
}

@ApiTags('webhooks')
@Controller('events')
@Roles('developer')
export class EventRedeliveryController {
  constructor(private readonly endpoints: WebhookEndpointsService) {}

  @Post(':id/redeliver')
  @HttpCode(202)
  @ApiOperation({
    summary: 'Deliver an event to an endpoint again',
    description:
      'A new delivery of the event (the same `webhook-id`, so receivers can tell it is the same ' +
      'event) with attempts of its own, whether or not the endpoint subscribes to its type.',
  })
  @ApiAcceptedResponse({ description: 'Queued' })
  @ApiProblemResponses(400, [404, 'No such event or webhook endpoint (`not_found`)'])
  async redeliver(@UuidParam() id: string, @Body() body: RedeliverEventDto): Promise<void> {
    await this.endpoints.redeliver(id, body.endpoint_id);
  }
}
