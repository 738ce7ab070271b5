import { Injectable } from '@nestjs/common';
import { ClsService } from 'nestjs-cls';
import type { AuditAction, StatusSnapshot } from './entities/audit-log.entity';

/** A real change a use case made, to be written to the audit log by the interceptor. */
export interface StatusChange {
  action: AuditAction;
  customerId: string;
  reason: string | null;
  before: StatusSnapshot;
  after: StatusSnapshot;
}

const PENDING = Symbol('audit:pending');

/**
 * The changes an `@Audited()` request has made so far. The use case reports each real change
 * here, inside the transaction the audit interceptor opened; the interceptor writes them in
 * that same transaction once the handler returns.
 */
@Injectable()
export class AuditTrail {
  constructor(private readonly cls: ClsService) {}

  /** Starts collecting; called by the interceptor inside its transaction. */
  open(): void {
    this.cls.set(PENDING, []);
  }

  /**
   * Fails loudly when called outside an `@Audited()` route: a change made there would commit
   * without its audit entry. Use cases call it before they change anything.
   */
  assertOpen(): void {
    this.pending();
  }

  record(change: StatusChange): void {
    this.pending().push(change);
  }

  /** The changes recorded since `open()`, and stops collecting. */
  take(): StatusChange[] {
    const changes = this.pending();
    this.cls.set(PENDING, undefined);
    return changes;
  }

  private pending(): StatusChange[] {
    const pending = this.cls.isActive()
      ? this.cls.get<StatusChange[] | undefined>(PENDING)
      : undefined;
    if (!pending) {
      throw new Error('A status change was attempted outside an @Audited() route');
    }
    return pending;
  }
}
