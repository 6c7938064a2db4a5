import { uuidV7Time } from '../src/common/uuid-v7.js';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eventIdFor } from '../src/events/transaction-event.js';
import { AMQP_URL, deleteTopology, drainQueue, EventTap, sleep } from './support/broker.js';
import { NICEPAY } from './support/credentials.js';
import { createTestDatabase, type DatabaseKind } from './support/databases.js';
import { acceptedCallbacks, createTestBed, startGateway, type TestBed } from './support/gateway.js';
import { nicepayNotification, nicepayToken, postForm } from './support/nicepay.js';
import { TcpProxy } from './support/tcp-proxy.js';
import { assertClockVersion } from './support/versions.js';
import { publishedRaw } from './support/published.js';

async function unpublished(bed: TestBed): Promise<number> {
  const [row] = await bed.db.query<{ n: number | string }>(
    'SELECT COUNT(*) AS n FROM outbox WHERE published_at IS NULL',
  );
  return Number(row.n);
}

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

/** The store-before-ack pipeline, end to end through HTTP, the database and RabbitMQ. */
export function pipelineSuite(kind: DatabaseKind): void {
  describe(`pipeline on ${kind}`, () => {
    describe('a NICEPAY deposit notification', () => {
      let bed: TestBed;
      before(async () => (bed = await createTestBed(kind)));
      after(() => bed.teardown());

      it('with a valid token becomes exactly one payment.succeeded.nicepay event shaped as EVENTS.md says', async () => {
        const fields = nicepayNotification({ amt: '150000' });
        const res = await postForm(`${bed.gateway.url}/callbacks/nicepay`, fields);
        assert.equal(res.status, 200);
        // The ack exactly as Express's res.type('application/json').send(body) wrote it.
        assert.equal(res.headers.get('content-type'), 'application/json; charset=utf-8');
        const ack = await res.text();
        assert.equal(ack, '{"resultCd":"200","resultMsg":"success"}');
        assert.equal(res.headers.get('content-length'), String(Buffer.byteLength(ack)));
        assert.match(res.headers.get('x-request-id') ?? '', /^[\w.:-]+$/);
        assert.equal(res.headers.get('etag'), null);

        const [message] = await bed.tap.waitFor(1);
        assert.equal(bed.tap.messages.length, 1);
        const expectedId = eventIdFor('nicepay', 'IONPAYTEST', fields.tXid, 'succeeded');
        assert.equal(message.fields.routingKey, 'payment.succeeded.nicepay');
        assert.equal(message.properties.messageId, expectedId);
        assert.equal(message.properties.type, 'payment.succeeded');
        assert.equal(message.properties.contentType, 'application/cloudevents+json');
        assert.equal(message.properties.deliveryMode, 2);
        assert.equal(message.properties.appId, 'payment-callback-gateway');
        assert.equal(typeof message.properties.timestamp, 'number');
        assert.deepEqual(message.properties.headers, {
          provider: 'nicepay',
          'schema-version': '1',
        });

        const body = JSON.parse(message.content.toString('utf8'));
        assert.equal(body.specversion, '1.0');
        assert.equal(body.id, expectedId);
        assert.equal(body.source, '/providers/nicepay/IONPAYTEST');
        assert.equal(body.type, 'payment.succeeded');
        assert.equal(body.subject, fields.referenceNo);
        assert.equal(body.datacontenttype, 'application/json');
        assert.equal(body.time, '2025-11-21T05:05:12.000Z', 'deposit time 12:05:12 Jakarta');
        const [stored] = await acceptedCallbacks(bed.db);
        assert.deepEqual(body.data, {
          provider: 'nicepay',
          account: 'IONPAYTEST',
          status: 'succeeded',
          providerStatus: '0',
          providerTransactionId: fields.tXid,
          merchantReference: fields.referenceNo,
          amount: '150000',
          currency: 'IDR',
          fee: null,
          paymentMethod: 'virtual_account',
          channel: 'BMRI',
          product: null,
          occurredAt: '2025-11-21T05:05:12.000Z',
          receivedAt: body.data.receivedAt,
          callbackId: stored.id,
          transactionKey: fields.tXid,
          verification: { method: 'signature', at: body.data.receivedAt },
          previousStatus: null,
          transactionVersion: assertClockVersion(
            body.data.transactionVersion,
            body.data.receivedAt,
          ),
          raw: publishedRaw(fields, body.data),
        });
        assert.ok(!Number.isNaN(Date.parse(body.data.receivedAt)));
        // Time-ordered (UUID v7) callback ids: new rows land on an index's newest pages.
        assert.match(
          String(stored.id),
          /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
        );
        assert.ok(
          Math.abs(uuidV7Time(String(stored.id)) - Date.parse(body.data.receivedAt)) < 1000,
        );
      });

      it('stores the raw callback with its verification before acknowledging', async () => {
        const fields = nicepayNotification({ referenceNo: 'ORD-STORED-1' });
        const raw = new URLSearchParams(fields).toString();
        const res = await postForm(`${bed.gateway.url}/callbacks/nicepay`, fields);
        assert.equal(res.status, 200);
        // The ack came after the commit: the row is there the moment the response is.
        const rows = await bed.db.query<Record<string, string>>(
          `SELECT * FROM callbacks WHERE transaction_key = $1`,
          [fields.tXid],
        );
        assert.equal(rows.length, 1);
        assert.equal(rows[0].provider, 'nicepay');
        assert.equal(rows[0].account, 'IONPAYTEST');
        assert.equal(rows[0].status, 'succeeded');
        assert.equal(rows[0].source_ip, '127.0.0.1');
        assert.equal(rows[0].raw_body, raw);
        assert.equal(rows[0].path, '/callbacks/nicepay');
        assert.match(rows[0].verification, /merchantToken matched iMid IONPAYTEST/);
        assert.equal(JSON.parse(rows[0].headers)['user-agent'], 'Jakarta Commons-HttpClient/3.1');
      });

      it('sent 5 times, 3 of them concurrently on separate connections, gives one event', async () => {
        const fields = nicepayNotification({ referenceNo: 'ORD-DUP-1' });
        const before = bed.tap.messages.length;
        const concurrent = await Promise.all(
          [1, 2, 3].map(() =>
            postForm(`${bed.gateway.url}/callbacks/nicepay`, fields, { connection: 'close' }),
          ),
        );
        const sequential = [];
        for (let i = 0; i < 2; i += 1)
          sequential.push(await postForm(`${bed.gateway.url}/callbacks/nicepay`, fields));
        for (const res of [...concurrent, ...sequential]) {
          assert.equal(res.status, 200);
          assert.equal(
            await res.text(),
            '{"resultCd":"200","resultMsg":"success"}',
            'a duplicate is answered like the original',
          );
        }
        await bed.tap.waitFor(before + 1, 10_000, 800);
        const forThis = bed.tap
          .bodies()
          .filter((b) => b.data.providerTransactionId === fields.tXid);
        assert.equal(forThis.length, 1);
        const rows = await bed.db.query(`SELECT id FROM callbacks WHERE transaction_key = $1`, [
          fields.tXid,
        ]);
        assert.equal(rows.length, 1);
      });

      it('followed by its reversal gives a second, payment.reversed event for the same transaction', async () => {
        const deposit = nicepayNotification({ referenceNo: 'ORD-REV-1' });
        const reversal = nicepayNotification({
          tXid: deposit.tXid,
          referenceNo: 'ORD-REV-1',
          status: '1',
        });
        assert.equal((await postForm(`${bed.gateway.url}/callbacks/nicepay`, deposit)).status, 200);
        assert.equal(
          (await postForm(`${bed.gateway.url}/callbacks/nicepay`, reversal)).status,
          200,
        );
        await waitUntil(
          () =>
            bed.tap.bodies().filter((b) => b.data.providerTransactionId === deposit.tXid).length ===
            2,
          'two events for the transaction',
        );
        const types = bed.tap.messages
          .filter(
            (m) => JSON.parse(m.content.toString()).data.providerTransactionId === deposit.tXid,
          )
          .map((m) => m.fields.routingKey)
          .sort();
        assert.deepEqual(types, ['payment.reversed.nicepay', 'payment.succeeded.nicepay']);
      });

      it('for a second configured iMid with its own key is accepted under that account', async () => {
        const fields = nicepayNotification({ referenceNo: 'ORD-BMRI-1' }, NICEPAY.merchants[1]);
        assert.equal((await postForm(`${bed.gateway.url}/callbacks/nicepay`, fields)).status, 200);
        await waitUntil(
          () => bed.tap.bodies().some((b) => b.subject === 'ORD-BMRI-1'),
          'the event',
        );
        const body = bed.tap.bodies().find((b) => b.subject === 'ORD-BMRI-1')!;
        assert.equal(body.data.account, 'BMRIVATEST');
        assert.equal(body.source, '/providers/nicepay/BMRIVATEST');
      });
    });

    describe('refused NICEPAY requests', () => {
      let direct: TestBed;
      let proxied: TestBed;
      const nicepayOnly = { NICEPAY_ALLOWED_IPS: '103.20.51.33,103.20.51.34', BODY_LIMIT: '8kb' };
      before(async () => {
        direct = await createTestBed(kind, nicepayOnly);
        proxied = await createTestBed(kind, { ...nicepayOnly, TRUSTED_PROXIES: '127.0.0.1' });
      });
      after(async () => {
        await direct.teardown();
        await proxied.teardown();
      });

      const refusals: Array<[string, () => Promise<Response>, number, RegExp]> = [
        [
          'an address not on the allowlist',
          () => postForm(`${direct.gateway.url}/callbacks/nicepay`, nicepayNotification()),
          403,
          /127\.0\.0\.1 is not allowed/,
        ],
        [
          'X-Forwarded-For from an untrusted peer (not believed)',
          () =>
            postForm(`${direct.gateway.url}/callbacks/nicepay`, nicepayNotification(), {
              'x-forwarded-for': '103.20.51.33',
            }),
          403,
          /127\.0\.0\.1 is not allowed/,
        ],
        [
          'a trusted proxy forwarding for a foreign address',
          () =>
            postForm(`${proxied.gateway.url}/callbacks/nicepay`, nicepayNotification(), {
              'x-forwarded-for': '203.0.113.9',
            }),
          403,
          /203\.0\.113\.9 is not allowed/,
        ],
        [
          'a wrong merchantToken',
          () =>
            postForm(
              `${proxied.gateway.url}/callbacks/nicepay`,
              nicepayNotification({ merchantToken: nicepayToken('IONPAYTEST', 'X', '1', 'wrong') }),
              { 'x-forwarded-for': '103.20.51.33' },
            ),
          401,
          /merchantToken does not match/,
        ],
        [
          'a token signed with another merchant key',
          () =>
            postForm(
              `${proxied.gateway.url}/callbacks/nicepay`,
              nicepayNotification({}, { iMid: 'IONPAYTEST', merchantKey: 'not-our-key' }),
              { 'x-forwarded-for': '103.20.51.33' },
            ),
          401,
          /merchantToken does not match/,
        ],
        [
          'a missing merchantToken',
          () => {
            const f = nicepayNotification();
            delete (f as Record<string, string>).merchantToken;
            return postForm(`${proxied.gateway.url}/callbacks/nicepay`, f, {
              'x-forwarded-for': '103.20.51.33',
            });
          },
          401,
          /merchantToken is missing/,
        ],
        // Signed callbacks that fail validation are authentic: quarantined and acknowledged
        // (test/transactions/quarantine.suite.ts), not refused.
        [
          'JSON instead of a form',
          () =>
            fetch(`${proxied.gateway.url}/callbacks/nicepay`, {
              method: 'POST',
              headers: { 'content-type': 'application/json', 'x-forwarded-for': '103.20.51.33' },
              body: JSON.stringify(nicepayNotification()),
            }),
          415,
          /must be application\/x-www-form-urlencoded/,
        ],
        [
          'digits moved from tXid to amt under the genuine token',
          () => {
            const f = nicepayNotification();
            return postForm(
              `${proxied.gateway.url}/callbacks/nicepay`,
              { ...f, tXid: f.tXid.slice(0, -1), amt: f.tXid.slice(-1) + f.amt },
              { 'x-forwarded-for': '103.20.51.33' },
            );
          },
          400,
          /tXid must be 30 letters or digits/,
        ],
        [
          'a body over the limit',
          () =>
            postForm(
              `${proxied.gateway.url}/callbacks/nicepay`,
              nicepayNotification({ goodsNm: 'x'.repeat(9000) }),
              { 'x-forwarded-for': '103.20.51.33' },
            ),
          413,
          /exceeds the 8kb limit/,
        ],
      ];

      for (const [what, send, status, message] of refusals) {
        it(`${what} → ${status} with a clear message`, async () => {
          const res = await send();
          assert.equal(res.status, status);
          const body = (await res.json()) as {
            statusCode: number;
            message: string;
            requestId: string;
          };
          assert.equal(body.statusCode, status);
          assert.match(body.message, message);
          assert.match(body.requestId, /^[\w.:-]+$/, 'every error names its request');
          assert.equal(res.headers.get('x-request-id'), body.requestId);
        });
      }

      it('none of them stored an accepted callback or emitted an event, and the gateway stays ready', async () => {
        await sleep(500);
        assert.equal((await acceptedCallbacks(direct.db)).length, 0);
        assert.equal((await acceptedCallbacks(proxied.db)).length, 0);
        assert.equal(direct.tap.messages.length + proxied.tap.messages.length, 0);
        for (const bed of [direct, proxied]) {
          assert.equal((await fetch(`${bed.gateway.url}/health/ready`)).status, 200);
        }
      });

      it("a trusted proxy forwarding for NICEPAY's address is believed", async () => {
        const fields = nicepayNotification();
        const res = await postForm(`${proxied.gateway.url}/callbacks/nicepay`, fields, {
          'x-forwarded-for': '103.20.51.33',
        });
        assert.equal(res.status, 200);
        await proxied.tap.waitFor(1);
        const [row] = await acceptedCallbacks(proxied.db);
        assert.equal(row.source_ip, '103.20.51.33');
      });
    });

    describe('an event no queue is bound to', () => {
      let bed: TestBed;
      before(async () => (bed = await createTestBed(kind, {}, 'nothing.binds.this')));
      after(() => bed.teardown());

      it('is kept in the <exchange>.unrouted queue', async () => {
        const fields = nicepayNotification();
        assert.equal((await postForm(`${bed.gateway.url}/callbacks/nicepay`, fields)).status, 200);
        await waitUntil(async () => (await unpublished(bed)) === 0, 'the publish confirm');
        const held = await drainQueue(`${bed.exchange}.unrouted`);
        assert.equal(held.length, 1);
        assert.equal(held[0].fields.routingKey, 'payment.succeeded.nicepay');
        assert.equal(
          held[0].properties.messageId,
          eventIdFor('nicepay', 'IONPAYTEST', fields.tXid, 'succeeded'),
        );
      });
    });

    describe('when RabbitMQ is unreachable', () => {
      let bed: TestBed;
      const proxy = new TcpProxy('127.0.0.1', Number(new URL(AMQP_URL).port || 5672));
      before(async () => {
        const port = await proxy.start();
        const url = new URL(AMQP_URL);
        url.port = String(port);
        bed = await createTestBed(kind, { AMQP_URL: url.toString() });
      });
      after(async () => {
        await proxy.restore().catch(() => undefined);
        await bed.teardown();
        await proxy.cut();
      });

      it('callbacks still get 200 and are stored; once it is back every one is published, once', async () => {
        await proxy.cut();
        // Still ready (200): the broker's state is in the body, never a reason for 503.
        await waitUntil(async () => {
          const res = await fetch(`${bed.gateway.url}/health/ready`);
          const body = (await res.json()) as { info?: { broker?: { connected?: boolean } } };
          assert.equal(res.status, 200, 'a broker outage never makes the gateway unready');
          return body.info?.broker?.connected === false;
        }, 'readiness to report the broker down');
        const notifications = Array.from({ length: 12 }, (_, i) =>
          nicepayNotification({ referenceNo: `ORD-OUTAGE-${i}` }),
        );
        for (const fields of notifications) {
          assert.equal(
            (await postForm(`${bed.gateway.url}/callbacks/nicepay`, fields)).status,
            200,
          );
        }
        assert.equal((await acceptedCallbacks(bed.db)).length, 12);
        assert.equal(await unpublished(bed), 12);
        assert.equal(bed.tap.messages.length, 0);

        await proxy.restore();
        await bed.tap.waitFor(12, 20_000, 1500);
        const ids = bed.tap.messages.map((m) => m.properties.messageId);
        assert.equal(ids.length, 12, 'each event published once');
        assert.equal(new Set(ids).size, 12);
        await waitUntil(
          async () => (await unpublished(bed)) === 0,
          'the outbox to be marked published',
        );
      });
    });

    describe('a gateway stopped between commit and publish', () => {
      it('has what was pending published by the relay after restart, including rows a dead instance had leased', async () => {
        const db = await createTestDatabase(kind);
        const exchange = `test.events.restart.${Date.now()}`;
        // First life: the broker address leads nowhere, so commits happen but publishes cannot.
        const first = await startGateway({
          ...db.env,
          EVENTS_EXCHANGE: exchange,
          AMQP_URL: 'amqp://guest:guest@127.0.0.1:1',
        });
        const notifications = Array.from({ length: 6 }, (_, i) =>
          nicepayNotification({ referenceNo: `ORD-RESTART-${i}` }),
        );
        for (const fields of notifications) {
          assert.equal((await postForm(`${first.url}/callbacks/nicepay`, fields)).status, 200);
        }
        await first.close();
        // As if a crashed instance had claimed half of them just before dying.
        const leaseUntil = new Date(Date.now() + 1500).toISOString();
        await db.query(
          `UPDATE outbox SET lease_owner = 'crashed-instance', lease_until = $1 WHERE event_id IN (SELECT event_id FROM outbox ORDER BY created_at LIMIT 3)`,
          [leaseUntil],
        );
        const tap = await EventTap.bind(exchange);
        const second = await startGateway({ ...db.env, EVENTS_EXCHANGE: exchange });
        try {
          // Unleased rows are swept at once; the leased ones once their lease has run out.
          await tap.waitFor(6, 15_000, 1000);
          assert.deepEqual(
            tap
              .bodies()
              .map((b) => b.subject)
              .sort(),
            notifications.map((n) => n.referenceNo).sort(),
          );
          assert.equal(new Set(tap.messages.map((m) => m.properties.messageId)).size, 6);
        } finally {
          await tap.close();
          await second.close();
          await deleteTopology(exchange).catch(() => undefined);
          await db.drop();
        }
      });
    });
  });
}
