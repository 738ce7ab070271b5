import { TransactionHost } from '@nestjs-cls/transactional';
import { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { Injectable } from '@nestjs/common';
import { AuditOrigin, AuditWriter } from '../audit/audit-writer';
import type { StatusSnapshot } from '../audit/entities/audit-log.entity';
import { Clock } from '../common/clock';
import { FieldError, NotFoundError, ValidationFailedError } from '../common/errors';
import { creationOrder, keysetPage, Page, PageQueryDto } from '../common/pagination';
import type { AppConfig } from '../config/app-config';
import { InjectConfig } from '../config/config.module';
import { UnitOfWork } from '../database/unit-of-work';
import { EventOutbox } from '../events/event-outbox';
import { EventsService } from '../event-feed/events.service';
import {
  ALL_EVENTS,
  CreatedWebhookEndpointDto,
  CreateWebhookEndpointDto,
  UpdateWebhookEndpointDto,
  WebhookAttemptDto,
  WebhookEndpointDto,
  WebhookSecretDto,
  WebhookTestDto,
} from './dto/webhook-endpoint.dto';
import { WebhookAttempt } from './entities/webhook-attempt.entity';
import { WebhookDelivery } from './entities/webhook-delivery.entity';
import { WebhookEndpoint } from './entities/webhook-endpoint.entity';
import { WebhookDispatcher } from './webhook-dispatcher';
import { generateSecret, sealSecret } from './webhook-secrets';
import { destinationProblem } from './webhook-url-safety';

/** How long the previous secret still signs after a rotation. */
export const PREVIOUS_SECRET_VALID_MS = 24 * 3600 * 1000;

const ENDPOINTS_NEWEST_FIRST = creationOrder<WebhookEndpoint>('w');

const ATTEMPTS_NEWEST_FIRST = creationOrder<WebhookAttempt>('a');

/**
 * Webhook endpoints (where events go, with their signing secrets), their delivery logs, test
 * events and redeliveries. The deliveries themselves are the sink's and the dispatcher's.
 */
@Injectable()
export class WebhookEndpointsService {
  constructor(
    private readonly txHost: TransactionHost<TransactionalAdapterTypeOrm>,
    private readonly unitOfWork: UnitOfWork,
    private readonly outbox: EventOutbox,
    private readonly events: EventsService,
    private readonly dispatcher: WebhookDispatcher,
    private readonly clock: Clock,
    private readonly audit: AuditWriter,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  private get endpoints() {
    return this.txHost.tx.getRepository(WebhookEndpoint);
  }

  private get deliveries() {
    return this.txHost.tx.getRepository(WebhookDelivery);
  }

  /**
   * The secret is in this answer only; the table keeps it sealed when a key is configured.
   * Recorded as `webhook_endpoint.created` (never the secret).
   */
  async create(
    input: CreateWebhookEndpointDto,
    origin: AuditOrigin,
  ): Promise<CreatedWebhookEndpointDto> {
    await this.check(input);
    const secret = generateSecret();
    return this.unitOfWork.run(async () => {
      const saved = await this.endpoints.save(
        this.endpoints.create({
          url: input.url,
          eventTypes: input.event_types,
          description: input.description ?? null,
          enabled: true,
          secret: sealSecret(secret, this.config.webhookSecretsKey),
          previousSecret: null,
          previousSecretExpiresAt: null,
        }),
      );
      await this.record('webhook_endpoint.created', saved.id, {}, described(saved), origin);
      return { ...WebhookEndpointDto.from(saved), secret };
    });
  }

  list(page: PageQueryDto): Promise<Page<WebhookEndpointDto>> {
    return keysetPage(
      this.endpoints.createQueryBuilder('w'),
      ENDPOINTS_NEWEST_FIRST,
      'DESC',
      page,
      WebhookEndpointDto.from,
    );
  }

  /** Recorded as `webhook_endpoint.updated` with the fields it changed, when it changed any. */
  async update(
    id: string,
    input: UpdateWebhookEndpointDto,
    origin: AuditOrigin,
  ): Promise<WebhookEndpointDto> {
    await this.check(input);
    return this.unitOfWork.run(async () => {
      const endpoint = await this.lockOrFail(id);
      const before = described(endpoint);
      if (input.url !== undefined) endpoint.url = input.url;
      if (input.event_types !== undefined) endpoint.eventTypes = input.event_types;
      if (input.description !== undefined) endpoint.description = input.description;
      if (input.enabled !== undefined) endpoint.enabled = input.enabled;
      const saved = await this.endpoints.save(endpoint);
      const after = described(saved);
      const changed = Object.keys(after).filter(
        (field) => JSON.stringify(after[field]) !== JSON.stringify(before[field]),
      );
      if (changed.length > 0) {
        await this.record(
          'webhook_endpoint.updated',
          id,
          Object.fromEntries(changed.map((field) => [field, before[field]])),
          Object.fromEntries(changed.map((field) => [field, after[field]])),
          origin,
        );
      }
      return WebhookEndpointDto.from(saved);
    });
  }

  /**
   * Its deliveries and their log go with it (ON DELETE CASCADE); an attempt under way is dropped.
   * Recorded as `webhook_endpoint.deleted` with what it was.
   */
  async remove(id: string, origin: AuditOrigin): Promise<void> {
    await this.unitOfWork.run(async () => {
      const endpoint = await this.lockOrFail(id);
      await this.endpoints.delete({ id });
      await this.record('webhook_endpoint.deleted', id, described(endpoint), {}, origin);
    });
  }

  /**
   * A new secret, shown once. The one it replaces still signs every delivery (a second
   * signature in `webhook-signature`) for 24 hours, so that receivers can switch without losing
   * one; a rotation within those 24 hours drops the oldest. Recorded as
   * `webhook_endpoint.secret_rotated` (never a secret).
   */
  rotateSecret(id: string, origin: AuditOrigin): Promise<WebhookSecretDto> {
    return this.unitOfWork.run(async () => {
      const endpoint = await this.lockOrFail(id);
      const secret = generateSecret();
      const now = this.clock.now();
      endpoint.previousSecret = endpoint.secret;
      endpoint.previousSecretExpiresAt = new Date(now.getTime() + PREVIOUS_SECRET_VALID_MS);
      endpoint.secret = sealSecret(secret, this.config.webhookSecretsKey);
      await this.endpoints.save(endpoint);
      await this.record(
        'webhook_endpoint.secret_rotated',
        id,
        {},
        { previous_secret_expires_at: endpoint.previousSecretExpiresAt.toISOString() },
        origin,
      );
      return { secret };
    });
  }

  /**
   * A `webhook.test` event through the outbox, delivered to this endpoint only (the sink never
   * fans one out), whether or not the endpoint subscribes to it.
   */
  async sendTest(id: string): Promise<WebhookTestDto> {
    const sent = await this.unitOfWork.run(async () => {
      const endpoint = await this.lockOrFail(id);
      const [event] = await this.outbox.record([
        { type: 'webhook.test', customerId: null, data: { test: true }, notifyCustomer: false },
      ]);
      await this.enqueue(event.id, endpoint.id, event.createdAt);
      return { event_id: event.id };
    });
    // The sink wrote no delivery for it, so the event alone starts no pass: start it here.
    this.dispatcher.kick();
    return sent;
  }

  /** A new delivery of a past event to an endpoint, with its own attempts; the same `webhook-id`. */
  async redeliver(eventId: string, endpointId: string): Promise<void> {
    await this.events.findOrFail(eventId);
    await this.unitOfWork.run(async () => {
      const endpoint = await this.lockOrFail(endpointId);
      await this.enqueue(eventId, endpoint.id, this.clock.now());
    });
    // No event announces it: start the pass here rather than wait for the next poll.
    this.dispatcher.kick();
  }

  async attempts(id: string, page: PageQueryDto): Promise<Page<WebhookAttemptDto>> {
    await this.findOrFail(id);
    const query = this.txHost.tx
      .getRepository(WebhookAttempt)
      .createQueryBuilder('a')
      .where('a.endpoint_id = :id', { id });
    return keysetPage(query, ATTEMPTS_NEWEST_FIRST, 'DESC', page, WebhookAttemptDto.from);
  }

  private async record(
    action:
      | 'webhook_endpoint.created'
      | 'webhook_endpoint.updated'
      | 'webhook_endpoint.deleted'
      | 'webhook_endpoint.secret_rotated',
    endpointId: string,
    before: StatusSnapshot,
    after: StatusSnapshot,
    origin: AuditOrigin,
  ): Promise<void> {
    await this.audit.append(
      { action, target: { type: 'webhook_endpoint', id: endpointId }, before, after },
      origin,
    );
  }

  private async enqueue(eventId: string, endpointId: string, due: Date): Promise<void> {
    await this.deliveries.insert({ eventId, endpointId, state: 'pending', nextAttemptAt: due });
  }

  private async findOrFail(id: string): Promise<WebhookEndpoint> {
    const endpoint = await this.endpoints.findOneBy({ id });
    if (!endpoint) throw new NotFoundError('Webhook endpoint', id);
    return endpoint;
  }

  private async lockOrFail(id: string): Promise<WebhookEndpoint> {
    const endpoint = await this.endpoints.findOne({
      where: { id },
      lock: { mode: 'pessimistic_write' },
    });
    if (!endpoint) throw new NotFoundError('Webhook endpoint', id);
    return endpoint;
  }

  /**
   * What the validators cannot say: `["*"]` stands alone, and where the URL points (resolved
   * before any transaction opens: a slow DNS answer holds no connection).
   */
  private async check(input: UpdateWebhookEndpointDto): Promise<void> {
    const errors: FieldError[] = [];
    if (input.url !== undefined) {
      const problem = await destinationProblem(input.url, this.config.webhookAllowPrivateNetworks);
      if (problem) errors.push({ field: 'url', message: problem });
    }
    if (input.event_types?.includes(ALL_EVENTS) && input.event_types.length > 1) {
      errors.push({
        field: 'event_types',
        message: 'must be exactly ["*"] to receive every type, or a list of types without "*"',
      });
    }
    if (errors.length > 0) throw new ValidationFailedError(errors);
  }
}

/** What an audit entry says of an endpoint: everything but its secrets. */
function described(endpoint: WebhookEndpoint): StatusSnapshot {
  return {
    url: endpoint.url,
    event_types: [...endpoint.eventTypes],
    description: endpoint.description,
    enabled: endpoint.enabled,
  };
}
