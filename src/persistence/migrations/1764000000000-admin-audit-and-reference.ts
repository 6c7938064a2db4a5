import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Timestamps are timestamptz on PostgreSQL and ISO-8601 UTC text on SQLite (sortable as text). */
function timestamp(queryRunner: QueryRunner): string {
  return queryRunner.connection.options.type === 'postgres' ? 'timestamptz' : 'text';
}

/**
 * For the admin API: `callbacks.merchant_reference` (searchable merchant reference, filled by the
 * ingest; back-filled here from each callback's event subject), lookup indexes, and the
 * `admin_audit` table every admin request is written to.
 */
export class AdminAuditAndReference1764000000000 implements MigrationInterface {
  name = 'AdminAuditAndReference1764000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const postgres = queryRunner.connection.options.type === 'postgres';
    const ts = timestamp(queryRunner);
    await queryRunner.query(`ALTER TABLE callbacks ADD COLUMN merchant_reference text`);
    // Back-fill from each event's subject, cut like the ingest cuts it (callback-store.ts
    // searchableReference); payloads holding an escaped NUL are skipped (PostgreSQL cannot
    // extract them as text), their rows stay without a searchable reference.
    await queryRunner.query(
      postgres
        ? `UPDATE callbacks c SET merchant_reference = left(o.payload::json->>'subject', 191)
           FROM outbox o WHERE o.event_id = c.event_id AND position('\\u0000' in o.payload) = 0`
        : `UPDATE callbacks SET merchant_reference = (
             SELECT substr(json_extract(o.payload, '$.subject'), 1, 191) FROM outbox o
             WHERE o.event_id = callbacks.event_id AND instr(o.payload, '\\u0000') = 0)
           WHERE event_id IS NOT NULL`,
    );
    await queryRunner.query(
      `CREATE INDEX callbacks_merchant_reference ON callbacks (merchant_reference)`,
    );
    await queryRunner.query(
      `CREATE INDEX callbacks_transaction_key ON callbacks (transaction_key)`,
    );
    await queryRunner.query(`
      CREATE TABLE admin_audit (
        id varchar(36) PRIMARY KEY,
        at ${ts} NOT NULL,
        action varchar(64) NOT NULL,
        target varchar(255),
        key_fingerprint varchar(8) NOT NULL,
        request_id varchar(128),
        details text NOT NULL
      )`);
    await queryRunner.query(`CREATE INDEX admin_audit_at ON admin_audit (at)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE admin_audit`);
    await queryRunner.query(`DROP INDEX callbacks_transaction_key`);
    await queryRunner.query(`DROP INDEX callbacks_merchant_reference`);
    await queryRunner.query(`ALTER TABLE callbacks DROP COLUMN merchant_reference`);
  }
}
