import { combine, parsePlanSetKey, PlanGrants, planSetKey, PlanSets } from './plan-sets';

const plan = (userCount: number, grants: Record<string, number | null>): PlanGrants => ({
  userCount,
  grants: new Map(Object.entries(grants)),
});

describe('plan-set keys', () => {
  it('name each plan once with its count, by plan id, whatever the order of the subscriptions', () => {
    expect(planSetKey(['b', 'a', 'b'])).toBe('a*1,b*2');
    expect(planSetKey(['b', 'b', 'a'])).toBe(planSetKey(['a', 'b', 'b']));
    expect(planSetKey([])).toBe('');
  });

  it('read back into plans and counts', () => {
    expect(parsePlanSetKey('a*1,b*2')).toEqual([
      { planId: 'a', count: 1 },
      { planId: 'b', count: 2 },
    ]);
    expect(parsePlanSetKey('')).toEqual([]);
  });
});

describe('combine (what a set of subscriptions grants)', () => {
  it('unites features, sums limits and seats: 10 and 15 give 25', () => {
    expect(
      combine([
        { plan: plan(5, { calls: 10, seats: 3 }), count: 1 },
        { plan: plan(7, { calls: 15, sso: null }), count: 1 },
      ]),
    ).toEqual({
      userCount: 12,
      features: ['calls', 'seats', 'sso'],
      limits: { calls: 25, seats: 3 },
    });
  });

  it('counts a plan held twice twice', () => {
    expect(combine([{ plan: plan(2, { calls: 100 }), count: 2 }])).toEqual({
      userCount: 4,
      features: ['calls'],
      limits: { calls: 200 },
    });
  });

  it('leaves a feature unlimited when any grant has no limit, in either order', () => {
    const limited = { plan: plan(1, { calls: 10 }), count: 1 };
    const unlimited = { plan: plan(1, { calls: null }), count: 1 };
    expect(combine([limited, unlimited]).limits).toEqual({});
    expect(combine([unlimited, limited]).limits).toEqual({});
    expect(combine([unlimited, limited]).features).toEqual(['calls']);
  });

  it('grants nothing without a subscription', () => {
    expect(combine([])).toEqual({ userCount: 0, features: [], limits: {} });
  });
});

describe('PlanSets (interning)', () => {
  it('computes a combination once and gives every customer that has it the same one', () => {
    const sets = new PlanSets();
    sets.addPlans(new Map([['p1', plan(3, { calls: 1000 })]]));
    const first = sets.intern('p1*2');
    expect(first).toBeDefined();
    expect(sets.intern('p1*2')).toBe(first);
    expect(sets.at(first!.index)).toBe(first);
    expect(sets.size).toBe(1);
    expect(first).toMatchObject({ userCount: 6, features: ['calls'], limits: { calls: 2000 } });
  });

  it('keeps the answer’s part in JSON, as JSON.stringify writes those fields', () => {
    const sets = new PlanSets();
    sets.addPlans(
      new Map([
        ['a', plan(5, { 'feature "quoted"': 10, b: null, '10': 3 })],
        ['b', plan(7, { a: 1 })],
      ]),
    );
    const set = sets.intern('a*1,b*1')!;
    const expected = JSON.stringify({
      user_count: set.userCount,
      features: set.features,
      limits: set.limits,
    });
    expect(`{${set.json.slice(1)}}`).toBe(expected);
    expect(JSON.parse(expected)).toEqual({
      user_count: 12,
      features: ['10', 'a', 'b', 'feature "quoted"'],
      limits: { '10': 3, a: 1, 'feature "quoted"': 10 },
    });
  });

  it('says which plans it does not know yet, and interns once they are added', () => {
    const sets = new PlanSets();
    sets.addPlans(new Map([['known', plan(1, {})]]));
    expect(sets.intern('known*1,new*1')).toBeUndefined();
    expect(sets.unknownPlans('known*1,new*1')).toEqual(['new']);
    sets.addPlans(new Map([['new', plan(2, { x: 5 })]]));
    expect(sets.intern('known*1,new*1')).toMatchObject({ userCount: 3, limits: { x: 5 } });
  });
});
