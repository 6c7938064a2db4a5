import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { REJECTION_REASON_HEADER } from '../../src/topups/topup-dead-letters.js';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { AMQP_URL, drainQueue, sleep } from '../support/broker.js';
import { type EventBody, tapped, uniqueRef } from '../support/ppob-sidopulsa.js';
import {
  ADMIN_KEY,
  createTopupBed,
  publishCommands,
  queueDepth,
  type TopupBed,
  topupCommand,
  waitUntil,
} from '../support/topups.js';
import { assertClockVersion, assertIncreasing } from '../support/versions.js';

const SIMULATE_JS = fileURLToPath(new URL('../../src/bin/simulate.js', import.meta.url));

/** The topup events of one reference, in the order they arrived. */
function eventsOf(t: TopupBed, reference: string): EventBody[] {
  return tapped(t.bed, (b) => b.subject === reference).map((e) => e.body);
}

async function waitForEvents(t: TopupBed, reference: string, count: number, settleMs = 500) {
  await waitUntil(() => eventsOf(t, reference).length >= count, `${count} events for ${reference}`);
  await sleep(settleMs);
  return eventsOf(t, reference);
}

/** The order's answer and the report: two transitions of one transaction, versions increasing. */
function assertOneTransaction(pending: EventBody, succeeded: EventBody): void {
  assertClockVersion(pending.data.transactionVersion, pending.data.receivedAt);
  assert.equal(pending.data.previousStatus, null);
  assertIncreasing([pending.data.transactionVersion, succeeded.data.transactionVersion]);
  assert.equal(succeeded.data.previousStatus, 'pending');
  assert.equal(pending.data.merchantReference, succeeded.data.merchantReference);
}

async function orderRows(t: TopupBed, reference: string) {
  return t.bed.db.query<Record<string, unknown>>(
    'SELECT * FROM topup_orders WHERE reference = $1',
    [reference],
  );
}

for (const kind of ['postgres', 'sqlite'] as const) {
  describe(`top-up orders on ${kind}: RabbitMQ command → gateway → sandbox over HTTP → report → RabbitMQ`, () => {
    let t: TopupBed;
    before(async () => (t = await createTopupBed(kind)));
    after(() => t.teardown());

    it('a PPOB prepaid order: one signed request, topup.pending (Waiting) then topup.succeeded with the serial number', async () => {
      const reference = uniqueRef('P');
      await publishCommands(t.queue, [
        topupCommand({ provider: 'ppob', reference, product: 'S10', destination: '08123214214' }),
      ]);
      const [pending, succeeded] = await waitForEvents(t, reference, 2);
      assert.equal(eventsOf(t, reference).length, 2);
      // One transaction: the order's answer is version 1, the report version 2.
      assertOneTransaction(pending, succeeded);
      assert.deepEqual(pending.data.verification.method, 'inquiry');
      assert.deepEqual(succeeded.data.verification.method, 'signature');
      assert.equal(pending.type, 'topup.pending');
      assert.equal(pending.data.providerStatus, 'Waiting');
      assert.equal(pending.data.raw.message, 'request trx diterima');
      assert.equal(succeeded.type, 'topup.succeeded');
      assert.equal(succeeded.data.providerStatus, 'Success');
      assert.match(succeeded.data.product.serialNumber, /^\d{16}$/);
      assert.deepEqual(
        [pending.source, succeeded.source],
        ['/providers/ppob/default', '/providers/ppob/default'],
      );
      // The sandbox checked Gw-signature: a refused request would be recorded as `auth`.
      assert.deepEqual(
        t.ppob.requests.filter((r) => r.reference === reference).map((r) => r.outcome),
        ['created'],
      );
      assert.equal(t.ppob.requests.filter((r) => r.outcome === 'auth').length, 0);
      const [row] = await orderRows(t, reference);
      assert.equal(row.placement, 'placed');
      assert.equal(row.provider_status, 'Waiting');
      assert.equal(await queueDepth(t.queue), 0, 'the command was acknowledged');
    });

    it('a Sidopulsa order: credentials in the query, rc 01 pending, then the report (statuscode 1) succeeded', async () => {
      const reference = uniqueRef('S');
      await publishCommands(t.queue, [
        topupCommand({
          provider: 'sidopulsa',
          reference,
          product: 'TT5',
          destination: '081299999999',
        }),
      ]);
      const [pending, succeeded] = await waitForEvents(t, reference, 2);
      assertOneTransaction(pending, succeeded);
      assert.equal(pending.type, 'topup.pending');
      assert.equal(pending.data.providerStatus, 'pending');
      assert.equal(pending.data.amount, '9000');
      assert.equal(succeeded.type, 'topup.succeeded');
      assert.equal(succeeded.data.providerStatus, '1');
      assert.match(succeeded.data.product.serialNumber, /^OPTR\d{9}$/);
      assert.deepEqual(
        t.sidopulsa.requests.filter((r) => r.reference === reference).map((r) => r.outcome),
        ['created'],
      );
      // The query held the api key: it is stored nowhere.
      const stored = JSON.stringify(await t.bed.db.query('SELECT * FROM callbacks'));
      assert.ok(!stored.includes('sidopulsa-api-key'), 'no credential stored');
    });

    it('a destination the operator refuses: topup.pending, then the report topup.failed', async () => {
      const reference = uniqueRef('F');
      await publishCommands(t.queue, [
        topupCommand({ provider: 'ppob', reference, product: 'S10', destination: '081299990000' }),
      ]);
      const events = await waitForEvents(t, reference, 2);
      assert.deepEqual(
        events.map((e) => e.type),
        ['topup.pending', 'topup.failed'],
      );
      assert.equal(events[1].data.product.serialNumber, null);
    });
  });
}

