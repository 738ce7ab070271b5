import { MigrationInterface, QueryRunner } from 'typeorm';

/** Staff users (who sign in) and customers (whose access is controlled). */
export class Initial1795597058578 implements MigrationInterface {
  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "staff_users" (
        "id" uuid NOT NULL DEFAULT gen_random_uuid(),
        "email" text NOT NULL,
        "name" text NOT NULL,
        "role" text NOT NULL,
        "password_hash" text NOT NULL,
        "active" boolean NOT NULL DEFAULT true,
        "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(),
        "updated_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "PK_c6b167335377df69f7910c2c75e" PRIMARY KEY ("id"),
        CONSTRAINT "uq_staff_users_email" UNIQUE ("email"),
        CONSTRAINT "ck_staff_users_role"
          CHECK (role IN ('user', 'customer_support', 'account_manager', 'developer', 'admin'))
      )`);
    await queryRunner.query(`
      CREATE TABLE "customers" (
        "id" uuid NOT NULL DEFAULT gen_random_uuid(),
        "email" text NOT NULL,
        "name" text,
        "reference" text,
        "external_reference" text,
        "status" text NOT NULL DEFAULT 'enabled',
        "disabled_at" TIMESTAMP(3) WITH TIME ZONE,
        "disabled_reason" text,
        "billing_paused" boolean NOT NULL DEFAULT false,
        "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(),
        "updated_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(),
        "version" integer NOT NULL DEFAULT '1',
        CONSTRAINT "PK_133ec679a801fab5e070f73d3ea" PRIMARY KEY ("id"),
        CONSTRAINT "uq_customers_email" UNIQUE ("email"),
        CONSTRAINT "ck_customers_status" CHECK (status IN ('enabled', 'disabled'))
      )`);
    await queryRunner.query(
      `CREATE INDEX "ix_customers_created_at_id" ON "customers" ("created_at", "id")`,
    );
    await queryRunner.query(
      `CREATE INDEX "ix_customers_disabled_at_id" ON "customers" ("disabled_at", "id") WHERE status = 'disabled'`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "customers"`);
    await queryRunner.query(`DROP TABLE "staff_users"`);
  }
}
