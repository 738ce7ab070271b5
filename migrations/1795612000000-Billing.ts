import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Billing runs, invoices (never two for one period of a subscription), and the intervals during
 * which a customer's billing was paused, recorded by a trigger whenever `billing_paused` flips.
 */
export class Billing1795612000000 implements MigrationInterface {
  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "billing_runs" (
        "id" uuid NOT NULL DEFAULT gen_random_uuid(),
        "trigger" text NOT NULL,
        "started_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL,
        "finished_at" TIMESTAMP(3) WITH TIME ZONE,
        "invoiced" integer NOT NULL DEFAULT 0,
        "skipped" integer NOT NULL DEFAULT 0,
        CONSTRAINT "pk_billing_runs" PRIMARY KEY ("id"),
        CONSTRAINT "ck_billing_runs_trigger" CHECK ("trigger" IN ('manual', 'scheduled'))
      )`);
    await queryRunner.query(`
      CREATE TABLE "invoices" (
        "id" uuid NOT NULL DEFAULT gen_random_uuid(),
        "subscription_id" uuid NOT NULL,
        "customer_id" uuid NOT NULL,
        "plan_id" uuid NOT NULL,
        "billing_run_id" uuid NOT NULL,
        "amount" integer NOT NULL,
        "currency" text NOT NULL,
        "period_start" TIMESTAMP(3) WITH TIME ZONE NOT NULL,
        "period_end" TIMESTAMP(3) WITH TIME ZONE NOT NULL,
        "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "pk_invoices" PRIMARY KEY ("id"),
        CONSTRAINT "uq_invoices_subscription_period" UNIQUE ("subscription_id", "period_start"),
        CONSTRAINT "fk_invoices_subscription" FOREIGN KEY ("subscription_id")
          REFERENCES "subscriptions" ("id") ON DELETE RESTRICT,
        CONSTRAINT "fk_invoices_customer" FOREIGN KEY ("customer_id")
          REFERENCES "customers" ("id") ON DELETE RESTRICT,
        CONSTRAINT "fk_invoices_plan" FOREIGN KEY ("plan_id")
          REFERENCES "plans" ("id") ON DELETE RESTRICT,
        CONSTRAINT "fk_invoices_billing_run" FOREIGN KEY ("billing_run_id")
          REFERENCES "billing_runs" ("id") ON DELETE RESTRICT
      )`);
    await queryRunner.query(
      `CREATE INDEX "ix_invoices_customer_id_created_at" ON "invoices" ("customer_id", "created_at", "id")`,
    );
    await queryRunner.query(`
      CREATE TABLE "billing_pauses" (
        "id" uuid NOT NULL DEFAULT gen_random_uuid(),
        "customer_id" uuid NOT NULL,
        "paused_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL,
        "resumed_at" TIMESTAMP(3) WITH TIME ZONE,
        CONSTRAINT "pk_billing_pauses" PRIMARY KEY ("id"),
        CONSTRAINT "fk_billing_pauses_customer" FOREIGN KEY ("customer_id")
          REFERENCES "customers" ("id") ON DELETE CASCADE
      )`);
    await queryRunner.query(
      `CREATE INDEX "ix_billing_pauses_customer_id" ON "billing_pauses" ("customer_id")`,
    );
    // Whoever flips billing_paused (disable, enable, a script), the interval is recorded in the
    // same transaction. now() is the transaction's start: the moment the change took effect.
    await queryRunner.query(`
      CREATE FUNCTION "customers_record_billing_pause"() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.billing_paused AND (TG_OP = 'INSERT' OR NOT OLD.billing_paused) THEN
          INSERT INTO billing_pauses (customer_id, paused_at) VALUES (NEW.id, now());
        ELSIF TG_OP = 'UPDATE' AND OLD.billing_paused AND NOT NEW.billing_paused THEN
          UPDATE billing_pauses SET resumed_at = now()
           WHERE customer_id = NEW.id AND resumed_at IS NULL;
        END IF;
        RETURN NULL;
      END
      $$`);
    await queryRunner.query(`
      CREATE TRIGGER "customers_billing_pause_on_update"
        AFTER UPDATE OF billing_paused ON "customers"
        FOR EACH ROW WHEN (OLD.billing_paused IS DISTINCT FROM NEW.billing_paused)
        EXECUTE FUNCTION "customers_record_billing_pause"()`);
    await queryRunner.query(`
      CREATE TRIGGER "customers_billing_pause_on_insert"
        AFTER INSERT ON "customers"
        FOR EACH ROW WHEN (NEW.billing_paused)
        EXECUTE FUNCTION "customers_record_billing_pause"()`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TRIGGER "customers_billing_pause_on_insert" ON "customers"`);
    await queryRunner.query(`DROP TRIGGER "customers_billing_pause_on_update" ON "customers"`);
    await queryRunner.query(`DROP FUNCTION "customers_record_billing_pause"()`);
    await queryRunner.query(`DROP TABLE "billing_pauses"`);
    await queryRunner.query(`DROP TABLE "invoices"`);
    await queryRunner.query(`DROP TABLE "billing_runs"`);
  }
}