describe('top-up orders: exactly one order at the provider (PostgreSQL)', () => {
  let t: TopupBed;
  const slow = new Set<string>();
  before(
    async () =>
      (t = await createTopupBed('postgres', {
        timing: { answerDelayMs: (ref, attempt) => (slow.has(ref) && attempt === 1 ? 2_500 : 0) },
      })),
  );
  after(() => t.teardown());

  it('the same command 5 times, concurrently and on two replicas: one order, one pending and one succeeded event', async () => {
    await t.replica();
    const reference = uniqueRef('D');
    const command = topupCommand({
      provider: 'ppob',
      reference,
      product: 'S10',
      destination: '08123214214',
    });
    await Promise.all(Array.from({ length: 5 }, () => publishCommands(t.queue, [command])));
    const events = await waitForEvents(t, reference, 2, 1_500);
    assert.deepEqual(
      events.map((e) => e.type),
      ['topup.pending', 'topup.succeeded'],
    );
    assertOneTransaction(events[0], events[1]);
    assert.equal(t.ppob.orders().filter((o) => o.refid === reference).length, 1);
    assert.equal(t.ppob.requests.filter((r) => r.reference === reference).length, 1);
    assert.equal((await orderRows(t, reference)).length, 1);
    assert.equal(await queueDepth(t.queue), 0, 'every copy acknowledged');
  });

  it('the provider times out on the first try: retried with the same refid, one order, one transaction', async () => {
    const reference = uniqueRef('T');
    slow.add(reference);
    await publishCommands(t.queue, [
      topupCommand({ provider: 'ppob', reference, product: 'S10', destination: '08123214214' }),
    ]);
    const events = await waitForEvents(t, reference, 2, 1_000);
    assert.deepEqual(
      events.map((e) => e.type),
      ['topup.pending', 'topup.succeeded'],
    );
    assertOneTransaction(events[0], events[1]);
    const requests = t.ppob.requests.filter((r) => r.reference === reference);
    assert.deepEqual(requests.map((r) => r.outcome).slice(0, 2), ['created', 'repeat']);
    assert.equal(t.ppob.orders().filter((o) => o.refid === reference).length, 1);
    const [row] = await orderRows(t, reference);
    assert.ok(Number(row.attempts) >= 2, 'sent more than once');
    const answers = await t.bed.db.query(
      `SELECT status FROM callbacks WHERE provider = 'ppob' AND transaction_key = $1`,
      [reference],
    );
    assert.deepEqual(answers.map((a) => a.status).sort(), ['pending', 'succeeded']);
  });

  it('a malformed command goes to the dead-letter queue with the reason, once, and is not requeued', async () => {
    const reference = uniqueRef('M');
    await publishCommands(t.queue, [
      'not json at all',
      topupCommand({ provider: 'ppob', reference, product: 'S10' }),
      {
        ...topupCommand({ provider: 'ppob', reference, product: 'S10', destination: '0812' }),
        type: 'order.created',
      },
      topupCommand({ provider: 'nicepay', reference, product: 'S10', destination: '08123214214' }),
    ]);
    const dlq = `${t.queue}.dead-letter`;
    let dead: Awaited<ReturnType<typeof drainQueue>> = [];
    await waitUntil(async () => {
      dead = dead.concat(await drainQueue(dlq));
      return dead.length >= 4;
    }, 'four dead-lettered commands');
    await sleep(500);
    dead = dead.concat(await drainQueue(dlq));
    const reasons = dead.map((m) => String(m.properties.headers?.[REJECTION_REASON_HEADER]));
    assert.equal(dead.length, 4);
    // Handled in parallel: the dead-letter order is not the arrival order.
    const reasonOf = (content: string | RegExp) =>
      reasons[
        dead.findIndex((m) =>
          typeof content === 'string'
            ? m.content.toString() === content
            : content.test(m.content.toString()),
        )
      ];
    assert.match(reasonOf('not json at all'), /body is not JSON/, 'the command kept as received');
    assert.match(reasonOf(/"product":"S10"\}/), /destination must be/);
    assert.match(reasonOf(/order\.created/), /type must be "topup.requested"/);
    assert.match(
      reasonOf(/nicepay/),
      /provider must be one of the following values: ppob, sidopulsa/,
    );
    assert.equal(await queueDepth(t.queue), 0);
    assert.equal((await orderRows(t, reference)).length, 0);
  });

  it('POST /topups (admin key): 202 stored, 200 for the same reference, 409 for another order under it, 400, 401', async () => {
    const reference = uniqueRef('H');
    const post = (body: unknown, key: string | null = ADMIN_KEY) =>
      fetch(`${t.bed.gateway.url}/topups`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(key ? { 'x-admin-key': key } : {}) },
        body: JSON.stringify(body),
      });
    const order = { provider: 'sidopulsa', reference, product: 'S5', destination: '081211112222' };
    const first = await post(order);
    assert.equal(first.status, 202);
    const view = (await first.json()) as Record<string, unknown>;
    assert.equal(view.reference, reference);
    assert.equal(view.placement, 'queued');
    const events = await waitForEvents(t, reference, 2);
    assert.deepEqual(
      events.map((e) => e.type),
      ['topup.pending', 'topup.succeeded'],
    );

    const again = await post(order);
    assert.equal(again.status, 200);
    const known = (await again.json()) as Record<string, unknown>;
    assert.equal(known.id, view.id);
    assert.equal(known.placement, 'placed');
    // The known state: the report moved the transaction on since the order's answer.
    assert.equal(known.status, 'succeeded');
    assert.equal(known.transactionVersion, events[1].data.transactionVersion);
    assert.equal(known.providerStatus, 'pending', "the order's own answer");

    const conflict = await post({ ...order, destination: '081233334444' });
    assert.equal(conflict.status, 409);
    assert.match(((await conflict.json()) as { message: string }).message, /destination differ/);

    const bad = await post({
      provider: 'ppob',
      reference: 'x y',
      product: 'S10',
      destination: '1',
      extra: 1,
    });
    assert.equal(bad.status, 400);
    const message = ((await bad.json()) as { message: string }).message;
    assert.match(message, /reference must be/);
    assert.match(message, /property extra should not exist/);

    assert.equal((await post(order, null)).status, 401);
    assert.equal((await post(order, 'wrong-key-0123456789abcdef')).status, 401);
    assert.equal(t.sidopulsa.orders().filter((o) => o.refId === reference).length, 1);

    const read = await fetch(`${t.bed.gateway.url}/topups/sidopulsa/${reference}`, {
      headers: { 'x-admin-key': ADMIN_KEY },
    });
    assert.equal(read.status, 200);
    assert.equal(((await read.json()) as { id: string }).id, view.id);
  });
});

