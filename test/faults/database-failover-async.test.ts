import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { failoverScenarios } from './database-failover.js';

/** One PostgreSQL failover case of test/faults/database-failover.ts (a file each: bounded time). */
describe('PostgreSQL failover on a real primary and standby (extra clusters, dropped afterwards)', () => {
  const scenario = failoverScenarios();

  it('(c) asynchronous standby 2 s behind, primary killed: the loss is measured; versions published afterwards are higher', async () => {
    const { figures, versions } = await scenario('kill -9, asynchronous standby 2 s behind', {
      tag: 'c',
      synchronous: false,
      lagMs: 2_000,
      fault: (primary) => primary.kill9(),
    });
    assert.ok(
      figures.acknowledgedLost > 0,
      'without synchronous replication, acknowledged callbacks are lost (what this measures)',
    );
    assert.ok(versions.checks > 0, 'transactions with events before and after the failover');
    assert.deepEqual(versions.lower, [], 'every status published afterwards has a higher version');
  });
});
