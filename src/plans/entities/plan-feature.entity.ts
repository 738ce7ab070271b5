import {
  Check,
  Column,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryColumn,
  type Relation,
} from 'typeorm';
import { Feature } from './feature.entity';
import { Plan } from './plan.entity';

/** A feature a plan grants, with its limit (null: not limited). */
@Entity({ name: 'plan_features' })
@Check('ck_plan_features_limit', `"limit" IS NULL OR "limit" >= 0`)
@Index('ix_plan_features_feature_id', ['featureId'])
export class PlanFeature {
  @PrimaryColumn({ name: 'plan_id', type: 'uuid', primaryKeyConstraintName: 'pk_plan_features' })
  planId: string;

  @PrimaryColumn({ name: 'feature_id', type: 'uuid', primaryKeyConstraintName: 'pk_plan_features' })
  featureId: string;

  @Column({ type: 'integer', nullable: true })
  limit: number | null;

  @ManyToOne(() => Plan, (plan) => plan.grants, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'plan_id', foreignKeyConstraintName: 'fk_plan_features_plan' })
  // Relation<>: a circular import must not be read while the classes are being defined.
  plan?: Relation<Plan>;

  @ManyToOne(() => Feature, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'feature_id', foreignKeyConstraintName: 'fk_plan_features_feature' })
  feature?: Feature;
}