describe('npm run simulate -- topup: the whole loop from the command line', () => {
  let t: TopupBed;
  before(async () => (t = await createTopupBed('postgres')));
  after(() => t.teardown());

  it('prints the command, the stored order, topup.pending and topup.succeeded, and exits 0', async () => {
    const reference = uniqueRef('C');
    const child = spawn(
      process.execPath,
      [SIMULATE_JS, 'topup', 'ppob', '--product', 'S10', '--dest', '08123214214', '-r', reference],
      {
        env: {
          PATH: process.env.PATH ?? '',
          NODE_ENV: 'test',
          AMQP_URL,
          EVENTS_EXCHANGE: t.bed.exchange,
          TOPUP_COMMANDS_QUEUE: t.queue,
        },
      },
    );
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    assert.equal(code, 0, output);
    const lines = output.trim().split('\n');
    assert.match(
      lines[0],
      /^> command topup.requested → queue test\.topups\.\w+: \{"provider":"ppob"/,
    );
    assert.match(output, /< gateway: order stored \(placement queued\)/);
    assert.match(
      output,
      /< event topup\.pending\.ppob.*: ppob status Waiting "request trx diterima"/,
    );
    assert.match(
      output,
      /< event topup\.succeeded\.ppob.*: ppob status Success, serial number \d{16}/,
    );
    assert.equal(t.ppob.orders().filter((o) => o.refid === reference).length, 1);
  });
});

describe('top-up orders: account-level errors (wrong PPOB_API_TOKEN)', () => {
  let t: TopupBed;
  before(
    async () =>
      (t = await createTopupBed('postgres', {
        env: { PPOB_API_TOKEN: 'not-the-token-we-were-given' },
      })),
  );
  after(() => t.teardown());

  it('fails the order with the provider reason, counts it in a metric, publishes topup.failed', async () => {
    const reference = uniqueRef('A');
    await publishCommands(t.queue, [
      topupCommand({ provider: 'ppob', reference, product: 'S10', destination: '08123214214' }),
    ]);
    const [failed] = await waitForEvents(t, reference, 1);
    assert.equal(failed.type, 'topup.failed');
    assert.equal(failed.data.providerStatus, '401');
    assert.equal(failed.data.raw.message, 'Gw-signature tidak valid');
    const [row] = await orderRows(t, reference);
    assert.equal(row.placement, 'failed');
    assert.equal(row.failure_reason, 'PPOB refused the request: Gw-signature tidak valid');
    assert.equal(t.ppob.orders().filter((o) => o.refid === reference).length, 0);
    const metrics = await (await fetch(`${t.bed.gateway.url}/metrics`)).text();
    assert.match(metrics, /gateway_topup_account_errors_total\{provider="ppob",code="401"\} 1/);
    // Listed for an operator (the console's attention page reads the same list).
    const listed = (await (
      await fetch(`${t.bed.gateway.managementUrl}/topups/failed`, {
        headers: { 'x-admin-key': ADMIN_KEY },
      })
    ).json()) as Array<{ reference: string; placement: string; failureReason: string }>;
    const mine = listed.find((order) => order.reference === reference);
    assert.equal(mine?.placement, 'failed');
    assert.match(mine?.failureReason ?? '', /Gw-signature tidak valid/);
  });
});
