/**
 * Bad-input class: strangers cannot grow storage. Every kind of refusal (400, 401, 403, 404, 413,
 * 415) counts toward the per-address limiter; an allowlisted address is exempt on its own
 * provider's endpoint only; rejected-attempt records keep a short body prefix and are bounded per
 * source and in total per minute, what is skipped being counted. (bench/flood.ts measures the
 * database growth of a 10,000-request flood with the default limits.)
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sleep } from '../support/broker.js';
import { signedCallback } from '../support/callbacks.js';
import { createTestBed, type TestBed } from '../support/gateway.js';
import { mcpaymentCallback } from '../support/mcpayment.js';
import { metricValue } from '../support/metrics.js';
import { nicepayNotification, postForm } from '../support/nicepay.js';

const NICEPAY_ADDRESS = '103.20.51.33';

describe('refusal limits', () => {
  let bed: TestBed;
  before(
    async () =>
      (bed = await createTestBed('postgres', {
        TRUSTED_PROXIES: '127.0.0.1,::1',
        NICEPAY_ALLOWED_IPS: NICEPAY_ADDRESS,
        AUTH_FAILURE_LIMIT: '6',
        REJECTED_BODY_BYTES: '64',
        REJECTED_PER_SOURCE_PER_MINUTE: '3',
        REJECTED_PER_MINUTE: '5',
      })),
  );
  after(() => bed.teardown());

  const post = (path: string, from: string, type: string, body: string) =>
    fetch(`${bed.gateway.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': type, 'x-forwarded-for': from },
      body,
    });

  it('counts every kind of refusal toward 429, whatever the provider', async () => {
    const from = '198.51.100.7';
    const refusals: Array<[number, () => Promise<Response>]> = [
      [400, () => post('/callbacks/mcpayment', from, 'application/json', '{"transaction_id":')],
      [401, () => post('/callbacks/s88pay', from, 'application/json', '{"key":"AAAA"}')],
      [
        403,
        () =>
          postForm(`${bed.gateway.url}/callbacks/nicepay`, nicepayNotification(), {
            'x-forwarded-for': from,
          }),
      ],
      [
        413,
        () =>
          post(
            '/callbacks/nicepay',
            from,
            'application/x-www-form-urlencoded',
            `a=${'x'.repeat(40_000)}`,
          ),
      ],
      [415, () => post('/callbacks/mcpayment', from, 'text/plain', 'hello')],
      [404, () => post('/callbacks/MCPAYMENT', from, 'application/json', '{}')],
    ];
    for (const [status, send] of refusals) assert.equal((await send()).status, status);
    // The limit (6) is reached: every endpoint answers 429 now, before reading the body.
    for (const [, send] of refusals) {
      const res = await send();
      assert.equal(res.status, 429);
      assert.ok(Number(res.headers.get('retry-after')) > 0);
      assert.match(await res.text(), /Too many refused requests from 198\.51\.100\.7/);
    }
  });

  it("exempts an allowlisted address on its own provider's endpoint only", async () => {
    const forgedS88pay = () =>
      post('/callbacks/s88pay', NICEPAY_ADDRESS, 'application/json', '{"key":"AAAA"}');
    for (let i = 0; i < 6; i += 1) assert.equal((await forgedS88pay()).status, 401);
    // Limited where NICEPAY's allowlist means nothing…
    assert.equal((await forgedS88pay()).status, 429);
    const mcpayment = await post(
      '/callbacks/mcpayment',
      NICEPAY_ADDRESS,
      'application/json',
      JSON.stringify(mcpaymentCallback()),
    );
    assert.equal(mcpayment.status, 429);
    // …never on NICEPAY's own endpoint: forged ones are still answered 401, genuine ones 200.
    for (let i = 0; i < 8; i += 1) {
      const forged = nicepayNotification({ merchantToken: 'e'.repeat(64) });
      const res = await postForm(`${bed.gateway.url}/callbacks/nicepay`, forged, {
        'x-forwarded-for': NICEPAY_ADDRESS,
      });
      assert.equal(res.status, 401);
    }
    const genuine = await postForm(`${bed.gateway.url}/callbacks/nicepay`, nicepayNotification(), {
      'x-forwarded-for': NICEPAY_ADDRESS,
    });
    assert.equal(genuine.status, 200);
  });

  it('records a short prefix of refused bodies, bounded per source and in total, counting the rest', async () => {
    // Fresh sources, so the limiter is not what stops them.
    for (let source = 1; source <= 4; source += 1) {
      for (let i = 0; i < 5; i += 1) {
        const res = await post(
          '/callbacks/mcpayment',
          `203.0.113.${source}`,
          'application/json',
          JSON.stringify({ ...mcpaymentCallback(), padding: 'p'.repeat(20_000) }),
        );
        assert.equal(res.status, 401);
      }
    }
    await sleep(800);
    const rows = await bed.db.query<{ source_ip: string; raw_body: string; headers: string }>(
      `SELECT source_ip, raw_body, headers FROM callbacks WHERE outcome <> 'accepted'`,
    );
    assert.ok(rows.length <= 5, `at most REJECTED_PER_MINUTE (5) records, got ${rows.length}`);
    const bySource = new Map<string, number>();
    for (const row of rows) {
      bySource.set(row.source_ip, (bySource.get(row.source_ip) ?? 0) + 1);
      assert.ok(row.raw_body.length <= 64, 'REJECTED_BODY_BYTES of the body only');
      assert.ok(row.headers.length < 2048);
    }
    for (const [source, n] of bySource) assert.ok(n <= 3, `${source}: ${n} records`);
    const metrics = await (await fetch(`${bed.gateway.url}/metrics`)).text();
    const limited = metricValue(metrics, 'gateway_rejected_attempts_total', { result: 'limited' });
    const recorded = metricValue(metrics, 'gateway_rejected_attempts_total', {
      result: 'recorded',
    });
    assert.equal(rows.length, 5, 'the total bound was reached');
    assert.equal(recorded, rows.length);
    assert.ok(limited >= 20, `every attempt over the bounds is counted (limited: ${limited})`);
  });

  it('still accepts genuine callbacks of every provider from a fresh address', async () => {
    for (const provider of ['mcpayment', 's88pay'] as const) {
      const cb = signedCallback(provider);
      const res = await fetch(`${bed.gateway.url}${cb.path}`, {
        method: cb.method,
        headers: { ...cb.headers, 'x-forwarded-for': '192.0.2.200' },
        body: cb.body,
      });
      assert.equal(res.status, 200, provider);
    }
  });
});
