import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A staff user's token version: every access token carries the version it was issued under, and
 * bumping it (logout, a password change, a deactivation) refuses all the user's earlier tokens on
 * every instance, since the guard reads the user row on every request anyway.
 */
export class StaffTokenVersion1795620000000 implements MigrationInterface {
  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `ALTER TABLE "staff_users" ADD "token_version" integer NOT NULL DEFAULT 0`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "staff_users" DROP COLUMN "token_version"`);
  }
}
