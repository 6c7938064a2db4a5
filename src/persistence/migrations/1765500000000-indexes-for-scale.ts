import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Indexes that keep the periodic and admin queries flat as history grows (measured with
 * `npm run bench:data` at millions of stored callbacks, see docs/performance.md):
 * - `callbacks_rejected_received_at`: the rejected-attempt purge walks only rejected attempts,
 *   oldest first, instead of filtering every accepted callback older than its cutoff. Its
 *   predicate is the purge's own (outcomes kept for the callback retention are excluded).
 * - `outbox_unpublished_callback`: "has this callback an unpublished event?" (retention, admin
 *   search) is one probe into the small set of unpublished rows, not a scan of the backlog.
 * - `callbacks_provider_status_received_at` and `callbacks_status_received_at`: admin search by
 *   provider and/or status, newest first, reads only the page it returns — also for a rare or
 *   absent value, which would otherwise walk the whole time index.
 * All four grow at their right edge (time or a few leading values), which keeps inserts cheap.
 * On a large PostgreSQL table, creating them takes a while and blocks writes (the migration runs
 * in a transaction); see docs/performance.md for creating them CONCURRENTLY beforehand.
 */
export class IndexesForScale1765500000000 implements MigrationInterface {
  name = 'IndexesForScale1765500000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE INDEX IF NOT EXISTS callbacks_rejected_received_at ON callbacks (received_at)
       WHERE outcome NOT IN ('accepted', 'superseded', 'quarantined')`,
    );
    await queryRunner.query(
      `CREATE INDEX IF NOT EXISTS outbox_unpublished_callback ON outbox (callback_id) WHERE published_at IS NULL`,
    );
    await queryRunner.query(
      `CREATE INDEX IF NOT EXISTS callbacks_provider_status_received_at ON callbacks (provider, status, received_at)`,
    );
    await queryRunner.query(
      `CREATE INDEX IF NOT EXISTS callbacks_status_received_at ON callbacks (status, received_at)`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX callbacks_status_received_at`);
    await queryRunner.query(`DROP INDEX callbacks_provider_status_received_at`);
    await queryRunner.query(`DROP INDEX outbox_unpublished_callback`);
    await queryRunner.query(`DROP INDEX callbacks_rejected_received_at`);
  }
}
