import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `callbacks.credential_key`: which key of the account verified an accepted callback (its label or
 * position, never the key), so operators can see when a rotated-out key stopped being used. The
 * admin search by provider and account uses the de-duplication index (provider, account, …).
 */
export class CredentialKey1765300000000 implements MigrationInterface {
  name = 'CredentialKey1765300000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE callbacks ADD COLUMN credential_key varchar(64)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE callbacks DROP COLUMN credential_key`);
  }
}
