import { Injectable } from '@nestjs/common';
import type { AuditBatch } from '../audit/audit-writer';
import { Origin, systemOrigin } from '../access/actor';
import { accessAt } from '../customers/access/customer-access';
import type { Customer, CustomerStatus } from '../customers/entities/customer.entity';
import type { Hold } from '../customers/entities/hold.entity';
import type { EventType } from '../events/entities/event.entity';

/** An event a use case owes the outbox, published with the customer as it is at the commit. */
export interface PendingEvent {
  type: EventType;
  /** The hold concerned: the placed, lifted or expired one, or the cause of a transition. */
  hold: Hold | null;
}

/**
 * Keeps a customer's stored projection (status, disabled_at, disabled_reason, billing_paused,
 * next_boundary_at) equal to what its holds say, and writes the audit entries of every status
 * transition (into the use case's audit batch). The caller holds the customer's row lock and saves the customer; the projection's
 * `status` is what the audit log has recorded, so a transition is written exactly when it flips,
 * whichever instance or request gets the lock first. Each entry it writes is also owed to the
 * outbox as an event (`events`), so that events and transitions are one and the same.
 */
@Injectable()
export class CustomerProjection {
  /**
   * Walks the customer through every hold boundary that passed since it was last projected, in
   * order, as the `system` actor with effective_at = the boundary: `hold.expired` for holds whose
   * end it is, then the transition if the status flips there. Returns whether anything passed.
   */
  catchUp(
    customer: Customer,
    holds: Hold[],
    now: Date,
    events: PendingEvent[],
    audit: AuditBatch,
  ): boolean {
    const origin = systemOrigin();
    let moved = false;
    while (customer.nextBoundaryAt !== null && customer.nextBoundaryAt <= now) {
      const boundary = customer.nextBoundaryAt;
      const at = boundary.getTime();
      let cause: Hold | undefined;
      for (const hold of holds) {
        if (hold.liftedAt !== null) continue;
        if (hold.endsAt?.getTime() === at) {
          cause ??= hold;
          audit.add(
            {
              action: 'hold.expired',
              customerId: customer.id,
              holdId: hold.id,
              reason: null,
              before: { state: 'active' },
              after: { state: 'expired' },
              effectiveAt: boundary,
            },
            origin,
          );
          events.push({ type: 'hold.expired', hold });
        } else if (hold.startsAt.getTime() === at) {
          cause ??= hold;
        }
      }
      this.projectAt(customer, holds, boundary, origin, cause ?? null, null, events, audit);
      moved = true;
    }
    return moved;
  }

  /**
   * Rewrites the projection for instant `t`, writing the transition (by `origin`, caused by
   * `cause`, with `reason`) if the status flips. Returns the transition entry's id, if one was
   * written.
   */
  projectAt(
    customer: Customer,
    holds: Hold[],
    t: Date,
    origin: Origin,
    cause: Hold | null,
    reason: string | null,
    events: PendingEvent[],
    audit: AuditBatch,
  ): string | null {
    const access = accessAt(holds, t);
    const status: CustomerStatus = access.disabled ? 'disabled' : 'enabled';
    let entryId: string | null = null;
    if (status !== customer.status) {
      entryId = audit.add(
        {
          action: status === 'disabled' ? 'customer.disabled' : 'customer.enabled',
          customerId: customer.id,
          holdId: cause?.id ?? null,
          reason,
          before: { status: customer.status },
          after: { status },
          effectiveAt: t,
        },
        origin,
      );
      events.push({
        type: status === 'disabled' ? 'customer.disabled' : 'customer.enabled',
        hold: cause,
      });
    }
    customer.status = status;
    customer.disabledAt = access.disabledSince;
    customer.disabledReason = access.reason;
    customer.billingPaused = access.billingPaused;
    customer.nextBoundaryAt = access.nextBoundary;
    return entryId;
  }
}
