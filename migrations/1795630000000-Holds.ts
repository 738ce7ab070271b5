import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Holds: each reason a customer is disabled, owned, scheduled and lifted on its own. The truth is
 * the `holds` table; the customer's status columns become a projection of it, rewritten under the
 * customer's row lock, with `next_boundary_at` telling the boundary scheduler when to look again.
 * Audit entries gain the hold they concern, the instant a transition took effect and the `system`
 * actor (which has no id). Every disabled customer gets one active manual hold carrying its reason
 * and its `disabled_at`, so that enabling it lifts that hold.
 */
export class Holds1795630000000 implements MigrationInterface {
  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "holds" (
        "id" uuid NOT NULL DEFAULT gen_random_uuid(),
        "customer_id" uuid NOT NULL,
        "source" text NOT NULL,
        "reason_code" text NOT NULL,
        "reason" text,
        "starts_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL,
        "ends_at" TIMESTAMP(3) WITH TIME ZONE,
        "pause_billing" boolean NOT NULL,
        "notify_customer" boolean NOT NULL DEFAULT true,
        "placed_by_type" text NOT NULL,
        "placed_by_id" uuid,
        "placed_by_name" text NOT NULL,
        "placed_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(),
        "lifted_by_type" text,
        "lifted_by_id" uuid,
        "lifted_by_name" text,
        "lifted_at" TIMESTAMP(3) WITH TIME ZONE,
        "lift_reason" text,
        "review_at" TIMESTAMP(3) WITH TIME ZONE,
        "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(),
        "updated_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "pk_holds" PRIMARY KEY ("id"),
        CONSTRAINT "ck_holds_source" CHECK (source IN ('manual', 'overdue')),
        CONSTRAINT "ck_holds_ends_after_starts" CHECK (ends_at IS NULL OR ends_at > starts_at),
        CONSTRAINT "fk_holds_customer" FOREIGN KEY ("customer_id") REFERENCES "customers"("id")
          ON DELETE CASCADE ON UPDATE NO ACTION
      )`);
    // A customer's holds newest first (its page, and every re-projection reads them by customer).
    await queryRunner.query(
      `CREATE INDEX "ix_holds_customer_id_placed_at_id" ON "holds" ("customer_id", "placed_at", "id")`,
    );
    // GET /holds pages newest first; the review queue reads unlifted holds by review date.
    await queryRunner.query(`CREATE INDEX "ix_holds_placed_at_id" ON "holds" ("placed_at", "id")`);
    await queryRunner.query(
      `CREATE INDEX "ix_holds_review_at" ON "holds" ("review_at") WHERE lifted_at IS NULL`,
    );

    await queryRunner.query(
      `ALTER TABLE "customers" ADD "next_boundary_at" TIMESTAMP(3) WITH TIME ZONE`,
    );
    // The boundary scheduler's poll: only customers with a hold yet to start or end.
    await queryRunner.query(
      `CREATE INDEX "ix_customers_next_boundary_at" ON "customers" ("next_boundary_at") WHERE next_boundary_at IS NOT NULL`,
    );

    await queryRunner.query(`ALTER TABLE "audit_logs" ADD "hold_id" uuid`);
    await queryRunner.query(
      `ALTER TABLE "audit_logs" ADD "effective_at" TIMESTAMP(3) WITH TIME ZONE`,
    );
    await queryRunner.query(`ALTER TABLE "audit_logs" ALTER COLUMN "actor_id" DROP NOT NULL`);
    await queryRunner.query(`ALTER TABLE "audit_logs" DROP CONSTRAINT "ck_audit_logs_actor_type"`);
    await queryRunner.query(
      `ALTER TABLE "audit_logs" ADD CONSTRAINT "ck_audit_logs_actor_type" CHECK (actor_type IN ('user', 'api_key', 'system'))`,
    );

    await queryRunner.query(`
      INSERT INTO "holds"
        (customer_id, source, reason_code, reason, starts_at, pause_billing,
         placed_by_type, placed_by_id, placed_by_name, placed_at)
      SELECT id, 'manual', 'other', disabled_reason, COALESCE(disabled_at, updated_at), billing_paused,
             'system', NULL, 'system', COALESCE(disabled_at, updated_at)
        FROM "customers"
       WHERE status = 'disabled'`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "audit_logs" DROP CONSTRAINT "ck_audit_logs_actor_type"`);
    await queryRunner.query(
      `ALTER TABLE "audit_logs" ADD CONSTRAINT "ck_audit_logs_actor_type" CHECK (actor_type IN ('user', 'api_key'))`,
    );
    await queryRunner.query(`ALTER TABLE "audit_logs" DROP COLUMN "effective_at"`);
    await queryRunner.query(`ALTER TABLE "audit_logs" DROP COLUMN "hold_id"`);
    await queryRunner.query(`DROP INDEX "ix_customers_next_boundary_at"`);
    await queryRunner.query(`ALTER TABLE "customers" DROP COLUMN "next_boundary_at"`);
    await queryRunner.query(`DROP TABLE "holds"`);
  }
}
