import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Timestamps are timestamptz on PostgreSQL and ISO-8601 UTC text on SQLite (sortable as text). */
function timestamp(queryRunner: QueryRunner): string {
  return queryRunner.connection.options.type === 'postgres' ? 'timestamptz' : 'text';
}

export class InitialSchema1763700000000 implements MigrationInterface {
  name = 'InitialSchema1763700000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const ts = timestamp(queryRunner);
    await queryRunner.query(`
      CREATE TABLE callbacks (
        id varchar(36) PRIMARY KEY,
        provider varchar(32) NOT NULL,
        account varchar(128),
        transaction_key varchar(191),
        status varchar(16),
        event_id varchar(36),
        outcome varchar(24) NOT NULL,
        source_ip varchar(64) NOT NULL,
        method varchar(8) NOT NULL,
        path varchar(255) NOT NULL,
        headers text NOT NULL,
        raw_body text NOT NULL,
        raw_body_encoding varchar(8) NOT NULL,
        verification text NOT NULL,
        received_at ${ts} NOT NULL
      )`);
    await queryRunner.query(
      `CREATE UNIQUE INDEX callbacks_dedup_key ON callbacks (provider, account, transaction_key, status)`,
    );
    await queryRunner.query(`CREATE INDEX callbacks_received_at ON callbacks (received_at)`);
    await queryRunner.query(`
      CREATE TABLE outbox (
        event_id varchar(36) PRIMARY KEY,
        callback_id varchar(36) NOT NULL REFERENCES callbacks (id) ON DELETE CASCADE,
        provider varchar(32) NOT NULL,
        event_type varchar(64) NOT NULL,
        routing_key varchar(128) NOT NULL,
        payload text NOT NULL,
        created_at ${ts} NOT NULL,
        published_at ${ts},
        attempts integer NOT NULL DEFAULT 0,
        last_error text,
        lease_owner varchar(128),
        lease_until ${ts}
      )`);
    // Only unpublished rows are ever scanned by the relay: keep that index small.
    await queryRunner.query(
      `CREATE INDEX outbox_unpublished ON outbox (created_at) WHERE published_at IS NULL`,
    );
    await queryRunner.query(`CREATE INDEX outbox_callback_id ON outbox (callback_id)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE outbox`);
    await queryRunner.query(`DROP TABLE callbacks`);
  }
}
