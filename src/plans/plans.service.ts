import { TransactionHost } from '@nestjs-cls/transactional';
import { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { Injectable } from '@nestjs/common';
import { In } from 'typeorm';
import { AuditOrigin, AuditWriter } from '../audit/audit-writer';
import { NotFoundError, ValidationFailedError } from '../common/errors';
import { KeysetColumn, keysetPage, Page, PageQueryDto } from '../common/pagination';
import { asConflict } from '../common/postgres-errors';
import { FeatureExistsError, PlanExistsError } from './plans.errors';
import { UnitOfWork } from '../database/unit-of-work';
import { CreateFeatureDto, FeatureDto } from './dto/feature.dto';
import { CreatePlanDto, PlanDto } from './dto/plan.dto';
import { Feature } from './entities/feature.entity';
import { PlanFeature } from './entities/plan-feature.entity';
import { Plan } from './entities/plan.entity';

const BY_CODE_FEATURES: KeysetColumn<Feature>[] = [
  { expression: 'f.code', cast: 'text', value: (f) => f.code },
];
const BY_CODE_PLANS: KeysetColumn<Plan>[] = [
  { expression: 'p.code', cast: 'text', value: (p) => p.code },
];

/**
 * Features and plans. A plan does not change once created (a new price is a new plan), so
 * creating one changes no customer's limits and needs no cache invalidation.
 */
@Injectable()
export class PlansService {
  constructor(
    private readonly txHost: TransactionHost<TransactionalAdapterTypeOrm>,
    private readonly unitOfWork: UnitOfWork,
    private readonly audit: AuditWriter,
  ) {}

  private get features() {
    return this.txHost.tx.getRepository(Feature);
  }

  private get plans() {
    return this.txHost.tx.getRepository(Plan);
  }

  /** Recorded as `feature.created`. */
  async createFeature(input: CreateFeatureDto, origin: AuditOrigin): Promise<FeatureDto> {
    try {
      return await this.unitOfWork.run(async () => {
        const feature = await this.features.save(
          this.features.create({ code: input.code, name: input.name }),
        );
        await this.audit.append(
          {
            action: 'feature.created',
            target: { type: 'feature', id: feature.id },
            before: {},
            after: { code: feature.code, name: feature.name },
          },
          origin,
        );
        return FeatureDto.from(feature);
      });
    } catch (error) {
      throw asConflict(error, 'uq_features_code', new FeatureExistsError(input.code));
    }
  }

  listFeatures(page: PageQueryDto): Promise<Page<FeatureDto>> {
    return keysetPage(
      this.features.createQueryBuilder('f'),
      BY_CODE_FEATURES,
      'ASC',
      page,
      FeatureDto.from,
    );
  }

  /** Recorded as `plan.created`, with its price, features and limits. */
  createPlan(input: CreatePlanDto, origin: AuditOrigin): Promise<PlanDto> {
    return this.unitOfWork.run(async () => {
      const features = await this.features.findBy({ code: In(input.features) });
      const known = new Set(features.map((f) => f.code));
      const unknown = input.features.filter((code) => !known.has(code));
      const stray = Object.keys(input.limits).filter((code) => !input.features.includes(code));
      if (unknown.length > 0 || stray.length > 0) {
        throw new ValidationFailedError([
          ...(unknown.length > 0
            ? [{ field: 'features', message: `unknown feature codes: ${unknown.join(', ')}` }]
            : []),
          ...(stray.length > 0
            ? [{ field: 'limits', message: `not among the plan's features: ${stray.join(', ')}` }]
            : []),
        ]);
      }
      let plan: Plan;
      try {
        plan = await this.plans.save(
          this.plans.create({
            code: input.code,
            name: input.name,
            amount: input.amount,
            currency: input.currency,
            interval: input.interval,
            userCount: input.user_count,
          }),
        );
      } catch (error) {
        throw asConflict(error, 'uq_plans_code', new PlanExistsError(input.code));
      }
      plan.grants = await this.txHost.tx.getRepository(PlanFeature).save(
        features.map((feature) => ({
          planId: plan.id,
          featureId: feature.id,
          limit: input.limits[feature.code] ?? null,
          feature,
        })),
      );
      await this.audit.append(
        {
          action: 'plan.created',
          target: { type: 'plan', id: plan.id },
          before: {},
          after: {
            code: plan.code,
            name: plan.name,
            amount: plan.amount,
            currency: plan.currency,
            interval: plan.interval,
            user_count: plan.userCount,
            features: [...input.features],
            limits: { ...input.limits },
          },
        },
        origin,
      );
      return PlanDto.from(plan);
    });
  }

  async listPlans(page: PageQueryDto): Promise<Page<PlanDto>> {
    const qb = this.plans
      .createQueryBuilder('p')
      .leftJoinAndSelect('p.grants', 'g')
      .leftJoinAndSelect('g.feature', 'f');
    // keysetPage limits rows, and a join multiplies them: page the plans, then load their grants.
    const ids = await keysetPage(
      this.plans.createQueryBuilder('p'),
      BY_CODE_PLANS,
      'ASC',
      page,
      (p) => p,
    );
    if (ids.data.length === 0) return { data: [], next_cursor: ids.next_cursor };
    const plans = await qb.where('p.id IN (:...ids)', { ids: ids.data.map((p) => p.id) }).getMany();
    const byId = new Map(plans.map((p) => [p.id, p]));
    return {
      data: ids.data.map((p) => PlanDto.from(byId.get(p.id)!)),
      next_cursor: ids.next_cursor,
    };
  }

  /** The plan with this code, for subscriptions; 404 when there is none. */
  async findByCode(code: string): Promise<Plan> {
    const plan = await this.plans.findOneBy({ code });
    if (!plan) throw new NotFoundError('Plan', code);
    return plan;
  }
}
