import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Duplicates are recognized by the event id instead of the five-column key. The event id is the
 * deterministic UUID v5 of exactly that key (provider, account, transaction, status and transition
 * discriminator: eventIdFor), so one unique index on `event_id` decides the same duplicates as
 * `callbacks_dedup_key` did — with one narrow column instead of five wide ones (a smaller index,
 * cheaper inserts) and with no other index the planner could mistake for it: on a young table
 * without statistics, PostgreSQL served the hot path's duplicate probe from
 * `callbacks_provider_status_received_at`, walking every callback of that provider and status once
 * per stored callback (measured: 0.94 ms of PostgreSQL per callback at 20,000 rows instead of 0.16).
 *
 * Callbacks renormalized into a `duplicate` kept their original's event id for reference; they give
 * it up here (their key was already cleared), so the index can be unique.
 */
export class DedupByEventId1765600000000 implements MigrationInterface {
  name = 'DedupByEventId1765600000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`UPDATE callbacks SET event_id = NULL WHERE outcome = 'duplicate'`);
    await queryRunner.query(
      `CREATE UNIQUE INDEX IF NOT EXISTS callbacks_event_id ON callbacks (event_id)`,
    );
    await queryRunner.query(`DROP INDEX callbacks_dedup_key`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE UNIQUE INDEX callbacks_dedup_key ON callbacks (provider, account, transaction_key, status, transition_key)`,
    );
    await queryRunner.query(`DROP INDEX callbacks_event_id`);
  }
}
