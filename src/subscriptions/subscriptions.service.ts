import { TransactionHost } from '@nestjs-cls/transactional';
import { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { Injectable } from '@nestjs/common';
import { AuditOrigin, AuditWriter } from '../audit/audit-writer';
import { CustomerChanges } from '../changes/customer-changes';
import { CustomerDisabledError } from '../access/access.errors';
import { ConflictError, NotFoundError } from '../common/errors';
import { creationOrder, keysetPage, Page, PageQueryDto } from '../common/pagination';
import { CustomerAccessReader } from '../customers/access/customer-access-reader';
import { CustomersService } from '../customers/customers.service';
import { UnitOfWork } from '../database/unit-of-work';
import { Plan } from '../plans/entities/plan.entity';
import { PlansService } from '../plans/plans.service';
import { firstPeriod } from './billing-period';
import { ChangeSubscriptionDto, SubscribeDto, SubscriptionDto } from './dto/subscription.dto';
import { Subscription } from './entities/subscription.entity';

const NEWEST_FIRST = creationOrder<Subscription>('s');

/**
 * Subscriptions of customers to plans. Every change (subscribe, change plan, cancel) tells the
 * caches of every instance, in its transaction, that the customer's limits changed.
 */
@Injectable()
export class SubscriptionsService {
  constructor(
    private readonly txHost: TransactionHost<TransactionalAdapterTypeOrm>,
    private readonly unitOfWork: UnitOfWork,
    private readonly customers: CustomersService,
    private readonly access: CustomerAccessReader,
    private readonly plans: PlansService,
    private readonly changes: CustomerChanges,
    private readonly audit: AuditWriter,
  ) {}

  private get subscriptions() {
    return this.txHost.tx.getRepository(Subscription);
  }

  /** Recorded as `subscription.created`. */
  subscribe(
    customerId: string,
    input: SubscribeDto,
    origin: AuditOrigin,
  ): Promise<SubscriptionDto> {
    return this.unitOfWork.run(async () => {
      await this.assertMayChangeSubscriptions(customerId);
      const plan = await this.plans.findByCode(input.plan_code);
      const period = firstPeriod(new Date(), plan.interval);
      const subscription = await this.subscriptions.save(
        this.subscriptions.create({
          customerId,
          planId: plan.id,
          status: 'active',
          startedAt: period.start,
          currentPeriodStart: period.start,
          currentPeriodEnd: period.end,
          cancelledAt: null,
        }),
      );
      await this.audit.append(
        {
          action: 'subscription.created',
          customerId,
          target: { type: 'subscription', id: subscription.id },
          before: {},
          after: { plan_code: plan.code, status: subscription.status },
        },
        origin,
      );
      await this.changes.changed(customerId);
      return SubscriptionDto.from({ ...subscription, plan });
    });
  }

  async list(customerId: string, page: PageQueryDto): Promise<Page<SubscriptionDto>> {
    await this.customers.findOrFail(customerId);
    const query = this.subscriptions
      .createQueryBuilder('s')
      .innerJoinAndSelect('s.plan', 'p')
      .where('s.customer_id = :customerId', { customerId });
    return keysetPage(query, NEWEST_FIRST, 'DESC', page, SubscriptionDto.from);
  }

  /**
   * Moves an active subscription to another plan from now on; the current period and its
   * dates stay, and the next invoice is at the new plan's price. Recorded as
   * `subscription.changed` (the plan codes before and after); the same plan changes nothing.
   */
  changePlan(
    id: string,
    input: ChangeSubscriptionDto,
    origin: AuditOrigin,
  ): Promise<SubscriptionDto> {
    return this.unitOfWork.run(async () => {
      // The customer first, then the subscription: the lock order of every use case here.
      const owner = await this.subscriptions.findOne({
        select: { customerId: true },
        where: { id },
      });
      if (!owner) throw new NotFoundError('Subscription', id);
      const { customerId } = owner;
      await this.assertMayChangeSubscriptions(customerId);
      const subscription = await this.findOrFail(id, true);
      if (subscription.status === 'cancelled') {
        throw new ConflictError('conflict', `Subscription ${id} is cancelled.`);
      }
      const plan = await this.plans.findByCode(input.plan_code);
      if (plan.id === subscription.planId) return SubscriptionDto.from(subscription);
      const previousPlanCode = subscription.plan?.code ?? null;
      subscription.planId = plan.id;
      // The loaded relation would otherwise win over planId when saving.
      subscription.plan = plan;
      const saved = await this.subscriptions.save(subscription);
      await this.audit.append(
        {
          action: 'subscription.changed',
          customerId,
          target: { type: 'subscription', id: saved.id },
          before: { plan_code: previousPlanCode },
          after: { plan_code: plan.code },
        },
        origin,
      );
      await this.changes.changed(customerId);
      return SubscriptionDto.from({ ...saved, plan });
    });
  }

  /**
   * Allowed whatever the customer's status; cancelling a cancelled subscription changes (and
   * records) nothing. Recorded as `subscription.cancelled`.
   */
  cancel(id: string, origin: AuditOrigin): Promise<SubscriptionDto> {
    return this.unitOfWork.run(async () => {
      const subscription = await this.findOrFail(id, true);
      if (subscription.status === 'cancelled') return SubscriptionDto.from(subscription);
      subscription.status = 'cancelled';
      subscription.cancelledAt = new Date();
      const saved = await this.subscriptions.save(subscription);
      await this.audit.append(
        {
          action: 'subscription.cancelled',
          customerId: saved.customerId,
          target: { type: 'subscription', id: saved.id },
          before: { status: 'active' },
          after: { status: 'cancelled' },
        },
        origin,
      );
      await this.changes.changed(subscription.customerId);
      return SubscriptionDto.from(saved);
    });
  }

  /**
   * The one rule for a disabled customer: nothing may add to or change its subscriptions,
   * whoever asks (cancelling stays allowed). The customer's row is read FOR SHARE, which waits
   * for a disable in flight (it holds the row FOR UPDATE) and keeps a disable from committing
   * before this change does, so the check cannot be overtaken. Disabled means what the holds say
   * now (CustomerAccessReader), not the stored projection, which the scheduler may not have
   * rewritten yet at a hold's boundary.
   */
  private async assertMayChangeSubscriptions(customerId: string): Promise<void> {
    await this.customers.findOrFail(customerId, 'pessimistic_read');
    const access = await this.access.read(customerId);
    if (access.disabled) {
      throw new CustomerDisabledError(
        customerId,
        `Customer ${customerId} is disabled: its subscriptions cannot be added to or changed.`,
      );
    }
  }

  /** The subscription with its plan; `lock` holds its row until the transaction ends. */
  private async findOrFail(id: string, lock = false): Promise<Subscription> {
    const subscription = await this.subscriptions.findOne({
      where: { id },
      ...(lock ? { lock: { mode: 'pessimistic_write' as const } } : {}),
    });
    if (!subscription) throw new NotFoundError('Subscription', id);
    subscription.plan = await this.txHost.tx
      .getRepository(Plan)
      .findOneByOrFail({ id: subscription.planId });
    return subscription;
  }
}
