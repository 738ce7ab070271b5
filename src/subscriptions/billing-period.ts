import type { PlanInterval } from '../plans/entities/plan.entity';

const daysInMonth = (year: number, month: number) =>
  new Date(Date.UTC(year, month + 1, 0)).getUTCDate();

/**
 * The end of the period after the one ending at `end`, on the anchor's day (UTC). Counting from
 * the anchor's day rather than from the previous end avoids drift: a subscription started on
 * 31 January renews on 28 (or 29) February, then on 31 March, not on 28 March.
 */
export function nextPeriodEnd(end: Date, interval: PlanInterval, anchor: Date): Date {
  const year = end.getUTCFullYear() + (interval === 'year' ? 1 : 0);
  const month = end.getUTCMonth() + (interval === 'month' ? 1 : 0);
  const target = new Date(Date.UTC(year, month, 1));
  const day = Math.min(
    anchor.getUTCDate(),
    daysInMonth(target.getUTCFullYear(), target.getUTCMonth()),
  );
  return new Date(
    Date.UTC(
      target.getUTCFullYear(),
      target.getUTCMonth(),
      day,
      anchor.getUTCHours(),
      anchor.getUTCMinutes(),
      anchor.getUTCSeconds(),
      anchor.getUTCMilliseconds(),
    ),
  );
}

/** The first period of a subscription starting at `start`. */
export function firstPeriod(start: Date, interval: PlanInterval): { start: Date; end: Date } {
  return { start, end: nextPeriodEnd(start, interval, start) };
}
