import type { MigrationInterface, QueryRunner } from 'typeorm';
import type { EventStatus } from '../../events/normalized-transaction.js';
import { decideTransition } from '../../events/transitions.js';

/** Rows per multi-row statement of the fold (11 parameters each). */
const CHUNK = 200;

/**
 * One forward-only state per transaction (src/transactions/): the `transactions` table, the
 * transition discriminator in the callbacks' de-duplication key (a further partial refund is a new
 * callback, a re-sent one a duplicate), the `quarantine` column (authentic callbacks that failed
 * validation: their errors and verified fields), and outbox rows without a callback (states
 * observed by other means than a callback). Existing accepted callbacks are folded into states in
 * arrival order; those that were not a transition become `superseded` (their events, published
 * before the state existed, stay on record).
 */
export class TransactionStates1765000000000 implements MigrationInterface {
  name = 'TransactionStates1765000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const postgres = queryRunner.connection.options.type === 'postgres';
    const ts = postgres ? 'timestamptz' : 'text';
    await queryRunner.query(`
      CREATE TABLE transactions (
        provider varchar(32) NOT NULL,
        account varchar(128) NOT NULL,
        transaction_key varchar(191) NOT NULL,
        status varchar(16) NOT NULL,
        previous_status varchar(16),
        refunded_total varchar(64),
        version integer NOT NULL,
        first_callback_id varchar(36),
        last_callback_id varchar(36),
        created_at ${ts} NOT NULL,
        updated_at ${ts} NOT NULL,
        PRIMARY KEY (provider, account, transaction_key)
      )`);
    await queryRunner.query(
      `ALTER TABLE callbacks ADD COLUMN transition_key varchar(64) NOT NULL DEFAULT ''`,
    );
    await queryRunner.query(`ALTER TABLE callbacks ADD COLUMN quarantine text`);
    await queryRunner.query(`DROP INDEX callbacks_dedup_key`);
    await queryRunner.query(
      `CREATE UNIQUE INDEX callbacks_dedup_key ON callbacks (provider, account, transaction_key, status, transition_key)`,
    );
    await queryRunner.query(`CREATE INDEX callbacks_outcome ON callbacks (outcome, received_at)`);

    if (postgres) {
      await queryRunner.query(`ALTER TABLE outbox ALTER COLUMN callback_id DROP NOT NULL`);
    } else {
      // SQLite cannot drop NOT NULL in place: rebuild the table (same columns, same indexes).
      await queryRunner.query(`
        CREATE TABLE outbox_next (
          event_id varchar(36) PRIMARY KEY,
          callback_id varchar(36) REFERENCES callbacks (id) ON DELETE CASCADE,
          provider varchar(32) NOT NULL,
          event_type varchar(64) NOT NULL,
          routing_key varchar(128) NOT NULL,
          payload text NOT NULL,
          created_at text NOT NULL,
          published_at text,
          attempts integer NOT NULL DEFAULT 0,
          last_error text,
          lease_owner varchar(128),
          lease_until text
        )`);
      const columns = `event_id, callback_id, provider, event_type, routing_key, payload, created_at,
                       published_at, attempts, last_error, lease_owner, lease_until`;
      await queryRunner.query(`INSERT INTO outbox_next (${columns}) SELECT ${columns} FROM outbox`);
      await queryRunner.query(`DROP TABLE outbox`);
      await queryRunner.query(`ALTER TABLE outbox_next RENAME TO outbox`);
      await queryRunner.query(
        `CREATE INDEX outbox_unpublished ON outbox (created_at) WHERE published_at IS NULL`,
      );
      await queryRunner.query(`CREATE INDEX outbox_callback_id ON outbox (callback_id)`);
    }

