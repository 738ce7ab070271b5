import { setMaxListeners } from 'node:events';
import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Clock } from '../common/clock';
import type { AppConfig } from '../config/app-config';
import { InjectConfig } from '../config/config.module';
import { Metrics } from '../observability/metrics';
import { EventOutbox } from '../events/event-outbox';
import { PollingWorker } from '../events/polling-worker';
import { WorkQueue } from '../events/work-queue';
import type { DeliveryState } from './entities/webhook-delivery.entity';
import { openSecret } from './webhook-secrets';
import { SendResult, WebhookSender } from './webhook-sender';
import { WebhookSink } from './webhook-sink';

/** Deliveries claimed per pass. */
export const BATCH = 32;
/** Requests in flight at once per instance. */
export const CONCURRENCY = 16;
/**
 * No request starts later than this into a pass: what is left goes back to the queue for the
 * next pass. With one attempt's timeout after it, a pass ends within its lease (timeout + 30 s),
 * so no other instance takes a delivery that is still being attempted.
 */
const START_WINDOW_MS = 20_000;
const LEASE_MARGIN_MS = 30_000;

/** A claimed delivery with what sending it needs, read after the claim. */
interface Due {
  id: string;
  attempts: number;
  endpoint_id: string;
  url: string;
  enabled: boolean;
  secret: string;
  previous_secret: string | null;
  previous_secret_expires_at: Date | null;
  event_id: string;
  type: string;
  customer_id: string | null;
  data: Record<string, unknown>;
  created_at: Date;
}

/** What one attempt came to, as the log records it. */
interface Outcome {
  state: DeliveryState;
  nextAttemptAt: Date | null;
  statusCode: number | null;
  durationMs: number;
  error: string | null;
  delivered: boolean;
}

/** At most `n` holders at a time. */
class Slots {
  private readonly waiting: (() => void)[] = [];
  constructor(private free: number) {}

