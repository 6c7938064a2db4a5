import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eventIdFor } from '../../src/events/transaction-event.js';
import { sleep } from '../support/broker.js';
import { acceptedCallbacks, createTestBed, type TestBed } from '../support/gateway.js';
import { mcpaymentCallback, mcpaymentSignature, postMcpayment } from '../support/mcpayment.js';
import { assertClockVersion } from '../support/versions.js';
import { publishedRaw } from '../support/published.js';

const ACK = '{"message":"SUCCESS"}';

async function waitUntil(
  check: () => Promise<boolean> | boolean,
  what: string,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await sleep(25);
  }
}

/** The one message whose subject is `orderId` (waits for it). */
async function eventFor(bed: TestBed, orderId: string) {
  await waitUntil(
    () => bed.tap.bodies().some((b) => b.subject === orderId),
    `the event for ${orderId}`,
  );
  const message = bed.tap.messages.find(
    (m) => JSON.parse(m.content.toString('utf8')).subject === orderId,
  )!;
  return { message, body: JSON.parse(message.content.toString('utf8')) };
}

async function assertAck(res: Response): Promise<void> {
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^application\/json\b/);
  assert.equal(await res.text(), ACK);
}

describe('MCPayment on postgres', () => {
  describe('signed callbacks', () => {
    let bed: TestBed;
    let url: string;
    before(async () => {
      bed = await createTestBed('postgres');
      url = `${bed.gateway.url}/callbacks/mcpayment`;
    });
    after(() => bed.teardown());

    it('a PAID VA callback is acknowledged with {"message":"SUCCESS"} and becomes one payment.succeeded.mcpayment event', async () => {
      const body = mcpaymentCallback();
      const text = JSON.stringify(body);
      await assertAck(await postMcpayment(url, body, mcpaymentSignature(body), {}, text));

      const { message, body: event } = await eventFor(bed, body.order_id);
      const expectedId = eventIdFor('mcpayment', 'default', body.transaction_id, 'succeeded');
      assert.equal(message.fields.routingKey, 'payment.succeeded.mcpayment');
      assert.equal(message.properties.messageId, expectedId);
      assert.equal(message.properties.type, 'payment.succeeded');
      assert.deepEqual(message.properties.headers, {
        provider: 'mcpayment',
        'schema-version': '1',
      });
      assert.equal(event.id, expectedId);
      assert.equal(event.source, '/providers/mcpayment/default');
      assert.equal(event.type, 'payment.succeeded');
      assert.equal(event.subject, body.order_id);
      assert.equal(event.time, '2025-11-21T05:05:12.136Z', 'paid_time 12:05:12.136 Jakarta');

      const [stored] = await acceptedCallbacks(bed.db);
      assert.deepEqual(event.data, {
        provider: 'mcpayment',
        account: 'default',
        status: 'succeeded',
        providerStatus: 'PAID',
        providerTransactionId: body.transaction_id,
        merchantReference: body.order_id,
        amount: '10000.1',
        currency: 'IDR',
        fee: '4000',
        paymentMethod: 'bank_transfer',
        channel: 'BRI',
        product: null,
        occurredAt: '2025-11-21T05:05:12.136Z',
        receivedAt: event.data.receivedAt,
        callbackId: stored.id,
        transactionKey: body.transaction_id,
        verification: { method: 'signature', at: event.data.receivedAt },
        previousStatus: null,
        transactionVersion: assertClockVersion(
          event.data.transactionVersion,
          event.data.receivedAt,
        ),
        raw: publishedRaw(JSON.parse(text) as Record<string, unknown>, event.data),
      });

      // Stored before the ack, byte for byte, with the signature header and what was verified.
      assert.equal(stored.provider, 'mcpayment');
      assert.equal(stored.account, 'default');
      assert.equal(stored.transaction_key, body.transaction_id);
      assert.equal(stored.status, 'succeeded');
      assert.equal(stored.raw_body, text);
      assert.equal(stored.path, '/callbacks/mcpayment');
      assert.equal(JSON.parse(stored.headers as string)['mcp-signature'], mcpaymentSignature(body));
      assert.equal(
        stored.verification,
        'mcp-signature matched SHA-256(transaction_id + x-req-signature) for account default',
      );
    });

    const table: Array<{
      status: string;
      routingKey: string;
      overrides?: Record<string, unknown>;
      details?: Record<string, unknown>;
      amount: string;
      paymentMethod: string;
      channel: string;
    }> = [
      {
        status: 'PAID',
        routingKey: 'payment.succeeded.mcpayment',
        amount: '10000.1',
        paymentMethod: 'bank_transfer',
        channel: 'BRI',
      },
      {
        status: 'SUCCESS',
        routingKey: 'payment.succeeded.mcpayment',
        overrides: { payment_method: 'EWALLET', payment_channel: 'ovo' },
        amount: '10000.1',
        paymentMethod: 'ewallet',
        channel: 'OVO',
      },
      {
        status: 'paid',
        routingKey: 'payment.succeeded.mcpayment',
        overrides: { payment_method: 'QRIS', payment_channel: undefined, issuer: 'Mandiri ' },
        details: { amount: 150000 },
        amount: '150000',
        paymentMethod: 'qris',
        channel: 'MANDIRI',
      },
      {
        status: 'ACTIVE',
        routingKey: 'payment.pending.mcpayment',
        overrides: { payment_method: 'VA', payment_channel: 'BCA' },
        amount: '10000.1',
        paymentMethod: 'virtual_account',
        channel: 'BCA',
      },
      {
        status: 'PROCESSING',
        routingKey: 'payment.pending.mcpayment',
        overrides: { payment_method: 'CREDIT_CARD', payment_channel: 'BNI' },
        details: { amount: 12345678.99 },
        amount: '12345678.99',
        paymentMethod: 'card',
        channel: 'BNI',
      },
      {
        status: 'EXPIRED',
        routingKey: 'payment.expired.mcpayment',
        amount: '10000.1',
        paymentMethod: 'bank_transfer',
        channel: 'BRI',
      },
      {
        status: 'CANCELED',
        routingKey: 'payment.cancelled.mcpayment',
        overrides: { payment_method: 'DIRECT_DEBIT', payment_channel: ' permata ' },
        amount: '10000.1',
        paymentMethod: 'direct_debit',
        channel: 'PERMATA',
      },
      {
        status: 'FAILED',
        routingKey: 'payment.failed.mcpayment',
        amount: '10000.1',
        paymentMethod: 'bank_transfer',
        channel: 'BRI',
      },
      {
        status: 'REFUNDED',
        routingKey: 'payment.refunded.mcpayment',
        overrides: {
          refund_history: [
            { refund_time: '2025-11-22T09:31:20.939+07:00', refund_amount: 10000.1 },
          ],
        },
        amount: '10000.1',
        paymentMethod: 'bank_transfer',
        channel: 'BRI',
      },
      {
        status: 'VOID',
        routingKey: 'payment.cancelled.mcpayment',
        amount: '10000.1',
        paymentMethod: 'bank_transfer',
        channel: 'BRI',
      },
      {
        status: 'void',
        routingKey: 'payment.cancelled.mcpayment',
        amount: '10000.1',
        paymentMethod: 'bank_transfer',
        channel: 'BRI',
      },
    ];

    for (const row of table) {
      it(`transaction_status ${row.status} → ${row.routingKey} (${row.paymentMethod}, ${row.channel}, ${row.amount})`, async () => {
        const body = mcpaymentCallback(
          { transaction_status: row.status, ...row.overrides },
          row.details,
        );
        await assertAck(await postMcpayment(url, body, mcpaymentSignature(body)));
        const { message, body: event } = await eventFor(bed, body.order_id);
        const type = row.routingKey.replace(/\.mcpayment$/, '');
        assert.equal(message.fields.routingKey, row.routingKey);
        assert.equal(message.properties.type, type);
        assert.equal(event.type, type);
        assert.equal(event.subject, body.order_id);
        assert.equal(event.data.status, type.split('.')[1]);
        assert.equal(event.data.providerStatus, row.status, 'verbatim');
        assert.equal(event.data.providerTransactionId, body.transaction_id);
        assert.equal(event.data.amount, row.amount);
        assert.equal(event.data.paymentMethod, row.paymentMethod);
        assert.equal(event.data.channel, row.channel);
        const when =
          type === 'payment.succeeded'
            ? '2025-11-21T05:05:12.136Z'
            : type === 'payment.refunded'
              ? '2025-11-22T02:31:20.939Z'
              : '2025-11-21T05:00:20.592Z';
        assert.equal(event.data.occurredAt, when);
      });
    }

    it('an upper-case hex signature is accepted', async () => {
      const body = mcpaymentCallback();
      await assertAck(await postMcpayment(url, body, mcpaymentSignature(body).toUpperCase()));
      assert.equal(
        (await eventFor(bed, body.order_id)).message.fields.routingKey,
        'payment.succeeded.mcpayment',
      );
    });

    it('sent 5 times, 3 of them concurrently on separate connections, gives one event and one row', async () => {
      const body = mcpaymentCallback();
      const signature = mcpaymentSignature(body);
      const concurrent = await Promise.all(
        [1, 2, 3].map(() => postMcpayment(url, body, signature, { connection: 'close' })),
      );
      const sequential = [];
      for (let i = 0; i < 2; i += 1) sequential.push(await postMcpayment(url, body, signature));
      for (const res of [...concurrent, ...sequential]) await assertAck(res);
      await eventFor(bed, body.order_id);
      await sleep(800);
      const forThis = bed.tap
        .bodies()
        .filter((b) => b.data.providerTransactionId === body.transaction_id);
      assert.equal(forThis.length, 1);
      const rows = await bed.db.query(`SELECT id FROM callbacks WHERE transaction_key = $1`, [
        body.transaction_id,
      ]);
      assert.equal(rows.length, 1);
    });

    it('the same transaction going ACTIVE then PAID gives two events (pending, then succeeded)', async () => {
      const active = mcpaymentCallback({ transaction_status: 'ACTIVE' });
      const paid = { ...active, transaction_status: 'PAID' };
      await assertAck(await postMcpayment(url, active, mcpaymentSignature(active)));
      await assertAck(await postMcpayment(url, paid, mcpaymentSignature(paid)));
      await waitUntil(
        () =>
          bed.tap.bodies().filter((b) => b.data.providerTransactionId === active.transaction_id)
            .length === 2,
        'two events',
      );
      const keys = bed.tap.messages
        .filter(
          (m) =>
            JSON.parse(m.content.toString()).data.providerTransactionId === active.transaction_id,
        )
        .map((m) => m.fields.routingKey)
        .sort();
      assert.deepEqual(keys, ['payment.pending.mcpayment', 'payment.succeeded.mcpayment']);
    });
  });

  describe('refused MCPayment requests', () => {
    let bed: TestBed;
    let url: string;
    before(async () => {
      bed = await createTestBed('postgres');
      url = `${bed.gateway.url}/callbacks/mcpayment`;
    });
    after(() => bed.teardown());

    const refusals: Array<[string, () => Promise<Response>, number, RegExp]> = [
      [
        'a missing mcp-signature header',
        () => postMcpayment(url, mcpaymentCallback(), null),
        401,
        /mcp-signature header is missing/,
      ],
      [
        'an empty mcp-signature header',
        () => postMcpayment(url, mcpaymentCallback(), ''),
        401,
        /mcp-signature header is missing/,
      ],
      [
        'a signature made with another hash key',
        () => {
          const b = mcpaymentCallback();
          return postMcpayment(url, b, mcpaymentSignature(b, 'NOT-OUR-KEY'));
        },
        401,
        /mcp-signature does not match the configured hash key/,
      ],
      [
        'a signature over a different order_id (body altered)',
        () => {
          const b = mcpaymentCallback();
          const s = mcpaymentSignature(b);
          return postMcpayment(url, { ...b, order_id: 'ORD-ALTERED' }, s);
        },
        401,
        /does not match/,
      ],
      [
        'a signature over a different transaction_id',
        () => {
          const b = mcpaymentCallback();
          const s = mcpaymentSignature(b);
          return postMcpayment(url, { ...b, transaction_id: 'another-transaction' }, s);
        },
        401,
        /does not match/,
      ],
      [
        'a sub-merchant signature when none is configured',
        () => {
          const b = mcpaymentCallback();
          return postMcpayment(url, b, mcpaymentSignature(b, undefined, 'SUBM-001'));
        },
        401,
        /does not match/,
      ],
      [
        'a body without order_id',
        () => {
          const b: Record<string, unknown> = mcpaymentCallback();
          const s = mcpaymentSignature(b as never);
          delete b.order_id;
          return postMcpayment(url, b, s);
        },
        400,
        /missing order_id/,
      ],
      [
        'a body without transaction_id',
        () => {
          const b: Record<string, unknown> = mcpaymentCallback();
          const s = mcpaymentSignature(b as never);
          delete b.transaction_id;
          return postMcpayment(url, b, s);
        },
        400,
        /missing transaction_id/,
      ],
      // Signed but invalid: authentic, so quarantined and acknowledged (test/transactions/quarantine.suite.ts).
      [
        'a form body instead of JSON',
        () =>
          fetch(url, {
            method: 'POST',
            headers: { 'content-type': 'application/x-www-form-urlencoded', 'mcp-signature': 'x' },
            body: 'transaction_id=1',
          }),
        415,
        /must be application\/json/,
      ],
      [
        'text/plain carrying JSON',
        () => {
          const b = mcpaymentCallback();
          return postMcpayment(url, b, mcpaymentSignature(b), { 'content-type': 'text/plain' });
        },
        415,
        /must be application\/json, got text\/plain/,
      ],
      [
        'broken JSON',
        () => postMcpayment(url, null, 'x', {}, '{"transaction_id": "a", '),
        400,
        /not valid JSON/,
      ],
      [
        'a JSON array',
        () => postMcpayment(url, [mcpaymentCallback()], 'x'),
        400,
        /must be an object of fields/,
      ],
    ];

    for (const [what, send, status, message] of refusals) {
      it(`${what} → ${status} with a clear message`, async () => {
        const res = await send();
        assert.equal(res.status, status);
        const body = (await res.json()) as { statusCode: number; message: string };
        assert.equal(body.statusCode, status);
        assert.match(body.message, message);
        assert.doesNotMatch(body.message, /[0-9a-f]{64}/, 'no expected signature in the answer');
      });
    }

    it('none of them stored an accepted callback or emitted an event', async () => {
      await sleep(600);
      assert.equal((await acceptedCallbacks(bed.db)).length, 0);
      const [row] = await bed.db.query<{ n: number | string }>('SELECT COUNT(*) AS n FROM outbox');
      assert.equal(Number(row.n), 0);
      assert.equal(bed.tap.messages.length, 0);
    });
  });

  describe('with MCPAYMENT_SUB_MERCHANT_ID configured', () => {
    let bed: TestBed;
    let url: string;
    before(async () => {
      bed = await createTestBed('postgres', { MCPAYMENT_SUB_MERCHANT_ID: 'SUBM-001' });
      url = `${bed.gateway.url}/callbacks/mcpayment`;
    });
    after(() => bed.teardown());

    it('the plain signature (without the sub-merchant id) is refused with 401, nothing stored', async () => {
      const body = mcpaymentCallback();
      const res = await postMcpayment(url, body, mcpaymentSignature(body));
      assert.equal(res.status, 401);
      assert.match(
        ((await res.json()) as { message: string }).message,
        /does not match the configured hash key and sub-merchant id/,
      );
      assert.equal((await acceptedCallbacks(bed.db)).length, 0);
    });

    it('the sub-merchant signature is accepted under the sub-merchant account', async () => {
      const body = mcpaymentCallback();
      await assertAck(
        await postMcpayment(url, body, mcpaymentSignature(body, undefined, 'SUBM-001')),
      );
      const { message, body: event } = await eventFor(bed, body.order_id);
      assert.equal(message.fields.routingKey, 'payment.succeeded.mcpayment');
      assert.equal(
        message.properties.messageId,
        eventIdFor('mcpayment', 'SUBM-001', body.transaction_id, 'succeeded'),
      );
      assert.equal(event.source, '/providers/mcpayment/SUBM-001');
      assert.equal(event.data.account, 'SUBM-001');
      assert.equal(event.data.amount, '10000.1');
      const [stored] = await acceptedCallbacks(bed.db);
      assert.equal(stored.account, 'SUBM-001');
      assert.match(
        String(stored.verification),
        /transaction_id \+ x-req-signature \+ sub_merchant_id/,
      );
      assert.equal(bed.tap.messages.length, 1, 'the refused plain signature produced nothing');
    });
  });
});
