import { accessAt, holdStateAt, HoldTimes } from './customer-access';

const T = Date.parse('2026-06-01T12:00:00.000Z');
const at = (seconds: number) => new Date(T + seconds * 1000);

function hold(id: string, from: number, until: number | null, extra: Partial<HoldTimes> = {}) {
  return {
    id,
    source: 'manual' as const,
    reasonCode: 'other',
    reason: `reason ${id}`,
    startsAt: at(from),
    endsAt: until === null ? null : at(until),
    liftedAt: null,
    pauseBilling: false,
    ...extra,
  };
}

describe('accessAt (is this customer disabled at t)', () => {
  it('is enabled with no holds, with nothing ahead', () => {
    expect(accessAt([], at(0))).toEqual({
      disabled: false,
      activeHolds: [],
      disabledSince: null,
      reason: null,
      billingPaused: false,
      nextBoundary: null,
    });
  });

  // [holds, t, disabled, active ids, since, next boundary]
  const cases: [string, HoldTimes[], number, boolean, string[], number | null, number | null][] = [
    ['open hold started before t', [hold('a', -10, null)], 0, true, ['a'], -10, null],
    ['a hold starting exactly at t is active', [hold('a', 0, null)], 0, true, ['a'], 0, null],
    ['a hold ending exactly at t is over', [hold('a', -10, 0)], 0, false, [], null, null],
    ['a hold 1 ms before its end', [hold('a', -10, 0)], -0.001, true, ['a'], -10, 0],
    ['a scheduled hold', [hold('a', 5, 9)], 0, false, [], null, 5],
    ['a scheduled hold, its end next', [hold('a', 5, 9)], 6, true, ['a'], 5, 9],
    [
      'a lifted hold counts for nothing now and is no boundary',
      [hold('a', -10, 20, { liftedAt: at(-1) })],
      0,
      false,
      [],
      null,
      null,
    ],
    [
      'two overlapping holds: since the earlier, boundary the earlier end',
      [hold('b', -5, 30), hold('a', -10, 10)],
      0,
      true,
      ['a', 'b'],
      -10,
      10,
    ],
    [
      'touching holds make one stretch',
      [hold('a', -20, -10), hold('b', -10, null)],
      0,
      true,
      ['b'],
      -20,
      null,
    ],
    [
      'a gap starts a new stretch',
      [hold('a', -20, -11), hold('b', -10, null)],
      0,
      true,
      ['b'],
      -10,
      null,
    ],
    [
      'a hold lifted while another ran keeps the stretch',
      [hold('a', -20, null, { liftedAt: at(-5) }), hold('b', -10, null)],
      0,
      true,
      ['b'],
      -20,
      null,
    ],
    [
      'equal starts order by id',
      [hold('b', -10, null), hold('a', -10, null)],
      0,
      true,
      ['a', 'b'],
      -10,
      null,
    ],
    [
      'the next boundary is the nearest start or end',
      [hold('a', -10, 40), hold('b', 20, 30)],
      0,
      true,
      ['a'],
      -10,
      20,
    ],
  ];

  it.each(cases)('%s', (_, holds, t, disabled, ids, since, next) => {
    const access = accessAt(holds, at(t));
    expect(access.disabled).toBe(disabled);
    expect(access.activeHolds.map((h) => h.id)).toEqual(ids);
    expect(access.disabledSince).toEqual(since === null ? null : at(since));
    expect(access.nextBoundary).toEqual(next === null ? null : at(next));
  });

  it('gives the reason of the earliest active hold', () => {
    expect(accessAt([hold('b', -5, null), hold('a', -10, null)], at(0)).reason).toBe('reason a');
    expect(
      accessAt([hold('b', -5, null), hold('a', -10, null, { reason: null })], at(0)).reason,
    ).toBeNull();
  });

  it('pauses billing while any active hold says so, and only then', () => {
    const pausing = hold('p', 5, 10, { pauseBilling: true });
    expect(accessAt([hold('a', -10, null), pausing], at(0)).billingPaused).toBe(false);
    expect(accessAt([hold('a', -10, null), pausing], at(6)).billingPaused).toBe(true);
    expect(accessAt([hold('a', -10, null), pausing], at(10)).billingPaused).toBe(false);
  });
});

describe('holdStateAt', () => {
  it.each([
    ['scheduled', hold('a', 5, null), 0],
    ['active', hold('a', 0, 5), 0],
    ['expired', hold('a', -5, 0), 0],
    ['lifted', hold('a', 5, null, { liftedAt: at(-1) }), 0],
    ['lifted', hold('a', -5, 0, { liftedAt: at(-1) }), 0],
  ] as const)('%s', (state, h, t) => {
    expect(holdStateAt(h, at(t))).toBe(state);
  });
});
