import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Status inquiry after the ack (src/verification/): `verifications` holds each callback whose
 * event waits for the provider's confirmation (claimed under a lease, retried with backoff) and
 * how it ended; `reconciliations` records when each pending transaction was last asked about, and
 * which replica holds it while asking.
 */
export class Verifications1765200000000 implements MigrationInterface {
  name = 'Verifications1765200000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const ts = queryRunner.connection.options.type === 'postgres' ? 'timestamptz' : 'text';
    await queryRunner.query(`
      CREATE TABLE verifications (
        callback_id varchar(36) PRIMARY KEY REFERENCES callbacks (id) ON DELETE CASCADE,
        provider varchar(32) NOT NULL,
        account varchar(128) NOT NULL,
        transaction_key varchar(191) NOT NULL,
        event text NOT NULL,
        state varchar(24) NOT NULL,
        attempts integer NOT NULL DEFAULT 0,
        next_at ${ts} NOT NULL,
        lease_owner varchar(128),
        lease_until ${ts},
        last_error text,
        detail text,
        created_at ${ts} NOT NULL,
        settled_at ${ts}
      )`);
    // Only waiting rows are ever claimed: keep that index small.
    await queryRunner.query(
      `CREATE INDEX verifications_due ON verifications (next_at) WHERE state = 'verifying'`,
    );
    await queryRunner.query(
      `CREATE INDEX verifications_state ON verifications (state, created_at)`,
    );
    await queryRunner.query(`
      CREATE TABLE reconciliations (
        provider varchar(32) NOT NULL,
        account varchar(128) NOT NULL,
        transaction_key varchar(191) NOT NULL,
        checked_at ${ts} NOT NULL,
        checks integer NOT NULL DEFAULT 1,
        lease_owner varchar(128),
        lease_until ${ts},
        last_result text,
        PRIMARY KEY (provider, account, transaction_key)
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE reconciliations`);
    await queryRunner.query(`DROP TABLE verifications`);
  }
}
