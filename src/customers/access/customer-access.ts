import type { HoldSource } from '../entities/hold.entity';

/** What the access rule needs of a hold. */
export interface HoldTimes {
  id: string;
  source: HoldSource;
  reasonCode: string;
  reason: string | null;
  startsAt: Date;
  endsAt: Date | null;
  liftedAt: Date | null;
  pauseBilling: boolean;
}

/** Whether a customer is disabled at one instant, and why. */
export interface Access<H extends HoldTimes = HoldTimes> {
  disabled: boolean;
  /** The holds in force, oldest start first (then by id). */
  activeHolds: H[];
  /** The start of the current disabled stretch (overlapping or touching holds make one); null when enabled. */
  disabledSince: Date | null;
  /** The reason of the earliest active hold. */
  reason: string | null;
  billingPaused: boolean;
  /** The next instant after `t` at which an unlifted hold starts or ends: when this answer may change. */
  nextBoundary: Date | null;
}

/**
 * When the hold stops counting: its end, or its lift if earlier. A lift is always in the past of
 * whoever reads it, so for "now" this is the contract's rule (`lifted_at IS NULL AND starts_at <=
 * t < ends_at`); for an earlier instant it also says what was true then.
 */
function stopOf(hold: HoldTimes): number {
  const end = hold.endsAt?.getTime() ?? Infinity;
  const lift = hold.liftedAt?.getTime() ?? Infinity;
  return Math.min(end, lift);
}

export function isActiveAt(hold: HoldTimes, t: Date): boolean {
  const at = t.getTime();
  return hold.startsAt.getTime() <= at && at < stopOf(hold);
}

function byStart(a: HoldTimes, b: HoldTimes): number {
  return a.startsAt.getTime() - b.startsAt.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/**
 * THE rule of "is this customer disabled at t" (customers own it): disabled while at least one
 * hold is active. Authentication, limits, the customer's page, the subscription check and the
 * projection all derive from it.
 */
export function accessAt<H extends HoldTimes>(holds: readonly H[], t: Date): Access<H> {
  const at = t.getTime();
  const activeHolds = holds.filter((hold) => isActiveAt(hold, t)).sort(byStart);

  let next = Infinity;
  for (const hold of holds) {
    if (hold.liftedAt !== null) continue;
    const start = hold.startsAt.getTime();
    if (start > at && start < next) next = start;
    const end = hold.endsAt?.getTime();
    if (end !== undefined && end > at && end < next) next = end;
  }

  let since: number | null = null;
  if (activeHolds.length > 0) {
    since = activeHolds[0].startsAt.getTime();
    // Walk back through holds that ran into the stretch without a gap.
    for (let moved = true; moved;) {
      moved = false;
      for (const hold of holds) {
        const start = hold.startsAt.getTime();
        if (start < since && stopOf(hold) >= since) {
          since = start;
          moved = true;
        }
      }
    }
  }

  return {
    disabled: activeHolds.length > 0,
    activeHolds,
    disabledSince: since === null ? null : new Date(since),
    reason: activeHolds[0]?.reason ?? null,
    billingPaused: activeHolds.some((hold) => hold.pauseBilling),
    nextBoundary: next === Infinity ? null : new Date(next),
  };
}

/** The derived state of a hold at t. */
export function holdStateAt(
  hold: HoldTimes,
  t: Date,
): 'scheduled' | 'active' | 'lifted' | 'expired' {
  if (hold.liftedAt !== null) return 'lifted';
  if (t.getTime() < hold.startsAt.getTime()) return 'scheduled';
  if (hold.endsAt !== null && hold.endsAt.getTime() <= t.getTime()) return 'expired';
  return 'active';
}
