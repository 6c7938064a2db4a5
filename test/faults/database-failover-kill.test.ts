import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { failoverScenarios } from './database-failover.js';

/** One PostgreSQL failover case of test/faults/database-failover.ts (a file each: bounded time). */
describe('PostgreSQL failover on a real primary and standby (extra clusters, dropped afterwards)', () => {
  const scenario = failoverScenarios();

  it('(a) kill -9 of the primary, synchronous standby promoted: no acknowledged callback lost, ≤ 10 s of 503', async () => {
    const { figures, versions } = await scenario('kill -9, synchronous', {
      tag: 'a',
      synchronous: true,
      fault: (primary) => primary.kill9(),
    });
    assert.equal(figures.acknowledgedLost, 0, 'no acknowledged callback lost');
    assert.equal(figures.otherStatuses, 0, 'nothing but 2xx and 503');
    assert.equal(figures.networkErrors, 0, 'every request answered');
    assert.ok(figures.secondsWithout2xx <= 10, `${figures.secondsWithout2xx} s without a 2xx`);
    assert.deepEqual(versions.lower, []);
  });
});
