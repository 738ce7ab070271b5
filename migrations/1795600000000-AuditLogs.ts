import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The audit log of status changes, append-only in the database itself: a row trigger refuses
 * UPDATE and DELETE and a statement trigger refuses TRUNCATE, whoever connects. INSERT (and the
 * SELECT of the API) stays allowed. Actors and customers are named by value, without foreign
 * keys, so an entry outlives whatever it names.
 */
export class AuditLogs1795600000000 implements MigrationInterface {
  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "audit_logs" (
        "id" uuid NOT NULL DEFAULT gen_random_uuid(),
        "action" text NOT NULL,
        "customer_id" uuid,
        "actor_type" text NOT NULL,
        "actor_id" uuid NOT NULL,
        "actor_name" text NOT NULL,
        "reason" text,
        "before" jsonb NOT NULL,
        "after" jsonb NOT NULL,
        "request_id" text,
        "ip" text,
        "user_agent" text,
        "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "pk_audit_logs" PRIMARY KEY ("id"),
        CONSTRAINT "ck_audit_logs_actor_type" CHECK (actor_type IN ('user', 'api_key'))
      )`);
    // GET /audit-logs pages newest first by (created_at, id); each filter has its own index so
    // that a page reads only its rows, however deep the cursor.
    await queryRunner.query(
      `CREATE INDEX "ix_audit_logs_created_at_id" ON "audit_logs" ("created_at", "id")`,
    );
    await queryRunner.query(
      `CREATE INDEX "ix_audit_logs_customer_id_created_at_id" ON "audit_logs" ("customer_id", "created_at", "id")`,
    );
    await queryRunner.query(
      `CREATE INDEX "ix_audit_logs_actor_id_created_at_id" ON "audit_logs" ("actor_id", "created_at", "id")`,
    );
    await queryRunner.query(
      `CREATE INDEX "ix_audit_logs_action_created_at_id" ON "audit_logs" ("action", "created_at", "id")`,
    );
    await queryRunner.query(`
      CREATE FUNCTION "audit_logs_refuse_change"() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'audit_logs is append-only: % refused', TG_OP
          USING ERRCODE = 'insufficient_privilege';
      END
      $$`);
    await queryRunner.query(`
      CREATE TRIGGER "audit_logs_no_update_delete"
        BEFORE UPDATE OR DELETE ON "audit_logs"
        FOR EACH ROW EXECUTE FUNCTION "audit_logs_refuse_change"()`);
    await queryRunner.query(`
      CREATE TRIGGER "audit_logs_no_truncate"
        BEFORE TRUNCATE ON "audit_logs"
        FOR EACH STATEMENT EXECUTE FUNCTION "audit_logs_refuse_change"()`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "audit_logs"`);
    await queryRunner.query(`DROP FUNCTION "audit_logs_refuse_change"()`);
  }
}
