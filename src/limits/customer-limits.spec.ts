import type { LimitsDto } from './dto/limits.dto';
import { customerLimitsAt, limitsJson, PendingHold, Standing } from './customer-limits';
import { PlanSets } from './plan-sets';

const T = Date.parse('2026-06-01T12:00:00.000Z');
const ID = '5d319316-32f2-46b6-bc01-d5bc34fb0435';

function hold(id: string, from: number, until: number | null): PendingHold {
  return {
    id,
    source: 'manual',
    reasonCode: 'non_payment',
    reason: null,
    startsAt: new Date(T + from),
    endsAt: until === null ? null : new Date(T + until),
    liftedAt: null,
    pauseBilling: false,
  };
}

function planSet() {
  const sets = new PlanSets();
  sets.addPlans(
    new Map([
      [
        'p',
        {
          userCount: 3,
          grants: new Map<string, number | null>([
            ['calls', 1000],
            ['sso', null],
          ]),
        },
      ],
    ]),
  );
  return sets.intern('p*2')!;
}

describe('the limits answer in JSON', () => {
  it('is byte for byte JSON.stringify of the DTO, enabled', () => {
    const set = planSet();
    const dto: LimitsDto = {
      customer_id: ID,
      status: 'enabled',
      disabled: false,
      holds: [],
      user_count: 6,
      features: ['calls', 'sso'],
      limits: { calls: 2000 },
      as_of: new Date(T).toISOString(),
    };
    expect(limitsJson(ID, Standing.Enabled, set, undefined, dto.as_of)).toBe(JSON.stringify(dto));
  });

  it('is byte for byte JSON.stringify of the DTO, disabled: its holds and no grant', () => {
    const limits = customerLimitsAt(planSet(), [hold('h1', -1000, 5000), hold('h2', -10, null)], T);
    const dto: LimitsDto = {
      customer_id: ID,
      status: 'disabled',
      disabled: true,
      holds: [
        {
          id: 'h1',
          source: 'manual',
          reason_code: 'non_payment',
          since: new Date(T - 1000).toISOString(),
          until: new Date(T + 5000).toISOString(),
        },
        {
          id: 'h2',
          source: 'manual',
          reason_code: 'non_payment',
          since: new Date(T - 10).toISOString(),
          until: null,
        },
      ],
      user_count: 0,
      features: [],
      limits: {},
      as_of: new Date(T).toISOString(),
    };
    expect(limitsJson(ID, limits.standing, limits.planSet, limits.holds?.json, dto.as_of)).toBe(
      JSON.stringify(dto),
    );
  });
});

describe('customerLimitsAt (a customer in memory across its holds’ boundaries)', () => {
  const set = planSet();
  const scheduled = [hold('h', 1000, 2000)];

  it('is enabled until a scheduled hold starts, then disabled until it ends, then enabled for good', () => {
    expect(customerLimitsAt(set, scheduled, T)).toMatchObject({
      standing: Standing.EnabledUntil,
      until: T + 1000,
      asOf: T,
      holds: { json: '[]' },
    });
    const started = customerLimitsAt(set, scheduled, T + 1000);
    expect(started).toMatchObject({ standing: Standing.Disabled, until: T + 2000, asOf: T + 1000 });
    expect(JSON.parse(started.holds!.json)).toEqual([expect.objectContaining({ id: 'h' })]);
    expect(customerLimitsAt(set, scheduled, T + 2000)).toEqual({
      standing: Standing.Enabled,
      planSet: set,
      holds: undefined,
      asOf: T + 2000,
      until: Infinity,
    });
  });

  it('is enabled with nothing to watch without holds, disabled for good under an open one', () => {
    expect(customerLimitsAt(set, [], T)).toMatchObject({
      standing: Standing.Enabled,
      until: Infinity,
    });
    expect(customerLimitsAt(set, [hold('h', -1, null)], T)).toMatchObject({
      standing: Standing.Disabled,
      until: Infinity,
    });
  });
});
