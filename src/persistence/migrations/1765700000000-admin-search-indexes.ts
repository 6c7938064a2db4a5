import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Two admin-search indexes, measured at 10 million callbacks (docs/performance.md):
 *
 * - `callbacks (provider, received_at)`: the search by provider alone, newest first, reads that
 *   provider's newest rows directly. Without it PostgreSQL walks `callbacks_received_at` backwards
 *   and filters: cheap while the provider's callbacks are spread through time, but when another
 *   provider sent everything recent (a busy provider beside a quiet one) it passes every one of
 *   those first — 178,000 rows removed by the filter, 90 ms for a page of the quiet provider's
 *   callbacks. `(provider, status, received_at)` cannot serve this order across statuses.
 * - `callbacks (outcome, received_at)` only for outcomes other than `accepted`: a search for an
 *   accepted callback is served by `callbacks_received_at` anyway (almost every row is one), so
 *   the full index (41 bytes per stored callback) only ever served the rare outcomes.
 *
 * Created `IF NOT EXISTS`, so a large table can get them `CONCURRENTLY` beforehand.
 */
export class AdminSearchIndexes1765700000000 implements MigrationInterface {
  name = 'AdminSearchIndexes1765700000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE INDEX IF NOT EXISTS callbacks_provider_received_at ON callbacks (provider, received_at)`,
    );
    await queryRunner.query(
      `CREATE INDEX IF NOT EXISTS callbacks_outcome_not_accepted ON callbacks (outcome, received_at)
       WHERE outcome <> 'accepted'`,
    );
    await queryRunner.query(`DROP INDEX IF EXISTS callbacks_outcome`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE INDEX callbacks_outcome ON callbacks (outcome, received_at)`);
    await queryRunner.query(`DROP INDEX callbacks_outcome_not_accepted`);
    await queryRunner.query(`DROP INDEX callbacks_provider_received_at`);
  }
}
