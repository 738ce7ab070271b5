import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Internal notes on a customer. A note made from a disable/enable reason points at its audit
 * entry; the author is kept by value (type, id, name), like the audit log's actor.
 */
export class CustomerNotes1795600001000 implements MigrationInterface {
  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "customer_notes" (
        "id" uuid NOT NULL DEFAULT gen_random_uuid(),
        "customer_id" uuid NOT NULL,
        "author_type" text NOT NULL,
        "author_id" uuid NOT NULL,
        "author_name" text NOT NULL,
        "body" text NOT NULL,
        "audit_log_id" uuid,
        "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "pk_customer_notes" PRIMARY KEY ("id"),
        CONSTRAINT "fk_customer_notes_customer" FOREIGN KEY ("customer_id")
          REFERENCES "customers" ("id") ON DELETE CASCADE ON UPDATE NO ACTION,
        CONSTRAINT "fk_customer_notes_audit_log" FOREIGN KEY ("audit_log_id")
          REFERENCES "audit_logs" ("id") ON DELETE NO ACTION ON UPDATE NO ACTION
      )`);
    // A customer's notes, newest first; also serves the foreign key to customers.
    await queryRunner.query(
      `CREATE INDEX "ix_customer_notes_customer_id_created_at_id" ON "customer_notes" ("customer_id", "created_at", "id")`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "customer_notes"`);
  }
}
