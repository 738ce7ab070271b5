import type { PlanInterval } from '../plans/entities/plan.entity';
import { nextPeriodEnd } from '../subscriptions/billing-period';

export interface Pause {
  pausedAt: Date;
  resumedAt: Date | null;
}

export interface Period {
  start: Date;
  end: Date;
}

/** Whether billing was paused at any moment of [start, end). */
export function overlapsPause(period: Period, pauses: readonly Pause[]): boolean {
  return pauses.some(
    (pause) =>
      pause.pausedAt < period.end && (pause.resumedAt === null || pause.resumedAt > period.start),
  );
}

/**
 * Walks a subscription from its current period to the one that has not ended by `now`. Each
 * ended period is invoiced unless billing was paused at any moment of it: enabling resumes
 * billing with the first period that starts after the enable, and the paused time (with the
 * rest of the period the pause fell in) is never billed, even when the run comes later.
 */
export function settle(
  current: Period,
  interval: PlanInterval,
  anchor: Date,
  pauses: readonly Pause[],
  now: Date,
): { toInvoice: Period[]; next: Period } {
  const toInvoice: Period[] = [];
  let period = current;
  while (period.end <= now) {
    if (!overlapsPause(period, pauses)) toInvoice.push(period);
    period = { start: period.end, end: nextPeriodEnd(period.end, interval, anchor) };
  }
  return { toInvoice, next: period };
}
