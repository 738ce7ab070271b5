import { overlapsPause, Pause, settle } from './billable-periods';

const at = (day: string) => new Date(`${day}T00:00:00.000Z`);
const iso = (periods: { start: Date; end: Date }[]) =>
  periods.map((p) => `${p.start.toISOString().slice(0, 10)}..${p.end.toISOString().slice(0, 10)}`);

describe('billable periods', () => {
  const anchor = at('2027-01-01');
  const january = { start: at('2027-01-01'), end: at('2027-02-01') };

  it('invoices every ended period when billing was never paused, and stops at the current one', () => {
    const { toInvoice, next } = settle(january, 'month', anchor, [], at('2027-03-15'));
    expect(iso(toInvoice)).toEqual(['2027-01-01..2027-02-01', '2027-02-01..2027-03-01']);
    expect(iso([next])).toEqual(['2027-03-01..2027-04-01']);
  });

  it('skips every period a pause touched and resumes with the first that starts after the enable', () => {
    const pauses: Pause[] = [{ pausedAt: at('2027-01-15'), resumedAt: at('2027-03-10') }];
    const { toInvoice, next } = settle(january, 'month', anchor, pauses, at('2027-05-02'));
    // January (paused from the 15th), February (paused), March (paused until the 10th): free.
    expect(iso(toInvoice)).toEqual(['2027-04-01..2027-05-01']);
    expect(iso([next])).toEqual(['2027-05-01..2027-06-01']);
  });

  it('still invoices a period that ended before the pause began, even if the run comes after', () => {
    const pauses: Pause[] = [{ pausedAt: at('2027-02-03'), resumedAt: null }];
    const { toInvoice } = settle(january, 'month', anchor, pauses, at('2027-02-05'));
    expect(iso(toInvoice)).toEqual(['2027-01-01..2027-02-01']);
  });

  it('treats a pause as touching a period only when they share a moment', () => {
    expect(overlapsPause(january, [{ pausedAt: at('2027-02-01'), resumedAt: null }])).toBe(false);
    expect(
      overlapsPause(january, [{ pausedAt: at('2026-12-01'), resumedAt: at('2027-01-01') }]),
    ).toBe(false);
    expect(
      overlapsPause(january, [{ pausedAt: at('2026-12-01'), resumedAt: at('2027-01-02') }]),
    ).toBe(true);
  });
});
