import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Dunning (issue 11). Invoices gain a readable `number` (an identity: existing invoices are
 * numbered in the order they were issued), `due_at` (existing ones: issued + 14 days, the default
 * INVOICE_TERMS_DAYS, but never before 14 days after the upgrade), a `status` (`open`, `paid`, `void`; existing ones are open: nothing recorded
 * their payment), `amount_due` (= `amount`), `amount_paid` (the sum of `invoice_payments`, never
 * more than due: no credit balance) and when and why they were paid or voided. The rules keep
 * their state in `dunning_warnings` (each warning step once per invoice: its primary key) and
 * `hold_invoices` (which invoices an `overdue` hold was placed for, so that a person's lift is
 * respected); `job_leases` lets one instance at a time run a scheduled job. Customers gain
 * `dunning_exempt`.
 */
export class Dunning1795650000000 implements MigrationInterface {
  public async up(queryRunner: QueryRunner): Promise<void> {
    // --- invoices: number, due date, status, amounts
    await queryRunner.query(`ALTER TABLE "invoices" ADD "number" bigint`);
    await queryRunner.query(`
      UPDATE "invoices" i SET "number" = n.rn
        FROM (SELECT id, row_number() OVER (ORDER BY created_at, id) AS rn FROM "invoices") n
       WHERE n.id = i.id`);
    const [{ next }] = (await queryRunner.query(
      `SELECT (COALESCE(max("number"), 0) + 1)::text AS next FROM "invoices"`,
    )) as { next: string }[];
    await queryRunner.query(`ALTER TABLE "invoices" ALTER COLUMN "number" SET NOT NULL`);
    await queryRunner.query(
      `ALTER TABLE "invoices" ALTER COLUMN "number" ADD GENERATED ALWAYS AS IDENTITY (START WITH ${Number(next)})`,
    );
    await queryRunner.query(`CREATE UNIQUE INDEX "uq_invoices_number" ON "invoices" ("number")`);

    await queryRunner.query(`ALTER TABLE "invoices" ADD "due_at" TIMESTAMP(3) WITH TIME ZONE`);
    // Nothing recorded whether an invoice issued before dunning was paid: each is due 14 days
    // after the upgrade at the earliest, so that upgrading never warns or blocks anyone at once
    // and leaves two weeks to record those payments or void the invoices.
    await queryRunner.query(
      `UPDATE "invoices" SET "due_at" = GREATEST(created_at, now()) + interval '14 days'`,
    );
    await queryRunner.query(`ALTER TABLE "invoices" ALTER COLUMN "due_at" SET NOT NULL`);
    await queryRunner.query(`ALTER TABLE "invoices" ADD "amount_due" integer`);
    await queryRunner.query(`UPDATE "invoices" SET "amount_due" = amount`);
    await queryRunner.query(`ALTER TABLE "invoices" ALTER COLUMN "amount_due" SET NOT NULL`);
    await queryRunner.query(`
      ALTER TABLE "invoices"
        ADD "status" text NOT NULL DEFAULT 'open',
        ADD "amount_paid" integer NOT NULL DEFAULT '0',
        ADD "paid_at" TIMESTAMP(3) WITH TIME ZONE,
        ADD "voided_at" TIMESTAMP(3) WITH TIME ZONE,
        ADD "void_reason" text,
        ADD "voided_by_type" text,
        ADD "voided_by_id" uuid,
        ADD "voided_by_name" text,
        ADD CONSTRAINT "ck_invoices_status" CHECK (status IN ('open', 'paid', 'void')),
        ADD CONSTRAINT "ck_invoices_amount_paid" CHECK (amount_paid >= 0 AND amount_paid <= amount_due),
        ADD CONSTRAINT "ck_invoices_paid_at" CHECK ((status = 'paid') = (paid_at IS NOT NULL)),
        ADD CONSTRAINT "ck_invoices_voided_at" CHECK ((status = 'void') = (voided_at IS NOT NULL))`);
    // The dunning run walks customers with open invoices; each evaluation reads them by customer.
    await queryRunner.query(
      `CREATE INDEX "ix_invoices_open_customer_id_due_at" ON "invoices" ("customer_id", "due_at") WHERE status = 'open'`,
    );
    // GET /invoices pages every customer's invoices newest first.
    await queryRunner.query(
      `CREATE INDEX "ix_invoices_created_at_id" ON "invoices" ("created_at", "id")`,
    );

    await queryRunner.query(`
      CREATE TABLE "invoice_payments" (
        "id" uuid NOT NULL DEFAULT gen_random_uuid(),
        "invoice_id" uuid NOT NULL,
        "amount" integer NOT NULL,
        "reference" text,
        "recorded_by_type" text NOT NULL,
        "recorded_by_id" uuid,
        "recorded_by_name" text NOT NULL,
        "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL,
        CONSTRAINT "pk_invoice_payments" PRIMARY KEY ("id"),
        CONSTRAINT "ck_invoice_payments_amount" CHECK (amount > 0),
        CONSTRAINT "ck_invoice_payments_recorded_by_type" CHECK (recorded_by_type IN ('user', 'api_key', 'system')),
        CONSTRAINT "fk_invoice_payments_invoice" FOREIGN KEY ("invoice_id") REFERENCES "invoices"("id")
          ON DELETE RESTRICT ON UPDATE NO ACTION
      )`);
    await queryRunner.query(
      `CREATE INDEX "ix_invoice_payments_invoice_id_created_at" ON "invoice_payments" ("invoice_id", "created_at")`,
    );

    // --- the rules' state
    await queryRunner.query(`
      CREATE TABLE "dunning_warnings" (
        "invoice_id" uuid NOT NULL,
        "step" integer NOT NULL,
        "event_id" uuid,
        "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL,
        CONSTRAINT "pk_dunning_warnings" PRIMARY KEY ("invoice_id", "step"),
        CONSTRAINT "fk_dunning_warnings_invoice" FOREIGN KEY ("invoice_id") REFERENCES "invoices"("id")
          ON DELETE CASCADE ON UPDATE NO ACTION
      )`);
    await queryRunner.query(`
      CREATE TABLE "hold_invoices" (
        "hold_id" uuid NOT NULL,
        "invoice_id" uuid NOT NULL,
        CONSTRAINT "pk_hold_invoices" PRIMARY KEY ("hold_id", "invoice_id"),
        CONSTRAINT "fk_hold_invoices_hold" FOREIGN KEY ("hold_id") REFERENCES "holds"("id")
          ON DELETE CASCADE ON UPDATE NO ACTION,
        CONSTRAINT "fk_hold_invoices_invoice" FOREIGN KEY ("invoice_id") REFERENCES "invoices"("id")
          ON DELETE CASCADE ON UPDATE NO ACTION
      )`);
    await queryRunner.query(
      `CREATE INDEX "ix_hold_invoices_invoice_id" ON "hold_invoices" ("invoice_id")`,
    );
    await queryRunner.query(
      `CREATE INDEX "ix_holds_overdue_customer_id" ON "holds" ("customer_id") WHERE source = 'overdue' AND lifted_at IS NULL`,
    );
    await queryRunner.query(`
      CREATE TABLE "job_leases" (
        "name" text NOT NULL,
        "holder" text NOT NULL,
        "locked_until" TIMESTAMP(3) WITH TIME ZONE NOT NULL,
        CONSTRAINT "pk_job_leases" PRIMARY KEY ("name")
      )`);

    await queryRunner.query(
      `ALTER TABLE "customers" ADD "dunning_exempt" boolean NOT NULL DEFAULT false`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "customers" DROP COLUMN "dunning_exempt"`);
    await queryRunner.query(`DROP TABLE "job_leases"`);
    await queryRunner.query(`DROP INDEX "ix_holds_overdue_customer_id"`);
    await queryRunner.query(`DROP TABLE "hold_invoices"`);
    await queryRunner.query(`DROP TABLE "dunning_warnings"`);
    await queryRunner.query(`DROP TABLE "invoice_payments"`);
    await queryRunner.query(`DROP INDEX "ix_invoices_created_at_id"`);
    await queryRunner.query(`DROP INDEX "ix_invoices_open_customer_id_due_at"`);
    await queryRunner.query(`DROP INDEX "uq_invoices_number"`);
    await queryRunner.query(`
      ALTER TABLE "invoices"
        DROP CONSTRAINT "ck_invoices_voided_at",
        DROP CONSTRAINT "ck_invoices_paid_at",
        DROP CONSTRAINT "ck_invoices_amount_paid",
        DROP CONSTRAINT "ck_invoices_status",
        DROP COLUMN "voided_by_name",
        DROP COLUMN "voided_by_id",
        DROP COLUMN "voided_by_type",
        DROP COLUMN "void_reason",
        DROP COLUMN "voided_at",
        DROP COLUMN "paid_at",
        DROP COLUMN "amount_paid",
        DROP COLUMN "status",
        DROP COLUMN "amount_due",
        DROP COLUMN "due_at",
        DROP COLUMN "number"`);
  }
}
