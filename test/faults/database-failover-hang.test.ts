import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { failoverScenarios } from './database-failover.js';

/** One PostgreSQL failover case of test/faults/database-failover.ts (a file each: bounded time). */
describe('PostgreSQL failover on a real primary and standby (extra clusters, dropped afterwards)', () => {
  const scenario = failoverScenarios();

  it('(b) the primary hangs (SIGSTOP, no reset), standby promoted: the pool recovers by itself within seconds', async () => {
    const { figures } = await scenario('hang (SIGSTOP), synchronous', {
      tag: 'b',
      synchronous: true,
      fault: (primary) => primary.hang(),
    });
    assert.equal(figures.acknowledgedLost, 0, 'no acknowledged callback lost');
    assert.equal(figures.otherStatuses, 0, 'nothing but 2xx and 503');
    assert.ok(figures.secondsWithout2xx <= 15, `${figures.secondsWithout2xx} s without a 2xx`);
  });
});