    await foldExistingCallbacks(queryRunner, postgres);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX callbacks_outcome`);
    await queryRunner.query(`DROP INDEX callbacks_dedup_key`);
    await queryRunner.query(
      `UPDATE callbacks SET outcome = 'accepted' WHERE outcome = 'superseded'`,
    );
    await queryRunner.query(
      `CREATE UNIQUE INDEX callbacks_dedup_key ON callbacks (provider, account, transaction_key, status)`,
    );
    await queryRunner.query(`ALTER TABLE callbacks DROP COLUMN quarantine`);
    await queryRunner.query(`ALTER TABLE callbacks DROP COLUMN transition_key`);
    await queryRunner.query(`DROP TABLE transactions`);
  }
}

interface FoldRow {
  id: string;
  provider: string;
  account: string;
  transaction_key: string;
  status: EventStatus;
  received_at: string | Date;
  /** received_at exactly as stored (PostgreSQL keeps microseconds a Date would lose): the cursor. */
  cursor_at: string;
}

/** Callbacks read per page of the fold: memory stays bounded whatever the table's size. */
export const FOLD_PAGE = 10_000;

/**
 * Folds the accepted callbacks into states, one page at a time in (provider, account, transaction,
 * arrival) order — keyset pagination on a temporary index, so neither database sorts or returns the
 * whole table at once and the gateway's heap bounds nothing (a 10M-row table folds in the image's
 * 192 MB). A transaction's state is written once its last callback has been read: the one still
 * open at a page's end is carried into the next page.
 */
export async function foldExistingCallbacks(
  queryRunner: QueryRunner,
  postgres: boolean,
  pageSize = FOLD_PAGE,
): Promise<void> {
  let n = 0;
  const placeholder = () => (postgres ? `$${++n}` : '?');
  const order = 'provider, account, transaction_key, received_at, id';
  await queryRunner.query(
    `CREATE INDEX callbacks_state_fold ON callbacks (${order}) WHERE outcome = 'accepted'`,
  );
  const done: unknown[][] = [];
  const superseded: string[] = [];
  const writeStates = async (all = false) => {
    while (done.length >= CHUNK || (all && done.length > 0)) {
      const chunk = done.splice(0, CHUNK);
      n = 0;
      const values = chunk.map((row) => `(${row.map(placeholder).join(', ')})`).join(', ');
      await queryRunner.query(
        `INSERT INTO transactions (provider, account, transaction_key, status, previous_status, refunded_total,
                                   version, first_callback_id, last_callback_id, created_at, updated_at)
         VALUES ${values}`,
        chunk.flat(),
      );
    }
    while (superseded.length >= CHUNK || (all && superseded.length > 0)) {
      const chunk = superseded.splice(0, CHUNK);
      n = 0;
      await queryRunner.query(
        `UPDATE callbacks SET outcome = 'superseded' WHERE id IN (${chunk.map(placeholder).join(', ')})`,
        chunk,
      );
    }
  };

  let state = null as { key: string; row: unknown[]; status: EventStatus } | null;
  let after: FoldRow | null = null;
  for (;;) {
    n = 0;
    const rows = (await queryRunner.query(
      `SELECT id, provider, account, transaction_key, status, received_at,
              ${postgres ? 'received_at::text' : 'received_at'} AS cursor_at
       FROM callbacks
       WHERE outcome = 'accepted' AND account IS NOT NULL AND transaction_key IS NOT NULL AND status IS NOT NULL
       ${after ? `AND (${order}) > (${[1, 2, 3, 4, 5].map(placeholder).join(', ')})` : ''}
       ORDER BY ${order} LIMIT ${Number(pageSize)}`,
      after
        ? [after.provider, after.account, after.transaction_key, after.cursor_at, after.id]
        : [],
    )) as FoldRow[];
    for (const row of rows) {
      const key = JSON.stringify([row.provider, row.account, row.transaction_key]);
      const at = new Date(row.received_at).toISOString();
      if (state?.key !== key) {
        if (state) done.push(state.row);
        // provider, account, key, status, previous, refunded total, version, first, last, created, updated
        const fresh = [row.provider, row.account, row.transaction_key, row.status, null, null, 1];
        state = { key, row: [...fresh, row.id, row.id, at, at], status: row.status };
        continue;
      }
      const verdict = decideTransition(
        { status: state.status, refundedTotal: null },
        { status: row.status, refundedTotal: null },
      );
      if (verdict !== 'transition') {
        superseded.push(row.id);
        continue;
      }
      state.row[4] = state.status;
      state.row[3] = row.status;
      state.row[6] = (state.row[6] as number) + 1;
      state.row[8] = row.id;
      state.row[10] = at;
      state.status = row.status;
    }
    await writeStates();
    if (rows.length < pageSize) break;
    after = rows[rows.length - 1];
  }
  if (state) done.push(state.row);
  await writeStates(true);
  await queryRunner.query(`DROP INDEX callbacks_state_fold`);
}