  async acquire(): Promise<void> {
    if (this.free > 0) {
      this.free -= 1;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.free += 1;
  }
}

/**
 * Delivers webhooks on every instance with OUTBOX_DISPATCH (the default). A pass claims up to
 * BATCH due deliveries (FOR UPDATE SKIP LOCKED with a lease, in one autocommitted statement),
 * reads their events and endpoints, and sends them at most CONCURRENCY at a time; each attempt
 * is then written in one statement (the log row and the delivery's new state). No connection is
 * held while a receiver answers. Deliveries of one customer's events to one endpoint are sent one
 * after the other in the events' order (a hold.placed before the customer.disabled it caused);
 * the rest in parallel. Order holds within a pass and while nothing fails: receivers must not
 * rely on it (Standard Webhooks promises none).
 */
@Injectable()
export class WebhookDispatcher implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('WebhookDispatcher');
  private readonly queue: WorkQueue;
  private readonly sender: WebhookSender;
  private readonly shutdown = new AbortController();
  private worker: PollingWorker | undefined;
  private unsubscribe: (() => void) | undefined;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly outbox: EventOutbox,
    private readonly sink: WebhookSink,
    private readonly clock: Clock,
    @InjectConfig() private readonly config: AppConfig,
    private readonly metrics: Metrics,
  ) {
    // Every request in flight listens to it: up to CONCURRENCY at once, not a leak.
    setMaxListeners(0, this.shutdown.signal);
    this.queue = new WorkQueue(
      db,
      clock,
      'webhook_deliveries',
      { done: 'delivered', failed: 'failed' },
      config.webhookRetryScheduleMs,
      config.webhookTimeoutMs + LEASE_MARGIN_MS,
    );
    this.sender = new WebhookSender({
      timeoutMs: config.webhookTimeoutMs,
      allowPrivateNetworks: config.webhookAllowPrivateNetworks,
    });
  }

  onApplicationBootstrap(): void {
    if (!this.config.outboxDispatch) return;
    this.worker = new PollingWorker('WebhookDispatcher', this.config.outboxPollIntervalMs, () =>
      this.pass(),
    );
    // This instance's own events go out at once (those that made deliveries: most find no
    // endpoint); others' on the next poll.
    this.unsubscribe = this.outbox.onCommitted((_events, written) => {
      if (written.get(this.sink) !== 0) this.worker?.kick();
    });
    this.worker.start();
  }

  /** Stops polling and aborts the requests in flight: a hanging receiver cannot delay a shutdown. */
  async onModuleDestroy(): Promise<void> {
    this.unsubscribe?.();
    this.shutdown.abort();
    await this.worker?.stop();
    this.sender.destroy();
  }

  /** A pass now (a redelivery, which no event announces); nothing when this instance does not dispatch. */
  kick(): void {
    this.worker?.kick();
  }

  /** One pass; true when the batch was full, so that the next follows at once. */
  private async pass(): Promise<boolean> {
    if (!(await this.queue.hasDue())) return false;
    const claimed = await this.queue.claim(BATCH);
    if (claimed.length === 0) return false;
    const started = Date.now();
    // A delivery whose endpoint was deleted since is gone with it (ON DELETE CASCADE).
    const due = await this.db.query<Due[]>(
      `SELECT d.id, d.attempts, d.endpoint_id, w.url, w.enabled, w.secret, w.previous_secret,
              w.previous_secret_expires_at, e.id AS event_id, e.type, e.customer_id, e.data,
              e.created_at
         FROM webhook_deliveries d
         JOIN events e ON e.id = d.event_id
         JOIN webhook_endpoints w ON w.id = d.endpoint_id
        WHERE d.id = ANY ($1::uuid[])
        ORDER BY e.seq`,
      [claimed.map((c) => c.id)],
    );

    const lanes = new Map<string, Due[]>();
    for (const delivery of due) {
      const key = `${delivery.endpoint_id}/${delivery.customer_id ?? delivery.event_id}`;
      lanes.set(key, [...(lanes.get(key) ?? []), delivery]);
    }
    const slots = new Slots(CONCURRENCY);
    const putBack: Due[] = [];
    const runLane = async (lane: Due[]) => {
      for (const delivery of lane) {
        await slots.acquire();
        let outcome: Outcome | null = null;
        try {
          const late = Date.now() - started > START_WINDOW_MS;
          if (!this.shutdown.signal.aborted && !late) outcome = await this.attempt(delivery);
        } finally {
          slots.release();
        }
        if (outcome) await this.record(delivery, outcome);
        else putBack.push(delivery);
      }
    };
    const lanesDone = await Promise.allSettled([...lanes.values()].map(runLane));
    if (putBack.length > 0) await this.release(putBack).catch(() => undefined);
    const failure = lanesDone.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failure) throw failure.reason;
    return claimed.length === BATCH;
  }

  /** Sends one delivery, or says why it was not sent; null when shutdown stopped it. */
  private async attempt(delivery: Due): Promise<Outcome | null> {
    if (!delivery.enabled) return this.failedOutcome(delivery, 'endpoint disabled', true);
    let secrets: string[];
    try {
      secrets = this.secretsOf(delivery);
    } catch (error) {
      // The message names the problem (no key, another key), never the secret.
      return this.failedOutcome(delivery, (error as Error).message);
    }
    const body = JSON.stringify({
      id: delivery.event_id,
      type: delivery.type,
      created_at: delivery.created_at.toISOString(),
      data: delivery.data,
    });
    const result = await this.sender.send(
      { url: delivery.url, eventId: delivery.event_id, body, secrets },
      this.shutdown.signal,
    );
    if (result.aborted) return null;
    return this.outcome(delivery, result);
  }

  /** The current secret, and the previous one while it is still valid after a rotation. */
  private secretsOf(delivery: Due): string[] {
    const key = this.config.webhookSecretsKey;
    const secrets = [openSecret(delivery.secret, key)];
    if (
      delivery.previous_secret !== null &&
      delivery.previous_secret_expires_at !== null &&
      delivery.previous_secret_expires_at > this.clock.now()
    ) {
      secrets.push(openSecret(delivery.previous_secret, key));
    }
    return secrets;
  }

  private outcome(delivery: Due, result: SendResult): Outcome {
    if (!result.delivered) {
      return {
        ...this.failedOutcome(delivery, result.error ?? 'failed'),
        statusCode: result.statusCode,
        durationMs: result.durationMs,
      };
    }
    return {
      state: 'delivered',
      nextAttemptAt: null,
      statusCode: result.statusCode,
      durationMs: result.durationMs,
      error: null,
      delivered: true,
    };
  }

  /** A failed attempt: retried on the schedule, or failed for good (`final`, or none left). */
  private failedOutcome(delivery: Due, error: string, final = false): Outcome {
    const next = final
      ? { state: 'failed', nextAttemptAt: null }
      : this.queue.next(delivery.attempts + 1, { ok: false, error });
    return {
      state: next.state as DeliveryState,
      nextAttemptAt: next.nextAttemptAt,
      statusCode: null,
      durationMs: 0,
      error,
      delivered: false,
    };
  }

  /**
   * The attempt's log row and the delivery's new state, in one statement (one transaction).
   * Guarded by the attempt count the claim saw: should another instance have taken the delivery
   * over after a lapsed lease and recorded first, this attempt is not counted twice.
   */
  private async record(delivery: Due, outcome: Outcome): Promise<void> {
    const now = this.clock.now();
    await this.db.query(
      `WITH d AS (
         UPDATE webhook_deliveries
            SET state = $3, attempts = attempts + 1, next_attempt_at = $4::timestamptz,
                locked_until = NULL, last_error = $5::text, updated_at = now()
          WHERE id = $1 AND attempts = $2
         RETURNING id, event_id, endpoint_id, attempts)
       INSERT INTO webhook_attempts (delivery_id, event_id, endpoint_id, attempt, status_code,
                                     duration_ms, error, delivered_at, next_attempt_at, created_at)
       SELECT id, event_id, endpoint_id, attempts, $6::integer, $7::integer, $5::text,
              $8::timestamptz, $4::timestamptz, $9::timestamptz
         FROM d`,
      [
        delivery.id,
        delivery.attempts,
        outcome.state,
        outcome.nextAttemptAt?.toISOString() ?? null,
        outcome.error,
        outcome.statusCode,
        outcome.durationMs,
        outcome.delivered ? now.toISOString() : null,
        now.toISOString(),
      ],
    );
    this.metrics.webhookDeliveries.inc({
      result: outcome.delivered ? 'delivered' : outcome.state === 'failed' ? 'failed' : 'retry',
    });
    if (!outcome.delivered && outcome.state === 'failed') {
      this.logger.warn(
        `Delivery ${delivery.id} of event ${delivery.event_id} to endpoint ${delivery.endpoint_id} failed for good: ${outcome.error}`,
      );
    }
  }

  /** Back to the queue, due as before, for the next pass (or another instance). */
  private async release(deliveries: Due[]): Promise<void> {
    this.metrics.outboxHandedBack.inc({ kind: 'webhook' }, deliveries.length);
    await this.db.query(
      `UPDATE webhook_deliveries d SET locked_until = NULL
         FROM unnest($1::uuid[], $2::integer[]) AS r(id, attempts)
        WHERE d.id = r.id AND d.attempts = r.attempts AND d.state = 'pending'`,
      [deliveries.map((d) => d.id), deliveries.map((d) => d.attempts)],
    );
  }
}
