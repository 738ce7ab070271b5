import { firstPeriod, nextPeriodEnd } from './billing-period';

const at = (iso: string) => new Date(iso);

describe('billing periods', () => {
  it('renews monthly on the anchor day, clamped to short months without drifting', () => {
    const anchor = at('2027-01-31T10:00:00.000Z');
    const feb = nextPeriodEnd(anchor, 'month', anchor);
    expect(feb.toISOString()).toBe('2027-02-28T10:00:00.000Z');
    const mar = nextPeriodEnd(feb, 'month', anchor);
    expect(mar.toISOString()).toBe('2027-03-31T10:00:00.000Z');
    expect(nextPeriodEnd(at('2027-12-31T10:00:00.000Z'), 'month', anchor).toISOString()).toBe(
      '2028-01-31T10:00:00.000Z',
    );
  });

  it('renews yearly, 29 February falling back to 28 in common years', () => {
    const anchor = at('2028-02-29T00:00:00.000Z');
    expect(nextPeriodEnd(anchor, 'year', anchor).toISOString()).toBe('2029-02-28T00:00:00.000Z');
    expect(nextPeriodEnd(at('2031-02-28T00:00:00.000Z'), 'year', anchor).toISOString()).toBe(
      '2032-02-29T00:00:00.000Z',
    );
  });

  it('starts the first period at the start', () => {
    const start = at('2027-05-15T08:30:00.000Z');
    expect(firstPeriod(start, 'month')).toEqual({ start, end: at('2027-06-15T08:30:00.000Z') });
  });
});
