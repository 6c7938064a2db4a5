import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { DataSource } from 'typeorm';
import { BATCH_STATEMENT } from '../../src/transactions/callback-store.js';
import { openPostgresSource } from '../support/databases.js';

/**
 * The batched callback write is prepared once per pooled connection and its generic plan kept
 * while the table grows. Planned on a young table, a lookup of stored copies written as a join
 * became a hash anti-join over a sequential scan of `callbacks` — every batch reading the whole
 * table. The plan PostgreSQL keeps must probe the unique event_id index whatever the table's size
 * when it was made.
 */
describe('the batched callback write’s generic plan (postgres)', () => {
  let opened: Awaited<ReturnType<typeof openPostgresSource>>;
  let source: DataSource;

  before(async () => {
    opened = await openPostgresSource(true);
    source = opened.source;
  });
  after(() => opened.close());

  /** The generic plan of the statement, as a pooled connection keeps it. */
  async function genericPlan(): Promise<string> {
    const runner = source.createQueryRunner();
    await runner.connect();
    try {
      await runner.query(`SET plan_cache_mode = force_generic_plan`);
      await runner.query(`PREPARE batch (jsonb) AS ${BATCH_STATEMENT.replace('?', '$1')}`);
      const rows = (await runner.query(`EXPLAIN EXECUTE batch('[]')`)) as Array<{
        'QUERY PLAN': string;
      }>;
      await runner.query(`DEALLOCATE batch`);
      return rows.map((row) => row['QUERY PLAN']).join('\n');
    } finally {
      await runner.release();
    }
  }

  it('probes callbacks_event_id for stored copies, on an empty table and on an analyzed small one', async () => {
    const plans = [await genericPlan()];
    // A few hundred stored callbacks, analyzed: the size at which a join over a full scan is the
    // cheaper plan for PostgreSQL's estimate of the batch.
    await source.query(
      `INSERT INTO callbacks (id, provider, account, transaction_key, status, event_id, outcome, source_ip,
                              method, path, headers, raw_body, raw_body_encoding, verification, received_at)
       SELECT gen_random_uuid()::text, 'nicepay', 'acct', 'tx' || n, 'succeeded', gen_random_uuid()::text,
              'accepted', '127.0.0.1', 'POST', '/callbacks/nicepay', '{}', 'body', 'utf8', 'signature', now()
       FROM generate_series(1, 800) AS n`,
    );
    await source.query(`ANALYZE callbacks`);
    plans.push(await genericPlan());
    for (const plan of plans) {
      assert.doesNotMatch(plan, /Seq Scan on callbacks/, plan);
      assert.match(
        plan,
        /Index Only Scan using callbacks_event_id on callbacks|Index Scan using callbacks_event_id on callbacks/,
        plan,
      );
    }
  });
});
