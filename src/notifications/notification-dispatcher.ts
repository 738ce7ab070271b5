import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { createTransport, Transporter } from 'nodemailer';
import { DataSource } from 'typeorm';
import { Clock } from '../common/clock';
import { emailsEnabled } from '../config/app-config';
import type { AppConfig } from '../config/app-config';
import { InjectConfig } from '../config/config.module';
import { Metrics } from '../observability/metrics';
import { EventOutbox } from '../events/event-outbox';
import { PollingWorker } from '../events/polling-worker';
import { AttemptOutcome, Claimed, WorkQueue } from '../events/work-queue';
import { notificationKindOf, renderNotification } from './customer-emails';
import type { NotificationKind } from './entities/customer-notification.entity';

/** Emails claimed per pass; a full batch means more may be due and the next pass follows. */
const BATCH = 20;
/** The longest one SMTP exchange may take, queueing for a pooled connection included. */
export const EMAIL_SEND_TIMEOUT_MS = 30_000;
/** Longer than an attempt can take, so that a live worker's claim never expires under it. */
const LEASE_MS = 2 * EMAIL_SEND_TIMEOUT_MS;
const LAST_ERROR_MAX = 500;

interface DueEmail {
  id: string;
  kind: NotificationKind;
  recipient: string;
  subject: string;
  data: Record<string, unknown> | string;
}

/**
 * Sends the customer emails of the outbox, on every instance with OUTBOX_DISPATCH (the default)
 * when SMTP_URL and EMAIL_FROM are set. A pass claims due rows (SKIP LOCKED plus a lease, in one
 * autocommitted statement), reads them, and only then talks SMTP, holding no connection of the
 * pool; each outcome is written in one short statement. A failed attempt is retried on
 * EMAIL_RETRY_SCHEDULE and the email is failed after the last. Sending is at least once: an
 * instance that dies mid-send leaves its lease to expire and another sends again, with the same
 * Message-ID, so that the copy is recognizable.
 */
