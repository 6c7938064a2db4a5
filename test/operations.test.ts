import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { deleteTopology, EventTap, sleep, uniqueExchange } from './support/broker.js';
import { createTestDatabase, type TestDatabase } from './support/databases.js';
import { createTestBed, startGateway, type TestBed } from './support/gateway.js';
import { spawnGateway } from './support/gateway-process.js';
import { metricValue } from './support/metrics.js';
import { nicepayNotification, postForm } from './support/nicepay.js';

describe('operating the gateway', () => {
  describe('metrics and rate limiting', () => {
    let bed: TestBed;
    const nicepay = (fields: Record<string, string>, from: string) =>
      postForm(`${bed.gateway.url}/callbacks/nicepay`, fields, { 'x-forwarded-for': from });

    before(async () => {
      bed = await createTestBed('postgres', {
        NICEPAY_ALLOWED_IPS: '103.20.51.33',
        TRUSTED_PROXIES: '127.0.0.1',
        AUTH_FAILURE_LIMIT: '3',
        BODY_LIMIT: '4kb',
      });
    });
    after(() => bed.teardown());

    it('/metrics counts callbacks by provider and outcome, ack latency, backlog and broker state', async () => {
      const genuine = nicepayNotification();
      assert.equal((await nicepay(genuine, '103.20.51.33')).status, 200);
      assert.equal((await nicepay(genuine, '103.20.51.33')).status, 200);
      assert.equal(
        (await nicepay(nicepayNotification({ merchantToken: 'f'.repeat(64) }), '103.20.51.33'))
          .status,
        401,
      );
      // Signed but invalid: authentic, so stored quarantined and acknowledged.
      assert.equal((await nicepay(nicepayNotification({ amt: 'x' }), '103.20.51.33')).status, 200);
      assert.equal(
        (
          await fetch(`${bed.gateway.url}/callbacks/nicepay`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'x-forwarded-for': '103.20.51.33' },
            body: JSON.stringify(nicepayNotification()),
          })
        ).status,
        415,
      );
      assert.equal((await nicepay(nicepayNotification(), '198.51.100.20')).status, 403);
      assert.equal(
        (await nicepay(nicepayNotification({ goodsNm: 'y'.repeat(5000) }), '103.20.51.33')).status,
        413,
      );
      await bed.tap.waitFor(1);

      const res = await fetch(`${bed.gateway.url}/metrics`);
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
      const text = await res.text();
      const count = (outcome: string, provider = 'nicepay') =>
        metricValue(text, 'gateway_callbacks_total', { provider, outcome });
      assert.equal(count('accepted'), 1);
      assert.equal(count('duplicate'), 1);
      assert.equal(count('rejected-auth'), 1);
      assert.equal(count('invalid'), 1);
      assert.equal(count('quarantined'), 1);
      assert.equal(count('rejected-address'), 1);
      assert.equal(count('invalid', 'unknown'), 1, 'the oversized body never reached the provider');
      assert.equal(
        metricValue(text, 'gateway_callback_ack_duration_seconds_count', {
          provider: 'nicepay',
          outcome: 'accepted',
        }),
        1,
      );
      assert.equal(metricValue(text, 'gateway_events_published_total', { provider: 'nicepay' }), 1);
      assert.equal(metricValue(text, 'gateway_outbox_backlog'), 0);
      assert.equal(metricValue(text, 'gateway_outbox_oldest_unpublished_age_seconds'), 0);
      assert.equal(metricValue(text, 'gateway_broker_connected'), 1);
      assert.ok(metricValue(text, 'gateway_process_resident_memory_bytes') > 0);
    });

    it('refuses an address with 429 after repeated authentication failures', async () => {
      const attacker = '198.51.100.66';
      for (let i = 0; i < 3; i += 1)
        assert.equal((await nicepay(nicepayNotification(), attacker)).status, 403);
      const limited = await nicepay(nicepayNotification(), attacker);
      assert.equal(limited.status, 429);
      assert.ok(Number(limited.headers.get('retry-after')) > 0);
      assert.match(
        ((await limited.json()) as { message: string }).message,
        /Too many refused requests from 198\.51\.100\.66/,
      );
    });

    it('never limits genuine provider traffic from an allowed address, even after failures from it', async () => {
      for (let i = 0; i < 6; i += 1) {
        assert.equal(
          (await nicepay(nicepayNotification({ merchantToken: 'e'.repeat(64) }), '103.20.51.33'))
            .status,
          401,
        );
      }
      const genuine = nicepayNotification({ referenceNo: 'ORD-AFTER-FAILURES' });
      assert.equal((await nicepay(genuine, '103.20.51.33')).status, 200);
    });
  });

  describe('body limits per provider', () => {
    it('each provider route refuses bodies over its own limit, capped by BODY_LIMIT', async () => {
      const db = await createTestDatabase('sqlite');
      const exchange = uniqueExchange();
      const gateway = await startGateway({ ...db.env, EVENTS_EXCHANGE: exchange });
      const post = (path: string, type: string, body: string) =>
        fetch(`${gateway.url}${path}`, { method: 'POST', headers: { 'content-type': type }, body });
      const json20k = JSON.stringify({ key: 'x', padding: 'p'.repeat(20_000) });
      try {
        // Default BODY_LIMIT is 64kb; NICEPAY and S88Pay send small bodies and declare 16kb.
        const nicepay = await post(
          '/callbacks/nicepay',
          'application/x-www-form-urlencoded',
          `a=${'x'.repeat(20_000)}`,
        );
        assert.equal(nicepay.status, 413);
        assert.match(
          ((await nicepay.json()) as { message: string }).message,
          /exceeds the 16kb limit/,
        );
        const s88pay = await post('/callbacks/s88pay', 'application/json', json20k);
        assert.equal(s88pay.status, 413);
        // MCPayment bodies carry item lists and histories: 64kb, so 20 KB reaches authentication.
        const mcpayment = await post('/callbacks/mcpayment', 'application/json', json20k);
        assert.equal(mcpayment.status, 401);
      } finally {
        await gateway.close();
        await deleteTopology(exchange).catch(() => undefined);
        await db.drop();
      }
    });
  });

  describe('documentation routes', () => {
    it('serve Swagger UI with security headers, and can be switched off', async () => {
      const db = await createTestDatabase('sqlite');
      const exchange = uniqueExchange();
      const on = await startGateway({ ...db.env, EVENTS_EXCHANGE: exchange });
      const off = await startGateway({
        ...db.env,
        EVENTS_EXCHANGE: exchange,
        DOCS_ENABLED: 'false',
      });
      try {
        const page = await fetch(`${on.url}/docs`);
        assert.equal(page.status, 200);
        assert.match(await page.text(), /swagger-ui/);
        const csp = page.headers.get('content-security-policy') ?? '';
        assert.match(csp, /default-src 'self'/);
        assert.match(csp, /frame-ancestors 'none'/);
        assert.equal(page.headers.get('x-content-type-options'), 'nosniff');
        const json = await fetch(`${on.url}/docs-json`);
        assert.equal(json.status, 200);
        assert.ok(json.headers.get('content-security-policy'));
        const doc = (await json.json()) as { paths: Record<string, unknown> };
        assert.ok(doc.paths['/callbacks/nicepay']);
        assert.equal((await fetch(`${off.url}/docs`)).status, 404);
        assert.equal((await fetch(`${off.url}/docs-json`)).status, 404);
      } finally {
        await on.close();
        await off.close();
        await deleteTopology(exchange).catch(() => undefined);
        await db.drop();
      }
    });
  });

  describe('graceful shutdown', () => {
    let db: TestDatabase;
    const exchange = uniqueExchange();
    before(async () => (db = await createTestDatabase('postgres')));
    after(async () => {
      await deleteTopology(exchange).catch(() => undefined);
      await db.drop();
    });

    it('on SIGTERM during a stream of callbacks, every acknowledged one is published and the process exits 0', async () => {
      const tap = await EventTap.bind(exchange);
      const gateway = await spawnGateway({
        ...db.env,
        EVENTS_EXCHANGE: exchange,
        SHUTDOWN_TIMEOUT_MS: '10000',
      });
      const acknowledged = new Set<string>();
      let refused = 0;
      let stop = false;
      const sender = async () => {
        while (!stop) {
          const fields = nicepayNotification();
          try {
            const res = await postForm(`${gateway.url}/callbacks/nicepay`, fields);
            if (res.status === 200) acknowledged.add(fields.tXid);
            await res.arrayBuffer();
          } catch {
            refused += 1;
            if (gateway.child.exitCode !== null) return;
            await sleep(5);
          }
        }
      };
      const senders = Array.from({ length: 6 }, sender);
      await sleep(700);
      const beforeSignal = acknowledged.size;
      gateway.child.kill('SIGTERM');
      const code = await gateway.exited;
      stop = true;
      await Promise.all(senders);
      try {
        assert.equal(code, 0, gateway.output());
        assert.ok(
          beforeSignal > 20,
          `a real stream was running (${beforeSignal} acknowledged before SIGTERM)`,
        );
        assert.ok(refused > 0, 'requests after the signal were refused');
        await sleep(500);
        const published = new Set(tap.bodies().map((b) => b.data.providerTransactionId as string));
        const lost = [...acknowledged].filter((tXid) => !published.has(tXid));
        assert.deepEqual(
          lost,
          [],
          `${lost.length} of ${acknowledged.size} acknowledged callbacks were not published`,
        );
        const [{ n }] = await db.query<{ n: string }>(
          'SELECT COUNT(*) AS n FROM outbox WHERE published_at IS NULL',
        );
        assert.equal(Number(n), 0, 'nothing left unpublished in the outbox');
        assert.match(gateway.output(), /SIGTERM received/);
      } finally {
        await tap.close();
      }
    });
  });
});
