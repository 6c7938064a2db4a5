import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The provider's answer is the event, a callback only a hint (docs/verification.md):
 *
 * - `reconciliations` becomes `inquiry_schedule`: one row per transaction of a verified provider,
 *   the only place inquiries are scheduled and leased — for waiting hints, for re-asking after a
 *   contradicted claim, and for reconciliation of pending transactions — so two replicas never ask
 *   about one transaction at once, and any number of hints of one transaction share one inquiry.
 *   `next_at` (null: nothing scheduled), `attempts` (consecutive failed or incomplete asks),
 *   `incomplete` (answers that lacked a fact the event needs), `recheck_step` (position in the bounded re-ask schedule, null: none), `query` (the inquiry the
 *   provider last answered completely: the proven way to ask again).
 * - `verifications.answer_id`: the stored answer (callbacks row, method INQUIRY) that settled a hint.
 *
 * Hints no longer hold an event's de-duplication slot: a new hint's `callbacks.event_id` is the
 * id of its exact bytes (hintIdOf). Slots held by earlier waiting or contradicted callbacks are
 * given back here, and every transaction with a waiting hint is scheduled at once.
 */
export class InquirySchedule1765800000000 implements MigrationInterface {
  name = 'InquirySchedule1765800000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const postgres = queryRunner.connection.options.type === 'postgres';
    const ts = postgres ? 'timestamptz' : 'text';
    await queryRunner.query(`ALTER TABLE reconciliations RENAME TO inquiry_schedule`);
    for (const column of [
      `next_at ${ts}`,
      `attempts integer NOT NULL DEFAULT 0`,
      `incomplete integer NOT NULL DEFAULT 0`,
      `recheck_step integer`,
      `query text`,
      `last_error text`,
    ]) {
      await queryRunner.query(`ALTER TABLE inquiry_schedule ADD COLUMN ${column}`);
    }
    await queryRunner.query(
      `CREATE INDEX inquiry_schedule_due ON inquiry_schedule (next_at) WHERE next_at IS NOT NULL`,
    );
    await queryRunner.query(`ALTER TABLE verifications ADD COLUMN answer_id varchar(36)`);
    await queryRunner.query(
      `CREATE INDEX verifications_transaction ON verifications (provider, account, transaction_key, created_at)
       WHERE state IN ('verifying', 'unconfirmed')`,
    );
    // Earlier waiting or contradicted callbacks held their event's id: give the slots back.
    await queryRunner.query(
      `UPDATE callbacks SET event_id = NULL
       WHERE outcome IN ('verifying', 'contradicted')
         AND id IN (SELECT callback_id FROM verifications)`,
    );
    const now = new Date().toISOString();
    await queryRunner.query(
      `INSERT INTO inquiry_schedule (provider, account, transaction_key, checked_at, checks, next_at)
       SELECT DISTINCT provider, account, transaction_key, ${postgres ? '$1::timestamptz' : '?'}, 0,
              ${postgres ? '$1::timestamptz' : '?'}
       FROM verifications WHERE state = 'verifying'
       ON CONFLICT (provider, account, transaction_key) DO UPDATE SET next_at = excluded.next_at`,
      postgres ? [now] : [now, now],
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX verifications_transaction`);
    await queryRunner.query(`ALTER TABLE verifications DROP COLUMN answer_id`);
    await queryRunner.query(`DROP INDEX inquiry_schedule_due`);
    for (const column of [
      'last_error',
      'query',
      'recheck_step',
      'incomplete',
      'attempts',
      'next_at',
    ]) {
      await queryRunner.query(`ALTER TABLE inquiry_schedule DROP COLUMN ${column}`);
    }
    await queryRunner.query(`ALTER TABLE inquiry_schedule RENAME TO reconciliations`);
  }
}
