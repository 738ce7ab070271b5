import { MigrationInterface, QueryRunner } from 'typeorm';

/** API keys: only the SHA-256 of a key is stored; a revoked key keeps its row. */
export class ApiKeys1795610000000 implements MigrationInterface {
  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "api_keys" (
        "id" uuid NOT NULL DEFAULT gen_random_uuid(),
        "name" text NOT NULL,
        "key_hash" text NOT NULL,
        "prefix" text NOT NULL,
        "customer_id" uuid,
        "created_by" uuid,
        "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(),
        "revoked_at" TIMESTAMP(3) WITH TIME ZONE,
        CONSTRAINT "pk_api_keys" PRIMARY KEY ("id"),
        CONSTRAINT "uq_api_keys_key_hash" UNIQUE ("key_hash"),
        CONSTRAINT "fk_api_keys_customer" FOREIGN KEY ("customer_id")
          REFERENCES "customers" ("id") ON DELETE RESTRICT,
        CONSTRAINT "fk_api_keys_created_by" FOREIGN KEY ("created_by")
          REFERENCES "staff_users" ("id") ON DELETE SET NULL
      )`);
    await queryRunner.query(
      `CREATE INDEX "ix_api_keys_created_at_id" ON "api_keys" ("created_at", "id")`,
    );
    await queryRunner.query(`CREATE INDEX "ix_api_keys_customer_id" ON "api_keys" ("customer_id")`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "api_keys"`);
  }
}
