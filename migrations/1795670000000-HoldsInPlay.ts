import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A status change, the scheduler's catch-up and the customer's reads read only the holds that can
 * matter to the customer's access (src/customers/access/holds-in-play.ts): unlifted holds without
 * an end or ending from an instant on, and holds lifted from an instant on. This index serves each
 * of those as a range, so a customer's lifted and expired history is never scanned.
 */
export class HoldsInPlay1795670000000 implements MigrationInterface {
  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE INDEX "ix_holds_customer_id_lifted_at_ends_at" ON "holds" ("customer_id", "lifted_at", "ends_at")`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "ix_holds_customer_id_lifted_at_ends_at"`);
  }
}
