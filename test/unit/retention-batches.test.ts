import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import {
  nextBatchSize,
  purgeInBatches,
  RETENTION_BATCH,
  RETENTION_BATCH_BUDGET_MS,
  type RetentionBatch,
} from '../../src/retention/retention.service.js';

/**
 * A table of `due` rows that costs `msPerRow(batchIndex)` per deleted row: the query waits that
 * long and returns the rows it deleted, as the DELETE … RETURNING id would.
 */
function table(due: number, msPerRow: (batch: number) => number) {
  let left = due;
  let n = 0;
  const asked: unknown[][] = [];
  const query = async (_sql: string, params: unknown[]) => {
    asked.push(params);
    const size = params[1] as number;
    const deleted = Math.min(size, left);
    left -= deleted;
    await new Promise((resolve) => setTimeout(resolve, deleted * msPerRow(n++)));
    return Array.from({ length: deleted }, (_, i) => ({ id: String(i) }));
  };
  return { query, asked, left: () => left };
}

describe('retention batch sizing', () => {
  it('sizes the next batch from the last one’s time per row, within 10 and RETENTION_BATCH rows', () => {
    assert.equal(nextBatchSize(100, RETENTION_BATCH_BUDGET_MS), 100);
    assert.equal(nextBatchSize(100, RETENTION_BATCH_BUDGET_MS * 2), 50);
    assert.equal(nextBatchSize(100, RETENTION_BATCH_BUDGET_MS / 2), 200);
    assert.equal(nextBatchSize(100, 0.01), RETENTION_BATCH);
    assert.equal(nextBatchSize(100, 100_000), 10);
  });

  it('deletes everything due, passing the cutoff and each size, and reports every batch', async () => {
    const rows = table(1234, () => 0);
    const batches: RetentionBatch[] = [];
    const deleted = await purgeInBatches(rows.query, 'DELETE …', {
      before: '2026-01-01T00:00:00.000Z',
      onBatch: (batch) => batches.push(batch),
    });
    assert.equal(deleted, 1234);
    assert.equal(rows.left(), 0);
    assert.ok(rows.asked.every((params) => params[0] === '2026-01-01T00:00:00.000Z'));
    assert.deepEqual(
      batches.map((b) => b.size),
      rows.asked.map((params) => params[1]),
    );
    assert.equal(batches[0].size, 100, 'a run starts small');
    assert.ok(batches.every((b) => b.size <= RETENTION_BATCH));
    assert.equal(batches.at(-1)!.deleted < batches.at(-1)!.size, true, 'stops at a short batch');
  });

  it('shrinks the batches when rows turn slow, so each stays near the time budget', async () => {
    // Fast rows, then from the third batch on 2 ms per row (a cold part of a large table).
    const rows = table(3000, (n) => (n < 2 ? 0.01 : 2));
    const batches: RetentionBatch[] = [];
    await purgeInBatches(rows.query, 'DELETE …', {
      before: 'x',
      maxBatches: 8,
      onBatch: (batch) => batches.push(batch),
    });
    assert.equal(batches.length, 8);
    // The first slow batch takes what its size costs; every later one is sized for the budget.
    for (const batch of batches.slice(3)) {
      assert.ok(batch.size <= 30, `batch of ${batch.size} rows after slow ones`);
      assert.ok(batch.ms < 4 * RETENTION_BATCH_BUDGET_MS, `${batch.ms} ms`);
    }
  });

  it('stops between batches once asked to', async () => {
    const rows = table(10_000, () => 0);
    let calls = 0;
    const deleted = await purgeInBatches(rows.query, 'DELETE …', {
      before: 'x',
      stopping: () => calls++ >= 2,
    });
    assert.equal(rows.asked.length, 2);
    assert.equal(deleted, 10_000 - rows.left());
  });
});
