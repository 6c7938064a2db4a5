import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `topup_orders`: one row per top-up order the gateway places with a provider, unique on
 * (provider, account, reference) so a repeated command never becomes a second order. Rows are
 * claimed under a lease like outbox rows (`placement = 'queued'`, due at `next_attempt_at`).
 */
export class TopupOrders1765400000000 implements MigrationInterface {
  name = 'TopupOrders1765400000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const ts = queryRunner.connection.options.type === 'postgres' ? 'timestamptz' : 'text';
    await queryRunner.query(`
      CREATE TABLE topup_orders (
        id varchar(36) PRIMARY KEY,
        provider varchar(32) NOT NULL,
        account varchar(128) NOT NULL,
        reference varchar(64) NOT NULL,
        product varchar(64),
        destination varchar(64),
        inquiry_id varchar(64),
        source varchar(8) NOT NULL,
        command_id varchar(255),
        placement varchar(16) NOT NULL,
        status varchar(16),
        provider_status varchar(64),
        provider_message text,
        failure_reason text,
        attempts integer NOT NULL DEFAULT 0,
        next_attempt_at ${ts} NOT NULL,
        lease_owner varchar(128),
        lease_until ${ts},
        last_error text,
        created_at ${ts} NOT NULL,
        updated_at ${ts} NOT NULL,
        placed_at ${ts}
      )`);
    await queryRunner.query(
      `CREATE UNIQUE INDEX topup_orders_reference ON topup_orders (provider, account, reference)`,
    );
    // Only orders still to be placed are ever scanned by the workers: keep that index small.
    await queryRunner.query(
      `CREATE INDEX topup_orders_due ON topup_orders (next_attempt_at) WHERE placement = 'queued'`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE topup_orders`);
  }
}
