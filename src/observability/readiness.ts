import { Injectable } from '@nestjs/common';
import { DomainError } from '../common/errors';

/** Seconds a load balancer is told to wait before it tries this instance again. */
const RETRY_AFTER_DRAINING_SECONDS = 5;

/** Readiness answered while this instance drains: the load balancer stops sending it requests. */
export class DrainingError extends DomainError {
  constructor() {
    super(
      'service_unavailable',
      503,
      'Service unavailable',
      'The service is shutting down. Try another instance.',
      undefined,
      { 'Retry-After': String(RETRY_AFTER_DRAINING_SECONDS) },
    );
  }
}

/** Whether this instance still wants traffic: false from the start of a graceful shutdown. */
@Injectable()
export class Readiness {
  private drainingSince: number | null = null;

  get draining(): boolean {
    return this.drainingSince !== null;
  }

  startDraining(): void {
    this.drainingSince ??= Date.now();
  }

  /** Throws the 503 readiness answers while draining. */
  assertReady(): void {
    if (this.draining) throw new DrainingError();
  }
}
