/** A plan as the limits answer reads it: seats, and a limit per feature (null: unlimited). */
export interface PlanGrants {
  userCount: number;
  grants: ReadonlyMap<string, number | null>;
}

/**
 * What one combination of active subscriptions grants: features united, limits and seats summed.
 * Computed once per combination and shared by every customer that has it (most customers of a
 * business share a handful of combinations), with the part of the limits answer it decides
 * already in JSON.
 */
export interface PlanSet {
  /** Its place in PlanSets, for a compact reference (an Int32Array slot per customer). */
  readonly index: number;
  readonly userCount: number;
  readonly features: readonly string[];
  readonly limits: Readonly<Record<string, number>>;
  /** `,"user_count":…,"features":[…],"limits":{…}`: what follows the holds in an enabled answer. */
  readonly json: string;
}

/**
 * The key of a combination of subscriptions: `plan_id*count` per plan, by plan id, joined by
 * commas (what the store's queries build in SQL); '' for none. A plan held twice counts twice.
 */
export function planSetKey(planIds: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const id of planIds) counts.set(id, (counts.get(id) ?? 0) + 1);
  return [...counts.keys()]
    .sort()
    .map((id) => `${id}*${counts.get(id)}`)
    .join(',');
}

/** The plan ids and counts a key names. */
export function parsePlanSetKey(key: string): { planId: string; count: number }[] {
  if (key === '') return [];
  return key.split(',').map((part) => {
    const star = part.lastIndexOf('*');
    return { planId: part.slice(0, star), count: Number(part.slice(star + 1)) };
  });
}

/**
 * Seats summed over the subscriptions; a feature granted by any of them; its limit the sum of the
 * grants, unless one grants it without a limit (then it is unlimited, and not in `limits`).
 */
export function combine(plans: readonly { plan: PlanGrants; count: number }[]): {
  userCount: number;
  features: string[];
  limits: Record<string, number>;
} {
  let userCount = 0;
  const totals = new Map<string, number | null>(); // null: some grant does not limit it
  for (const { plan, count } of plans) {
    userCount += plan.userCount * count;
    for (const [feature, limit] of plan.grants) {
      const total = totals.get(feature);
      totals.set(feature, total === null || limit === null ? null : (total ?? 0) + limit * count);
    }
  }
  const features = [...totals.keys()].sort();
  const limits: Record<string, number> = {};
  for (const code of features) {
    const total = totals.get(code);
    if (total !== null && total !== undefined) limits[code] = total;
  }
  return { userCount, features, limits };
}

/**
 * The plans known so far, and their interned combinations. `intern(key)` gives the one PlanSet of
 * a key, computing it the first time; undefined when a plan of the key is not known yet (created
 * since the plans were read: the caller reads it, `addPlans`, and asks again). Plans never change
 * once created (no route changes one), so what is known stays true.
 */
export class PlanSets {
  private readonly plans = new Map<string, PlanGrants>();
  private readonly byKey = new Map<string, PlanSet>();
  private readonly all: PlanSet[] = [];

  get size(): number {
    return this.all.length;
  }

  addPlans(plans: ReadonlyMap<string, PlanGrants>): void {
    for (const [id, plan] of plans) this.plans.set(id, plan);
  }

  /** The PlanSet at `index` (from `PlanSet.index`). */
  at(index: number): PlanSet {
    return this.all[index];
  }

  intern(key: string): PlanSet | undefined {
    const known = this.byKey.get(key);
    if (known !== undefined) return known;
    const parts: { plan: PlanGrants; count: number }[] = [];
    for (const { planId, count } of parsePlanSetKey(key)) {
      const plan = this.plans.get(planId);
      if (plan === undefined) return undefined;
      parts.push({ plan, count });
    }
    const { userCount, features, limits } = combine(parts);
    const planSet: PlanSet = Object.freeze({
      index: this.all.length,
      userCount,
      features: Object.freeze(features),
      limits: Object.freeze(limits),
      json:
        `,"user_count":${JSON.stringify(userCount)},"features":${JSON.stringify(features)}` +
        `,"limits":${JSON.stringify(limits)}`,
    });
    this.byKey.set(key, planSet);
    this.all.push(planSet);
    return planSet;
  }

  /** The plan ids of `key` not known yet. */
  unknownPlans(key: string): string[] {
    return parsePlanSetKey(key)
      .map(({ planId }) => planId)
      .filter((planId) => !this.plans.has(planId));
  }
}
