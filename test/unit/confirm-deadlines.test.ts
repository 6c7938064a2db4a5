/**
 * `confirmed`: one publish's confirm, with its deadline kept by one timer per timeout (issue 28)
 * instead of one per publish — acks resolve, nacks and throws reject, and every publish left
 * unconfirmed is rejected once its own deadline passes, not before.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { confirmed } from '../../src/messaging/broker-link.js';

describe('confirmed', () => {
  it('resolves on the ack, rejects on a nack or a throw', async () => {
    await confirmed(1000, (callback) => setImmediate(() => callback(null)));
    await assert.rejects(
      confirmed(1000, (callback) => callback('nack')),
      /^Error: nack$/,
    );
    await assert.rejects(
      confirmed(1000, () => {
        throw new Error('channel closed');
      }),
      /channel closed/,
    );
  });

  it('expires each unconfirmed publish at its own deadline, leaving the confirmed ones', async () => {
    const timeout = 120;
    const started = Date.now();
    const outcomes: string[] = [];
    const track = (name: string, promise: Promise<void>) =>
      promise.then(
        () => outcomes.push(`${name} confirmed`),
        (error: Error) => outcomes.push(`${name} ${error.message} after ${Date.now() - started}`),
      );
    const callbacks: ((error: unknown) => void)[] = [];
    const first = track(
      'first',
      confirmed(timeout, (callback) => callbacks.push(callback)),
    );
    const second = track(
      'second',
      confirmed(timeout, (callback) => callbacks.push(callback)),
    );
    await sleep(60);
    const third = track(
      'third',
      confirmed(timeout, (callback) => callbacks.push(callback)),
    );
    callbacks[1](null); // the second is confirmed in time
    await Promise.all([first, second]);
    const lateAck = callbacks[0];
    lateAck(null); // an ack after the deadline changes nothing
    await third;
    assert.equal(outcomes.length, 3);
    assert.equal(outcomes[0], 'second confirmed');
    const expiry = (name: string) =>
      Number(
        new RegExp(`^${name} not confirmed by RabbitMQ within ${timeout} ms after (\\d+)$`).exec(
          outcomes.find((o) => o.startsWith(name)) ?? '',
        )?.[1],
      );
    assert.ok(expiry('first') >= timeout, `first expired at ${expiry('first')} ms`);
    assert.ok(expiry('third') >= timeout + 60, `third expired at ${expiry('third')} ms`);
    assert.ok(expiry('third') < timeout + 60 + 500, 'and not much later');
  });
});
