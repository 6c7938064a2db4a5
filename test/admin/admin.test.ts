/**
 * The admin API on PostgreSQL: key check, search and pagination, one callback in full,
 * re-publishing with the same id, renormalization, the audit trail, and the recording of
 * rejected attempts.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sleep } from '../support/broker.js';
import { send, signedCallback } from '../support/callbacks.js';
import {
  acceptedCallbacks,
  createTestBed,
  startGateway,
  type TestBed,
} from '../support/gateway.js';
import { mcpaymentCallback } from '../support/mcpayment.js';
import { nicepayNotification, postForm } from '../support/nicepay.js';
import {
  ADMIN_FINGERPRINT,
  ADMIN_KEY,
  admin,
  count,
  type Json,
  waitUntil,
} from './admin-support.js';
import { publishedRaw } from '../support/published.js';

describe('admin API on postgres', () => {
  let bed: TestBed;
  const nicepay: Array<Record<string, string>> = [];
  let mcpaymentReference: string;

  before(async () => {
    bed = await createTestBed('postgres', { ADMIN_API_KEY: ADMIN_KEY });
    for (let i = 0; i < 3; i += 1) {
      const fields = nicepayNotification();
      const res = await postForm(`${bed.gateway.url}/callbacks/nicepay`, fields);
      assert.equal(res.status, 200, await res.text());
      nicepay.push(fields);
    }
    const mcpayment = signedCallback('mcpayment');
    assert.equal((await send(bed.gateway.url, mcpayment)).status, 200);
    mcpaymentReference = mcpayment.reference;
    await bed.tap.waitFor(4);
    await waitUntil(
      async () =>
        (await count(bed, 'SELECT COUNT(*) AS n FROM outbox WHERE published_at IS NULL')) === 0,
      'every event published',
    );
  });
  after(() => bed?.teardown());

  async function callbackIdOf(reference: string): Promise<string> {
    const [row] = await bed.db.query<{ id: string }>(
      'SELECT id FROM callbacks WHERE merchant_reference = $1',
      [reference],
    );
    assert.ok(row, `a callback with reference ${reference}`);
    return row.id;
  }

  describe('authentication', () => {
    it('refuses a request without a key, or with a wrong one, with 401', async () => {
      assert.equal((await admin(bed, 'GET', '/admin/callbacks', null)).status, 401);
      const wrong = await admin(bed, 'GET', '/admin/callbacks', `${ADMIN_KEY}x`);
      assert.equal(wrong.status, 401);
      assert.match(wrong.body.message, /admin key/);
      assert.equal((await admin(bed, 'POST', '/admin/events/x/republish', 'nope')).status, 401);
    });

    it('accepts the key as X-Admin-Key or as a Bearer token', async () => {
      assert.equal((await admin(bed, 'GET', '/admin/callbacks')).status, 200);
      const res = await fetch(`${bed.gateway.url}/admin/callbacks`, {
        headers: { authorization: `Bearer ${ADMIN_KEY}` },
      });
      assert.equal(res.status, 200);
    });

    it('is not there at all (404) when ADMIN_API_KEY is unset', async () => {
      const env = { ...bed.env };
      delete env.ADMIN_API_KEY;
      const off = await startGateway(env);
      try {
        for (const [method, path] of [
          ['GET', '/admin/callbacks'],
          ['GET', '/admin/callbacks/x'],
          ['POST', '/admin/events/x/republish'],
        ] as const) {
          const res = await fetch(`${off.url}${path}`, {
            method,
            headers: { 'x-admin-key': ADMIN_KEY },
          });
          assert.equal(res.status, 404, `${method} ${path}`);
        }
      } finally {
        await off.close();
      }
    });
  });

  describe('GET /admin/callbacks', () => {
    it('lists newest first with reference, transaction key, event id and published state', async () => {
      const { status, body } = await admin(bed, 'GET', '/admin/callbacks?outcome=accepted');
      assert.equal(status, 200);
      assert.equal(body.items.length, 4);
      assert.equal(body.nextCursor, null);
      const times = body.items.map((item: Json) => Date.parse(item.receivedAt));
      assert.deepEqual(
        times,
        [...times].sort((a, b) => b - a),
      );
      assert.equal(body.items[0].reference, mcpaymentReference);
      const item = body.items.find((i: Json) => i.reference === nicepay[0].referenceNo);
      assert.equal(item.provider, 'nicepay');
      assert.equal(item.account, 'IONPAYTEST');
      assert.equal(item.outcome, 'accepted');
      assert.equal(item.status, 'succeeded');
      assert.equal(item.transactionKey, nicepay[0].tXid);
      assert.match(item.eventId, /^[0-9a-f-]{36}$/);
      assert.equal(item.published, true);
      assert.equal(item.events, 1);
      assert.ok(!Number.isNaN(Date.parse(item.publishedAt)));
    });

    it('filters by provider, status, reference, provider transaction id, outcome and time range', async () => {
      const ids = async (query: string) =>
        (await admin(bed, 'GET', `/admin/callbacks?${query}`)).body.items.map(
          (i: Json) => i.reference,
        );
      assert.equal((await ids('provider=nicepay&outcome=accepted')).length, 3);
      assert.deepEqual(await ids('provider=mcpayment'), [mcpaymentReference]);
      assert.deepEqual(await ids(`reference=${nicepay[1].referenceNo}`), [nicepay[1].referenceNo]);
      assert.deepEqual(await ids(`providerTransactionId=${nicepay[2].tXid}`), [
        nicepay[2].referenceNo,
      ]);
      assert.equal((await ids('status=succeeded&outcome=accepted')).length, 4);
      assert.deepEqual(await ids('status=failed'), []);
      assert.deepEqual(await ids('outcome=rejected_address'), []);
      const future = new Date(Date.now() + 3_600_000).toISOString();
      assert.deepEqual(await ids(`from=${future}`), []);
      assert.equal((await ids(`to=${future}&outcome=accepted`)).length, 4);
      assert.deepEqual(await ids(`to=2020-01-01T00:00:00Z`), []);
    });

    it('pages with a cursor: every row once, in order', async () => {
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const query: string = `outcome=accepted&limit=3${cursor ? `&cursor=${cursor}` : ''}`;
        const { status, body } = await admin(bed, 'GET', `/admin/callbacks?${query}`);
        assert.equal(status, 200);
        assert.ok(body.items.length <= 3);
        seen.push(...body.items.map((i: Json) => i.id));
        cursor = body.nextCursor;
        pages += 1;
      } while (cursor);
      assert.equal(pages, 2);
      assert.equal(seen.length, 4);
      assert.equal(new Set(seen).size, 4);
      const all = (await admin(bed, 'GET', '/admin/callbacks?outcome=accepted')).body.items.map(
        (i: Json) => i.id,
      );
      assert.deepEqual(seen, all);
    });

    it('refuses malformed filters with 400', async () => {
      for (const query of [
        'limit=0',
        'limit=201',
        'limit=abc',
        'outcome=maybe',
        'from=yesterday',
        'cursor=zzz',
        'nope=1',
      ]) {
        const { status } = await admin(bed, 'GET', `/admin/callbacks?${query}`);
        assert.equal(status, 400, query);
      }
    });
  });

  describe('GET /admin/callbacks/:id', () => {
    it('shows the raw request, its verification and its event with the publish state', async () => {
      const fields = nicepay[0];
      const id = await callbackIdOf(fields.referenceNo);
      const { status, body } = await admin(bed, 'GET', `/admin/callbacks/${id}`);
      assert.equal(status, 200);
      assert.equal(body.id, id);
      assert.equal(body.outcome, 'accepted');
      assert.equal(body.reference, fields.referenceNo);
      assert.match(body.verification, /merchantToken matched iMid IONPAYTEST/);
      assert.equal(body.request.method, 'POST');
      assert.equal(body.request.path, '/callbacks/nicepay');
      assert.equal(body.request.bodyEncoding, 'utf8');
      assert.equal(body.request.body, new URLSearchParams(fields).toString());
      assert.equal(body.request.headers['content-type'], 'application/x-www-form-urlencoded');
      assert.equal(body.request.sourceIp, '127.0.0.1');
      assert.equal(body.events.length, 1);
      const [event] = body.events;
      assert.equal(event.eventId, body.eventId);
      assert.equal(event.routingKey, 'payment.succeeded.nicepay');
      assert.ok(event.publishedAt);
      assert.equal(typeof event.attempts, 'number');
      assert.equal(event.lastError, null);
      assert.equal(event.payload.id, body.eventId);
      assert.deepEqual(event.payload.data.raw, fields);
    });

    it('answers 404 for an unknown callback', async () => {
      assert.equal(
        (await admin(bed, 'GET', '/admin/callbacks/00000000-0000-0000-0000-000000000000')).status,
        404,
      );
    });
  });

  describe('POST /admin/events/:eventId/republish', () => {
    it('publishes the event again with the same id', async () => {
      const id = await callbackIdOf(nicepay[1].referenceNo);
      const [{ event_id: eventId }] = await bed.db.query<{ event_id: string }>(
        'SELECT event_id FROM callbacks WHERE id = $1',
        [id],
      );
      const before = bed.tap.messages.length;
      const { status, body } = await admin(bed, 'POST', `/admin/events/${eventId}/republish`);
      assert.equal(status, 202);
      assert.equal(body.eventId, eventId);
      assert.equal(body.callbackId, id);
      assert.equal(body.publishedAt, null);
      await bed.tap.waitFor(before + 1);
      assert.equal(bed.tap.messages.length, before + 1);
      const again = bed.tap.messages.at(-1)!;
      assert.equal(again.properties.messageId, eventId);
      assert.equal(bed.tap.messages.filter((m) => m.properties.messageId === eventId).length, 2);
      await waitUntil(
        async () =>
          (await count(
            bed,
            'SELECT COUNT(*) AS n FROM outbox WHERE event_id = $1 AND published_at IS NOT NULL',
            [eventId],
          )) === 1,
        'republished event marked published',
      );
    });

    it('answers 404 for an unknown event', async () => {
      const { status } = await admin(
        bed,
        'POST',
        '/admin/events/00000000-0000-0000-0000-000000000000/republish',
      );
      assert.equal(status, 404);
    });
  });

  describe('POST /admin/callbacks/:id/renormalize', () => {
    it('with the mapper unchanged: 200 changed false, no new event', async () => {
      const id = await callbackIdOf(nicepay[2].referenceNo);
      const outboxBefore = await count(bed, 'SELECT COUNT(*) AS n FROM outbox');
      const messagesBefore = bed.tap.messages.length;
      const { status, body } = await admin(bed, 'POST', `/admin/callbacks/${id}/renormalize`);
      assert.equal(status, 200, JSON.stringify(body));
      assert.equal(body.changed, false);
      assert.equal(body.eventId, null);
      assert.deepEqual(body.differences, []);
      await sleep(500);
      assert.equal(await count(bed, 'SELECT COUNT(*) AS n FROM outbox'), outboxBefore);
      assert.equal(bed.tap.messages.length, messagesBefore);
    });

    it('after a mapper fix: a new event with a new id is published, the old one stays', async () => {
      const fields = nicepay[2];
      const id = await callbackIdOf(fields.referenceNo);
      const [old] = await bed.db.query<{ event_id: string; payload: string; published_at: Date }>(
        'SELECT o.event_id, o.payload, o.published_at FROM outbox o JOIN callbacks c ON c.event_id = o.event_id WHERE c.id = $1',
        [id],
      );
      // What an older, buggy mapper would have produced: another channel and no payment method.
      const buggy = JSON.parse(old.payload);
      buggy.data.channel = 'WRONG';
      buggy.data.paymentMethod = null;
      await bed.db.query('UPDATE outbox SET payload = $1 WHERE event_id = $2', [
        JSON.stringify(buggy),
        old.event_id,
      ]);

      const before = bed.tap.messages.length;
      const { status, body } = await admin(bed, 'POST', `/admin/callbacks/${id}/renormalize`);
      assert.equal(status, 202, JSON.stringify(body));
      assert.equal(body.changed, true);
      assert.equal(body.previousEventId, old.event_id);
      assert.notEqual(body.eventId, old.event_id);
      assert.deepEqual(body.differences, ['data.channel', 'data.paymentMethod']);
      assert.equal(body.routingKey, 'payment.succeeded.nicepay');

      await bed.tap.waitFor(before + 1);
      assert.equal(bed.tap.messages.length, before + 1);
      const message = bed.tap.messages.at(-1)!;
      assert.equal(message.properties.messageId, body.eventId);
      const event = JSON.parse(message.content.toString('utf8'));
      assert.equal(event.id, body.eventId);
      assert.equal(event.data.channel, 'BMRI');
      assert.equal(event.data.paymentMethod, 'virtual_account');
      assert.equal(event.data.callbackId, id);
      assert.equal(event.data.receivedAt, buggy.data.receivedAt);
      assert.deepEqual(event.data.raw, publishedRaw(fields, event.data));

      // The old row is kept as it was; the callback now has both events.
      const rows = await bed.db.query<{
        event_id: string;
        payload: string;
        published_at: Date | null;
      }>(
        'SELECT event_id, payload, published_at FROM outbox WHERE callback_id = $1 ORDER BY created_at',
        [id],
      );
      assert.deepEqual(
        rows.map((r) => r.event_id),
        [old.event_id, body.eventId],
      );
      assert.equal(JSON.parse(rows[0].payload).data.channel, 'WRONG');
      assert.ok(rows[0].published_at);
      const shown = await admin(bed, 'GET', `/admin/callbacks/${id}`);
      assert.deepEqual(
        shown.body.events.map((e: Json) => e.eventId),
        [old.event_id, body.eventId],
      );

      // Same mapper again: nothing new (compared with the latest event).
      const again = await admin(bed, 'POST', `/admin/callbacks/${id}/renormalize`);
      assert.equal(again.status, 200);
      assert.equal(again.body.changed, false);
      assert.equal(again.body.previousEventId, body.eventId);
    });

    it('answers 404 for an unknown callback and 409 for a rejected attempt', async () => {
      assert.equal(
        (
          await admin(
            bed,
            'POST',
            '/admin/callbacks/00000000-0000-0000-0000-000000000000/renormalize',
          )
        ).status,
        404,
      );
      const forged = nicepayNotification({ merchantToken: 'f'.repeat(64) });
      assert.equal((await postForm(`${bed.gateway.url}/callbacks/nicepay`, forged)).status, 401);
      let rejectedId = '';
      await waitUntil(async () => {
        const [row] = await bed.db.query<{ id: string }>(
          `SELECT id FROM callbacks WHERE outcome = 'rejected_auth' AND raw_body LIKE $1`,
          [`%${forged.tXid}%`],
        );
        rejectedId = row?.id ?? '';
        return rejectedId !== '';
      }, 'the rejected attempt recorded');
      const { status, body } = await admin(
        bed,
        'POST',
        `/admin/callbacks/${rejectedId}/renormalize`,
      );
      assert.equal(status, 409);
      assert.match(body.message, /not accepted/);
    });
  });

  describe('rejected attempts', () => {
    it('a forged callback leaves a rejected row (raw body, headers, reason) and no outbox row', async () => {
      const acceptedBefore = (await acceptedCallbacks(bed.db)).length;
      const outboxBefore = await count(bed, 'SELECT COUNT(*) AS n FROM outbox');
      const forged = nicepayNotification({ merchantToken: 'a'.repeat(64) });
      const res = await postForm(`${bed.gateway.url}/callbacks/nicepay`, forged, {
        'x-request-id': 'forged-1',
      });
      assert.equal(res.status, 401);
      let rows: Array<Record<string, Json>> = [];
      await waitUntil(async () => {
        rows = await bed.db.query(`SELECT * FROM callbacks WHERE raw_body LIKE $1`, [
          `%${forged.tXid}%`,
        ]);
        return rows.length > 0;
      }, 'the rejected row');
      assert.equal(rows.length, 1);
      const [row] = rows;
      assert.equal(row.outcome, 'rejected_auth');
      assert.equal(row.provider, 'nicepay');
      assert.equal(row.account, null);
      assert.equal(row.transaction_key, null);
      assert.equal(row.status, null);
      assert.equal(row.event_id, null);
      assert.equal(row.path, '/callbacks/nicepay');
      assert.equal(row.source_ip, '127.0.0.1');
      assert.equal(row.raw_body, new URLSearchParams(forged).toString());
      assert.equal(row.raw_body_encoding, 'utf8');
      assert.match(row.verification, /^HTTP 401: NICEPAY merchantToken does not match/);
      assert.equal(JSON.parse(row.headers)['x-request-id'], 'forged-1');
      assert.equal(
        await count(bed, 'SELECT COUNT(*) AS n FROM outbox WHERE callback_id = $1', [row.id]),
        0,
      );
      assert.equal(await count(bed, 'SELECT COUNT(*) AS n FROM outbox'), outboxBefore);
      assert.equal((await acceptedCallbacks(bed.db)).length, acceptedBefore);
    });

    it('records 415 and malformed (400) attempts as invalid, keeps only the first 1 KiB of their bodies, and lists them', async () => {
      const wrongType = await fetch(`${bed.gateway.url}/callbacks/nicepay`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ marker: 'marker-415' }),
      });
      assert.equal(wrongType.status, 415);
      const shortTxid = nicepayNotification({ tXid: 'SHORT-400-MARKER' });
      assert.equal((await postForm(`${bed.gateway.url}/callbacks/nicepay`, shortTxid)).status, 400);
      // MCPayment accepts bodies up to 64 KB, so a 20 KB forgery reaches authentication.
      const big = mcpaymentCallback({ padding: 'x'.repeat(20_000) });
      const forgedBig = await fetch(`${bed.gateway.url}/callbacks/mcpayment`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'mcp-signature': 'b'.repeat(64) },
        body: JSON.stringify(big),
      });
      assert.equal(forgedBig.status, 401);
      const find = async (marker: string) =>
        (
          await bed.db.query<Record<string, Json>>(
            `SELECT * FROM callbacks WHERE raw_body LIKE $1`,
            [`%${marker}%`],
          )
        )[0];
      await waitUntil(
        async () =>
          Boolean(
            (await find('marker-415')) &&
            (await find('SHORT-400-MARKER')) &&
            (await find(big.order_id)),
          ),
        'all three recorded',
      );
      const unsupported = await find('marker-415');
      assert.equal(unsupported.outcome, 'invalid');
      assert.match(
        unsupported.verification,
        /^HTTP 415: NICEPAY callbacks must be application\/x-www-form-urlencoded/,
      );
      const malformed = await find('SHORT-400-MARKER');
      assert.equal(malformed.outcome, 'invalid');
      assert.match(malformed.verification, /^HTTP 400: NICEPAY tXid must be 30/);
      const cut = await find(big.order_id);
      assert.equal(cut.outcome, 'rejected_auth');
      assert.equal(cut.raw_body.length, 1024, 'REJECTED_BODY_BYTES (default 1024) of the body');

      const listed = await admin(bed, 'GET', '/admin/callbacks?outcome=invalid&provider=nicepay');
      assert.ok(listed.body.items.length >= 1);
      assert.equal(listed.body.items[0].eventId, null);
      assert.equal(listed.body.items[0].published, null);
    });
  });

  describe('audit', () => {
    it('writes a row for every admin request, reads included, with key fingerprint and outcome', async () => {
      const before = await count(bed, 'SELECT COUNT(*) AS n FROM admin_audit');
      const id = await callbackIdOf(nicepay[0].referenceNo);
      const [{ event_id: eventId }] = await bed.db.query<{ event_id: string }>(
        'SELECT event_id FROM callbacks WHERE id = $1',
        [id],
      );
      await fetch(`${bed.gateway.url}/admin/callbacks?provider=nicepay&limit=1`, {
        headers: { 'x-admin-key': ADMIN_KEY, 'x-request-id': 'audit-list-1' },
      });
      await admin(bed, 'GET', `/admin/callbacks/${id}`);
      await admin(bed, 'POST', `/admin/events/${eventId}/republish`);
      await admin(bed, 'POST', `/admin/callbacks/${id}/renormalize`);
      await admin(bed, 'GET', '/admin/callbacks/00000000-0000-0000-0000-000000000000');
      await admin(bed, 'GET', '/admin/callbacks', 'wrong-key');

      type Audit = {
        action: string;
        target: string | null;
        key_fingerprint: string;
        request_id: string;
        details: string;
      };
      let rows: Audit[] = [];
      await waitUntil(async () => {
        rows = await bed.db.query<Audit>(
          'SELECT action, target, key_fingerprint, request_id, details FROM admin_audit ORDER BY at OFFSET $1',
          [before],
        );
        return rows.length === 5 && rows.every((r) => 'status' in JSON.parse(r.details));
      }, 'five completed audit rows');
      assert.deepEqual(
        rows.map((r) => [r.action, r.target, JSON.parse(r.details).status]),
        [
          ['callbacks.list', null, 200],
          ['callbacks.show', id, 200],
          ['events.republish', eventId, 202],
          ['callbacks.renormalize', id, 200],
          ['callbacks.show', '00000000-0000-0000-0000-000000000000', 404],
        ],
      );
      for (const row of rows) assert.equal(row.key_fingerprint, ADMIN_FINGERPRINT);
      assert.equal(rows[0].request_id, 'audit-list-1');
      const list = JSON.parse(rows[0].details);
      assert.deepEqual(list.query, { provider: 'nicepay', limit: '1' });
      assert.equal(list.method, 'GET');
      assert.equal(list.result.items, 1);
      assert.match(JSON.parse(rows[4].details).error, /No callback/);
      assert.ok(!rows.some((r) => r.details.includes(ADMIN_KEY)), 'the key itself is never stored');
    });
  });
});
