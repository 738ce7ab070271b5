import { MigrationInterface, QueryRunner } from 'typeorm';

/** Features, plans (with a limit per feature) and customers' subscriptions to plans. */
export class PlansAndSubscriptions1795611000000 implements MigrationInterface {
  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "features" (
        "id" uuid NOT NULL DEFAULT gen_random_uuid(),
        "code" text NOT NULL,
        "name" text NOT NULL,
        "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "pk_features" PRIMARY KEY ("id"),
        CONSTRAINT "uq_features_code" UNIQUE ("code")
      )`);
    await queryRunner.query(`
      CREATE TABLE "plans" (
        "id" uuid NOT NULL DEFAULT gen_random_uuid(),
        "code" text NOT NULL,
        "name" text NOT NULL,
        "amount" integer NOT NULL,
        "currency" text NOT NULL,
        "interval" text NOT NULL,
        "user_count" integer NOT NULL,
        "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "pk_plans" PRIMARY KEY ("id"),
        CONSTRAINT "uq_plans_code" UNIQUE ("code"),
        CONSTRAINT "ck_plans_interval" CHECK ("interval" IN ('month', 'year')),
        CONSTRAINT "ck_plans_amount" CHECK (amount >= 0),
        CONSTRAINT "ck_plans_user_count" CHECK (user_count >= 0),
        CONSTRAINT "ck_plans_currency" CHECK (currency ~ '^[A-Z]{3}$')
      )`);
    await queryRunner.query(`
      CREATE TABLE "plan_features" (
        "plan_id" uuid NOT NULL,
        "feature_id" uuid NOT NULL,
        "limit" integer,
        CONSTRAINT "pk_plan_features" PRIMARY KEY ("plan_id", "feature_id"),
        CONSTRAINT "ck_plan_features_limit" CHECK ("limit" IS NULL OR "limit" >= 0),
        CONSTRAINT "fk_plan_features_plan" FOREIGN KEY ("plan_id")
          REFERENCES "plans" ("id") ON DELETE CASCADE,
        CONSTRAINT "fk_plan_features_feature" FOREIGN KEY ("feature_id")
          REFERENCES "features" ("id") ON DELETE RESTRICT
      )`);
    await queryRunner.query(
      `CREATE INDEX "ix_plan_features_feature_id" ON "plan_features" ("feature_id")`,
    );
    await queryRunner.query(`
      CREATE TABLE "subscriptions" (
        "id" uuid NOT NULL DEFAULT gen_random_uuid(),
        "customer_id" uuid NOT NULL,
        "plan_id" uuid NOT NULL,
        "status" text NOT NULL DEFAULT 'active',
        "started_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL,
        "current_period_start" TIMESTAMP(3) WITH TIME ZONE NOT NULL,
        "current_period_end" TIMESTAMP(3) WITH TIME ZONE NOT NULL,
        "cancelled_at" TIMESTAMP(3) WITH TIME ZONE,
        "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(),
        "updated_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "pk_subscriptions" PRIMARY KEY ("id"),
        CONSTRAINT "ck_subscriptions_status" CHECK (status IN ('active', 'cancelled')),
        CONSTRAINT "ck_subscriptions_period" CHECK (current_period_end > current_period_start),
        CONSTRAINT "fk_subscriptions_customer" FOREIGN KEY ("customer_id")
          REFERENCES "customers" ("id") ON DELETE RESTRICT,
        CONSTRAINT "fk_subscriptions_plan" FOREIGN KEY ("plan_id")
          REFERENCES "plans" ("id") ON DELETE RESTRICT
      )`);
    // A customer's subscriptions newest first, and the limits read of its active ones.
    await queryRunner.query(
      `CREATE INDEX "ix_subscriptions_customer_id_created_at" ON "subscriptions" ("customer_id", "created_at", "id")`,
    );
    // The billing run: active subscriptions whose period has ended.
    await queryRunner.query(
      `CREATE INDEX "ix_subscriptions_active_period_end" ON "subscriptions" ("current_period_end") WHERE status = 'active'`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "subscriptions"`);
    await queryRunner.query(`DROP TABLE "plan_features"`);
    await queryRunner.query(`DROP TABLE "plans"`);
    await queryRunner.query(`DROP TABLE "features"`);
  }
}
