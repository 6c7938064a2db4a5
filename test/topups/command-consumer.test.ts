import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { uniqueRef } from '../support/ppob-sidopulsa.js';
import {
  createTopupBed,
  deleteQueues,
  publishCommands,
  type TopupBed,
  topupCommand,
  waitUntil,
} from '../support/topups.js';

interface Ready {
  status: string;
  info?: { broker?: { components?: Record<string, { connected: boolean }> } };
}

async function commandsConnected(t: TopupBed): Promise<boolean> {
  const res = await fetch(`${t.bed.gateway.url}/health/ready`);
  assert.equal(res.status, 200, 'readiness is never 503 for the broker');
  const body = (await res.json()) as Ready;
  return body.info?.broker?.components?.['topup-commands']?.connected === true;
}

/**
 * The command queue is deleted under the gateway's consumer (an operator migrating it, or its
 * node lost): RabbitMQ cancels the consumer (basic.cancel). The gateway declares the queue again
 * and consumes from it by itself; the process carries on.
 */
describe('top-up command consumer: cancelled by the broker, it consumes again', () => {
  let t: TopupBed;
  before(async () => (t = await createTopupBed('sqlite')));
  after(() => t.teardown());

  it('the queue deleted under it: re-declared, consumed again, a new command is ordered', async () => {
    await waitUntil(() => commandsConnected(t), 'the consumer connected');
    await deleteQueues(t.queue);
    await waitUntil(async () => !(await commandsConnected(t)), 'the cancel reported', 5_000).catch(
      () => undefined, // it may already be back: the re-consume takes about a second
    );
    await waitUntil(() => commandsConnected(t), 'the consumer back', 15_000);
    const reference = uniqueRef('C');
    await publishCommands(t.queue, [
      topupCommand({ provider: 'ppob', reference, product: 'S10', destination: '08123214214' }),
    ]);
    await waitUntil(
      async () =>
        (await t.bed.db.query('SELECT 1 FROM topup_orders WHERE reference = $1', [reference]))
          .length === 1,
      'the command after the cancel ordered',
    );
  });
});