@Injectable()
export class NotificationDispatcher implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('NotificationDispatcher');
  private readonly queue: WorkQueue;
  private readonly worker: PollingWorker;
  private readonly shutdown = new AbortController();
  private transport: Transporter | undefined;
  private unsubscribe: (() => void) | undefined;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly outbox: EventOutbox,
    private readonly clock: Clock,
    @InjectConfig() private readonly config: AppConfig,
    private readonly metrics: Metrics,
  ) {
    this.queue = new WorkQueue(
      db,
      clock,
      'customer_notifications',
      { done: 'sent', failed: 'failed' },
      config.emailRetryScheduleMs,
      LEASE_MS,
    );
    this.worker = new PollingWorker('NotificationDispatcher', config.outboxPollIntervalMs, () =>
      this.pass(),
    );
  }

  get enabled(): boolean {
    return this.config.outboxDispatch && emailsEnabled(this.config);
  }

  onApplicationBootstrap(): void {
    if (!this.enabled) return;
    this.transport = createTransport({
      url: this.config.smtpUrl,
      pool: true,
      connectionTimeout: EMAIL_SEND_TIMEOUT_MS,
      greetingTimeout: EMAIL_SEND_TIMEOUT_MS,
      socketTimeout: EMAIL_SEND_TIMEOUT_MS,
    });
    // This instance's own events go out at once, not at the next poll.
    this.unsubscribe = this.outbox.onCommitted((events) => {
      if (events.some((event) => notificationKindOf(event) !== null)) this.worker.kick();
    });
    this.worker.start();
  }

  async onModuleDestroy(): Promise<void> {
    if (!this.enabled) return;
    this.unsubscribe?.();
    // Sends under way give up at once and hand their emails back to the queue.
    this.shutdown.abort();
    await this.worker.stop();
    this.transport?.close();
  }

  /** One pass: whether it may have left due emails behind. */
  private async pass(): Promise<boolean> {
    if (this.shutdown.signal.aborted || !(await this.queue.hasDue())) return false;
    const claimed = await this.queue.claim(BATCH);
    if (claimed.length === 0) return false;
    const emails = await this.db.query<DueEmail[]>(
      `SELECT n.id, n.kind, n.recipient, n.subject, e.data
         FROM customer_notifications n JOIN events e ON e.id = n.event_id
        WHERE n.id = ANY($1::uuid[])`,
      [claimed.map((c) => c.id)],
    );
    const byId = new Map(emails.map((email) => [email.id, email]));
    await Promise.all(claimed.map((item) => this.attempt(item, byId.get(item.id))));
    return claimed.length === BATCH;
  }

  private async attempt(item: Claimed, email: DueEmail | undefined): Promise<void> {
    if (email === undefined) return; // Deleted with its customer meanwhile.
    const timeout = AbortSignal.timeout(EMAIL_SEND_TIMEOUT_MS);
    let outcome: AttemptOutcome;
    try {
      await this.send(email, AbortSignal.any([timeout, this.shutdown.signal]));
      outcome = { ok: true };
    } catch (error) {
      if (this.shutdown.signal.aborted) {
        await this.release(item);
        return;
      }
      outcome = {
        ok: false,
        error: timeout.aborted
          ? `No answer within ${EMAIL_SEND_TIMEOUT_MS / 1000} s`
          : this.describe(error),
      };
    }
    await this.record(item, outcome);
  }

  private async send(email: DueEmail, signal: AbortSignal): Promise<void> {
    const data = typeof email.data === 'string' ? JSON.parse(email.data) : email.data;
    const { text, html } = renderNotification(
      email.kind,
      data as Record<string, unknown>,
      this.config.holdReasonCustomerTexts,
    );
    await this.transport!.sendMail({
      from: this.config.emailFrom,
      to: email.recipient,
      subject: email.subject,
      text,
      html,
      messageId: messageIdOf(email.id, this.config.emailFrom),
      signal,
    });
  }

  /**
   * The attempt's outcome, in one statement: only if the row is still as claimed (no other
   * instance took it over after an expired lease and recorded first).
   */
  private async record(item: Claimed, outcome: AttemptOutcome): Promise<void> {
    const attempt = item.attempts + 1;
    const next = this.queue.next(attempt, outcome);
    const now = this.clock.now().toISOString();
    await this.db.query(
      `UPDATE customer_notifications
          SET state = $3, attempts = $4, next_attempt_at = $5, locked_until = NULL,
              sent_at = $6, last_error = COALESCE($7, last_error), updated_at = $8
        WHERE id = $1 AND attempts = $2 AND state = 'pending'`,
      [
        item.id,
        item.attempts,
        next.state,
        attempt,
        next.nextAttemptAt?.toISOString() ?? null,
        outcome.ok ? now : null,
        outcome.ok ? null : outcome.error,
        now,
      ],
    );
    this.metrics.emails.inc({
      result: outcome.ok ? 'sent' : next.state === 'failed' ? 'failed' : 'retry',
    });
    if (!outcome.ok) {
      const what = `Email ${item.id}, attempt ${attempt}: ${outcome.error}`;
      if (next.state === 'failed') this.logger.error(`${what}; no retry left`);
      else this.logger.warn(`${what}; retried at ${next.nextAttemptAt!.toISOString()}`);
    }
  }

  /** Interrupted by shutdown: not an attempt; any instance may take it again at once. */
  private async release(item: Claimed): Promise<void> {
    this.metrics.outboxHandedBack.inc({ kind: 'email' });
    await this.db.query(
      `UPDATE customer_notifications SET locked_until = NULL
        WHERE id = $1 AND attempts = $2 AND state = 'pending'`,
      [item.id, item.attempts],
    );
  }

  /** The error as the delivery log keeps it: short, and never with SMTP_URL's credentials. */
  private describe(error: unknown): string {
    let message = error instanceof Error ? error.message : String(error);
    for (const secret of credentialsOf(this.config.smtpUrl)) {
      message = message.split(secret).join('***');
    }
    return message.length > LAST_ERROR_MAX ? `${message.slice(0, LAST_ERROR_MAX - 1)}…` : message;
  }
}

/** A Message-ID of the notification: every attempt at one email carries the same. */
export function messageIdOf(notificationId: string, from: string | undefined): string {
  const domain = /@([^\s<>@]+?)>?\s*$/.exec(from ?? '')?.[1] ?? 'customer-access.invalid';
  return `<notification-${notificationId}@${domain}>`;
}

/** The URL itself and its user and password, in every spelling an error could quote. */
function credentialsOf(url: string | undefined): string[] {
  if (!url) return [];
  const secrets = [url];
  try {
    const parsed = new URL(url);
    for (const part of [parsed.password, parsed.username]) {
      if (part.length >= 3) secrets.push(part, decodeURIComponent(part));
    }
  } catch {
    // An unparsable URL is refused at start by nodemailer; the whole string is redacted anyway.
  }
  return secrets;
}
