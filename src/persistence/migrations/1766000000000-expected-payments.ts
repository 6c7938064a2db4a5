import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Expected payments (docs/expected-payments.md): the order service says "I created this payment";
 * the gateway follows it by inquiry until it is final or its expiry passed, even if no callback
 * ever comes. `expected_payments` holds each one (idempotent by provider, account, transaction);
 * `inquiry_schedule.follow_until` marks a transaction followed that way (its expiry).
 */
export class ExpectedPayments1766000000000 implements MigrationInterface {
  name = 'ExpectedPayments1766000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const ts = queryRunner.connection.options.type === 'postgres' ? 'timestamptz' : 'text';
    await queryRunner.query(`
      CREATE TABLE expected_payments (
        provider varchar(32) NOT NULL,
        account varchar(128) NOT NULL,
        transaction_key varchar(191) NOT NULL,
        provider_transaction_id varchar(191),
        merchant_reference varchar(191),
        amount varchar(40) NOT NULL,
        currency varchar(3) NOT NULL,
        details text NOT NULL,
        query text NOT NULL,
        expires_at ${ts} NOT NULL,
        state varchar(16) NOT NULL,
        final_status varchar(16),
        found_by_inquiry integer NOT NULL DEFAULT 0,
        source varchar(8) NOT NULL,
        last_result text,
        created_at ${ts} NOT NULL,
        closed_at ${ts},
        PRIMARY KEY (provider, account, transaction_key)
      )`);
    await queryRunner.query(
      `CREATE INDEX expected_payments_open ON expected_payments (expires_at) WHERE state = 'open'`,
    );
    await queryRunner.query(
      `CREATE INDEX expected_payments_state ON expected_payments (state, created_at)`,
    );
    await queryRunner.query(`ALTER TABLE inquiry_schedule ADD COLUMN follow_until ${ts}`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE inquiry_schedule DROP COLUMN follow_until`);
    await queryRunner.query(`DROP TABLE expected_payments`);
  }
}
