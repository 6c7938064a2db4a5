import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EVENT_STATUSES } from '../../src/events/normalized-transaction.js';
import { decideTransition, postgresTransitionPredicate } from '../../src/events/transitions.js';
import { createTestDatabase } from '../support/databases.js';
import { transactionStateSuite } from './transaction-state.suite.js';

transactionStateSuite('postgres');

describe('the batched write path decides like the table', () => {
  it('postgresTransitionPredicate agrees with decideTransition for every pair of observations', async () => {
    const db = await createTestDatabase('postgres');
    try {
      const totals = [null, '1000', '1500.00', '700'];
      // Every (status, refunded total) observation, against every other.
      const observations = `(SELECT s.status, t.refunded_total
                             FROM unnest($1::text[]) AS s (status), unnest($2::text[]) AS t (refunded_total))`;
      const rows = await db.query<{
        a: string;
        at: string | null;
        b: string;
        bt: string | null;
        ok: boolean;
      }>(
        `SELECT state.status AS a, state.refunded_total AS at, excluded.status AS b,
                excluded.refunded_total AS bt,
                COALESCE(${postgresTransitionPredicate('state', 'excluded')}, false) AS ok
         FROM ${observations} AS state, ${observations} AS excluded`,
        [EVENT_STATUSES, totals],
      );
      assert.equal(rows.length, (EVENT_STATUSES.length * totals.length) ** 2);
      for (const row of rows) {
        const expected =
          decideTransition(
            { status: row.a as never, refundedTotal: row.at },
            { status: row.b as never, refundedTotal: row.bt },
          ) === 'transition';
        assert.equal(row.ok, expected, `${row.a}/${row.at} → ${row.b}/${row.bt}`);
      }
    } finally {
      await db.drop();
    }
  });
});
