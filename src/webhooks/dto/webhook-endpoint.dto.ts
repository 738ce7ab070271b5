import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayNotEmpty,
  ArrayUnique,
  IsArray,
  IsBoolean,
  IsIn,
  IsOptional,
  IsString,
  IsUUID,
  MaxLength,
} from 'class-validator';
import { PageQueryDto } from '../../common/pagination';
import { CanonicalUuid } from '../../common/transforms';
import { EVENT_TYPES } from '../../events/entities/event.entity';
import type { WebhookAttempt } from '../entities/webhook-attempt.entity';
import type { WebhookEndpoint } from '../entities/webhook-endpoint.entity';
import { URL_MAX_LENGTH } from '../webhook-url-safety';

export const ALL_EVENTS = '*';
export const SUBSCRIBABLE = [...EVENT_TYPES, ALL_EVENTS] as const;
export const DESCRIPTION_MAX_LENGTH = 500;

const URL_DESCRIPTION =
  'Absolute http(s) URL without credentials. Unless WEBHOOK_ALLOW_PRIVATE_NETWORKS=true (the ' +
  'default outside production) it must be `https` and its host must not resolve to a loopback, ' +
  'private, link-local or otherwise non-public address; checked again at every delivery.';
const EVENT_TYPES_DESCRIPTION =
  'The event types delivered here, or exactly `["*"]` for all of them. `webhook.test` is only ' +
  'ever sent by POST /webhook-endpoints/{id}/test.';

export class CreateWebhookEndpointDto {
  @ApiProperty({ maxLength: URL_MAX_LENGTH, description: URL_DESCRIPTION })
  @IsString()
  @MaxLength(URL_MAX_LENGTH)
  url: string;

  @ApiProperty({
    type: [String],
    enum: SUBSCRIBABLE,
    description: EVENT_TYPES_DESCRIPTION,
    example: ['customer.disabled', 'customer.enabled'],
  })
  @IsArray()
  @ArrayNotEmpty()
  @ArrayMaxSize(SUBSCRIBABLE.length)
  @ArrayUnique()
  @IsIn(SUBSCRIBABLE, { each: true })
  event_types: string[];

  @ApiPropertyOptional({ type: String, nullable: true, maxLength: DESCRIPTION_MAX_LENGTH })
  @IsOptional()
  @IsString()
  @MaxLength(DESCRIPTION_MAX_LENGTH)
  description?: string | null;
}

export class UpdateWebhookEndpointDto {
  @ApiPropertyOptional({ maxLength: URL_MAX_LENGTH, description: URL_DESCRIPTION })
  @IsOptional()
  @IsString()
  @MaxLength(URL_MAX_LENGTH)
  url?: string;

  @ApiPropertyOptional({ type: [String], enum: SUBSCRIBABLE, description: EVENT_TYPES_DESCRIPTION })
  @IsOptional()
  @IsArray()
  @ArrayNotEmpty()
  @ArrayMaxSize(SUBSCRIBABLE.length)
  @ArrayUnique()
  @IsIn(SUBSCRIBABLE, { each: true })
  event_types?: string[];

  @ApiPropertyOptional({
    type: String,
    nullable: true,
    maxLength: DESCRIPTION_MAX_LENGTH,
    description: 'null clears it',
  })
  @IsOptional()
  @IsString()
  @MaxLength(DESCRIPTION_MAX_LENGTH)
  description?: string | null;

  @ApiPropertyOptional({
    description:
      'A disabled endpoint gets no new deliveries; its pending ones fail with `endpoint disabled`',
  })
  @IsOptional()
  @IsBoolean()
  enabled?: boolean;
}

/** An endpoint as listed: never its secret. */
export class WebhookEndpointDto {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty()
  url: string;

  @ApiProperty({ type: [String], enum: SUBSCRIBABLE })
  event_types: string[];

  @ApiProperty({ type: String, nullable: true })
  description: string | null;

  @ApiProperty()
  enabled: boolean;

  @ApiProperty({ format: 'date-time' })
  created_at: string;

  static from(this: void, endpoint: WebhookEndpoint): WebhookEndpointDto {
    return {
      id: endpoint.id,
      url: endpoint.url,
      event_types: endpoint.eventTypes,
      description: endpoint.description,
      enabled: endpoint.enabled,
      created_at: endpoint.createdAt.toISOString(),
    };
  }
}

export class WebhookSecretDto {
  @ApiProperty({
    example: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
    description:
      'The signing secret (Standard Webhooks: `whsec_` + base64). Shown in this answer only: ' +
      'store it now.',
  })
  secret: string;
}

export class CreatedWebhookEndpointDto extends WebhookEndpointDto {
  @ApiProperty({
    example: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
    description:
      'The signing secret (Standard Webhooks: `whsec_` + base64). Shown in this answer only: ' +
      'store it now.',
  })
  secret: string;
}

export class WebhookTestDto {
  @ApiProperty({
    format: 'uuid',
    description: 'The `webhook.test` event, sent to this endpoint only',
  })
  event_id: string;
}

export class RedeliverEventDto {
  @ApiProperty({ format: 'uuid', description: 'The endpoint to deliver the event to again' })
  @CanonicalUuid()
  @IsUUID()
  endpoint_id: string;
}

/** One attempt of a delivery: the delivery log. */
export class WebhookAttemptDto {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty({ format: 'uuid', description: 'The event sent (the `webhook-id` header)' })
  event_id: string;

  @ApiProperty({ description: 'Which attempt of its delivery this was, from 1' })
  attempt: number;

  @ApiProperty({
    type: Number,
    nullable: true,
    description: 'The receiver’s HTTP status; null when none came (timeout, refused, blocked)',
  })
  status_code: number | null;

  @ApiProperty({ description: 'From the request’s start to the answer or the failure' })
  duration_ms: number;

  @ApiProperty({
    type: String,
    nullable: true,
    description:
      'Why the attempt failed, e.g. `HTTP 500`, `timeout after 10000 ms`; null when delivered',
  })
  error: string | null;

  @ApiProperty({
    type: String,
    format: 'date-time',
    nullable: true,
    description: 'When it was delivered: set on the attempt that got a 2xx in time',
  })
  delivered_at: string | null;

  @ApiProperty({
    type: String,
    format: 'date-time',
    nullable: true,
    description: 'When the next attempt is due after this one failed; null when none follows',
  })
  next_attempt_at: string | null;

  @ApiProperty({ format: 'date-time', description: 'When the attempt ended' })
  created_at: string;

  static from(this: void, attempt: WebhookAttempt): WebhookAttemptDto {
    return {
      id: attempt.id,
      event_id: attempt.eventId,
      attempt: attempt.attempt,
      status_code: attempt.statusCode,
      duration_ms: attempt.durationMs,
      error: attempt.error,
      delivered_at: attempt.deliveredAt?.toISOString() ?? null,
      next_attempt_at: attempt.nextAttemptAt?.toISOString() ?? null,
      created_at: attempt.createdAt.toISOString(),
    };
  }
}

export class ListWebhookAttemptsQueryDto extends PageQueryDto {}
