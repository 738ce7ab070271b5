import type { Logger } from 'pino';

/**
 * The events an operator reads, one JSON line each, with stable `event` names and fields. Ids
 * and codes only: never a secret, a header value, a body or a free-text reason.
 */
export class OperationsLog {
  constructor(readonly root: Logger) {}

  /** One answered HTTP request (logged by the Fastify onResponse hook). */
  request(fields: {
    method: string;
    route: string;
    status: number;
    durationMs: number;
    requestId: string;
    actorType?: string;
    actorId?: string;
  }): void {
    this.root.info(
      {
        event: 'http.request',
        method: fields.method,
        route: fields.route,
        status: fields.status,
        duration_ms: fields.durationMs,
        request_id: fields.requestId,
        actor_type: fields.actorType,
        actor_id: fields.actorId,
      },
      `${fields.method} ${fields.route} ${fields.status} ${fields.durationMs} ms`,
    );
  }

  /** A customer's status changed (`customer.disabled` / `customer.enabled`), after its commit. */
  customerStatusChanged(fields: {
    customerId: string;
    eventType: string;
    status: string;
    holdId?: string;
  }): void {
    this.root.info(
      {
        event: 'customer.status_changed',
        customer_id: fields.customerId,
        change: fields.eventType,
        status: fields.status,
        hold_id: fields.holdId,
      },
      `customer ${fields.customerId} ${fields.status}`,
    );
  }

  /** A hold was placed, lifted or expired (`hold.*`), after its commit. */
  holdChanged(fields: {
    customerId: string;
    holdId: string;
    eventType: string;
    reasonCode: string;
    source: string;
  }): void {
    this.root.info(
      {
        event: 'hold.changed',
        customer_id: fields.customerId,
        hold_id: fields.holdId,
        change: fields.eventType,
        reason_code: fields.reasonCode,
        source: fields.source,
      },
      `${fields.eventType} ${fields.holdId} (customer ${fields.customerId})`,
    );
  }

  /** A sign-in refused (wrong email or password, or throttled): the email tried, never the password. */
  loginFailed(fields: { email: string; ip: string | undefined; reason: string }): void {
    this.root.warn(
      { event: 'auth.login_failed', email: fields.email, ip: fields.ip, reason: fields.reason },
      `failed sign-in for ${fields.email}`,
    );
  }

  /** What a graceful shutdown drained. */
  shutdown(fields: Record<string, unknown>): void {
    this.root.info({ event: 'shutdown', ...fields }, 'shut down');
  }
}
