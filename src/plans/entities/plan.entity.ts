import {
  Check,
  Column,
  CreateDateColumn,
  Entity,
  OneToMany,
  PrimaryGeneratedColumn,
  Unique,
} from 'typeorm';
import { PlanFeature } from './plan-feature.entity';

export type PlanInterval = 'month' | 'year';
export const PLAN_INTERVALS: readonly PlanInterval[] = ['month', 'year'];

/** What a customer subscribes to: a price per interval, seats, and features with limits. */
@Entity({ name: 'plans' })
@Unique('uq_plans_code', ['code'])
@Check('ck_plans_interval', `"interval" IN ('month', 'year')`)
@Check('ck_plans_amount', `amount >= 0`)
@Check('ck_plans_user_count', `user_count >= 0`)
@Check('ck_plans_currency', `currency ~ '^[A-Z]{3}$'`)
export class Plan {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'pk_plans' })
  id: string;

  @Column({ type: 'text' })
  code: string;

  @Column({ type: 'text' })
  name: string;

  /** Price per interval in the currency's minor unit (cents). */
  @Column({ type: 'integer' })
  amount: number;

  /** ISO 4217, upper case. */
  @Column({ type: 'text' })
  currency: string;

  @Column({ type: 'text' })
  interval: PlanInterval;

  @Column({ name: 'user_count', type: 'integer' })
  userCount: number;

  @OneToMany(() => PlanFeature, (grant) => grant.plan, { cascade: ['insert'] })
  grants?: PlanFeature[];

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz', precision: 3 })
  createdAt: Date;
}
