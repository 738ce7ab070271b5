import { randomBytes } from 'node:crypto';
import { Feature } from '../../src/plans/entities/feature.entity';
import { PlanFeature } from '../../src/plans/entities/plan-feature.entity';
import { Plan, PlanInterval } from '../../src/plans/entities/plan.entity';
import { Subscription } from '../../src/subscriptions/entities/subscription.entity';
import type { Writes } from './factories';
import type { TestApp } from './test-app';

export const uniqueCode = (prefix: string): string => `${prefix}_${randomBytes(4).toString('hex')}`;

export async function createFeature(t: TestApp, code = uniqueCode('feature')): Promise<Feature> {
  const features = t.db.getRepository(Feature);
  return features.save(features.create({ code, name: code }));
}

/** A plan straight into the database; `grants` maps feature codes to a limit (null: none). */
export async function createPlan(
  t: TestApp,
  options: {
    grants?: Record<string, number | null>;
    userCount?: number;
    amount?: number;
    interval?: PlanInterval;
  } = {},
): Promise<Plan> {
  const plans = t.db.getRepository(Plan);
  const plan = await plans.save(
    plans.create({
      code: uniqueCode('plan'),
      name: 'Test plan',
      amount: options.amount ?? 1000,
      currency: 'EUR',
      interval: options.interval ?? 'month',
      userCount: options.userCount ?? 1,
    }),
  );
  for (const [code, limit] of Object.entries(options.grants ?? {})) {
    const feature = await t.db.getRepository(Feature).findOneByOrFail({ code });
    await t.db.getRepository(PlanFeature).insert({ planId: plan.id, featureId: feature.id, limit });
  }
  return plan;
}

/** An active subscription straight into the database, by default in its first month. */
export async function createSubscription(
  t: Writes,
  customerId: string,
  planId: string,
  period: { start: Date; end: Date } = {
    start: new Date(),
    end: new Date(Date.now() + 30 * 86_400_000),
  },
): Promise<Subscription> {
  const subscriptions = t.db.getRepository(Subscription);
  return subscriptions.save(
    subscriptions.create({
      customerId,
      planId,
      status: 'active',
      startedAt: period.start,
      currentPeriodStart: period.start,
      currentPeriodEnd: period.end,
      cancelledAt: null,
    }),
  );
}
