import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * SNAP's X-EXTERNAL-ID is unique per partner per day: a repeat is a replay, answered 409 and never
 * processed twice. One row per (account, partner, day, external id, body hash) — the id is signed by
 * no family, so only the same bytes under it are a replay — claimed before the callback
 * is stored and marked `stored` once it is; a claim whose holder died before storing expires and
 * is taken over by the next copy, so a retry after a crash is never refused (snap.external-ids.ts).
 */
export class SnapExternalIds1766100000000 implements MigrationInterface {
  name = 'SnapExternalIds1766100000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const ts = queryRunner.connection.options.type === 'postgres' ? 'timestamptz' : 'text';
    await queryRunner.query(`
      CREATE TABLE snap_external_ids (
        account varchar(128) NOT NULL,
        partner_id varchar(191) NOT NULL,
        day varchar(10) NOT NULL,
        external_id varchar(191) NOT NULL,
        body_sha256 char(64) NOT NULL,
        claim varchar(64) NOT NULL,
        claimed_at ${ts} NOT NULL,
        stored integer NOT NULL DEFAULT 0,
        PRIMARY KEY (account, partner_id, day, external_id, body_sha256)
      )`);
    await queryRunner.query(
      `CREATE INDEX snap_external_ids_claimed_at ON snap_external_ids (claimed_at)`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE snap_external_ids`);
  }
}
