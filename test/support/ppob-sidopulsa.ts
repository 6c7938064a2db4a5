import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { HttpException } from '@nestjs/common';
import { type GatewayConfig, loadConfig } from '../../src/config/gateway-config.js';
import type { InboundCallback } from '../../src/ingest/callback-provider.js';
import { sleep } from './broker.js';
import { LOOPBACK } from './credentials.js';
import { acceptedCallbacks, createTestBed, type TestBed } from './gateway.js';

/**
 * The two sample callback URLs of Sidopulsa's "Callback/Report" page (seed 002), verbatim: the
 * page prints them decoded (raw spaces), which no HTTP client can send as such.
 */
export const SIDOPULSA_DOC_SUCCESS_URL =
  'https://url-client.com/callback.php?serverid=36203827&price=9000&clientid=99323877&statuscode=2&kp=TT5&msisdn=081299999999&sn=OPTR9039938DS&message=TRX TT5.081299999999 BERHASIL, HRG:9000 SN: OPTR9039938DS. SISA SALDO:5550 CLIENTID=99323877.';
export const SIDOPULSA_DOC_FAILED_URL =
  'https://url-client.com/callback.php?serverid=36203827&price=9000&clientid=99323877&statuscode=2&kp=TT5&msisdn=081299999999&sn=Trx gagal&message=TRX TT5.081299999999 GAGAL, Trx gagal. SISA SALDO:5550 CLIENTID=99323877.';

/** Reads a documentation URL's query as the provider meant it: split on `&` and the first `=`, no decoding. */
export function docQuery(url: string): Array<[string, string]> {
  return url
    .slice(url.indexOf('?') + 1)
    .split('&')
    .map((pair) => {
      const at = pair.indexOf('=');
      return [pair.slice(0, at), pair.slice(at + 1)];
    });
}

/**
 * Builds a callback URL as a provider's HTTP library would: the base URL (with the token as its
 * last path segment, when given) plus the fields percent-encoded, either form-style (`+` for a
 * space, as PHP's http_build_query and URLSearchParams do) or RFC 3986 style (`%20`).
 */
export function callbackUrl(
  base: string,
  provider: 'sidopulsa' | 'ppob',
  fields: Record<string, string> | Array<[string, string]>,
  options: { token?: string; spaces?: 'plus' | 'percent' } = {},
): string {
  const pairs = Array.isArray(fields) ? fields : Object.entries(fields);
  const query =
    options.spaces === 'percent'
      ? pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&')
      : new URLSearchParams(pairs).toString();
  const path =
    options.token === undefined
      ? `/callbacks/${provider}`
      : `/callbacks/${provider}/${options.token}`;
  return `${base}${path}?${query}`;
}

/** Unit tests: a configuration with only this provider's protection set. */
export function topupConfig(
  provider: 'sidopulsa' | 'ppob',
  settings: { allowed?: string; token?: string } | null,
): GatewayConfig {
  const prefix = provider.toUpperCase();
  return loadConfig({
    [`${prefix}_ALLOWED_IPS`]: settings?.allowed,
    [`${prefix}_CALLBACK_TOKEN`]: settings?.token,
  });
}

/** Unit tests: a GET report as the guard would hand it over (query already parsed by Express). */
export function inboundReport(
  provider: 'sidopulsa' | 'ppob',
  query: Record<string, unknown>,
  options: { token?: string; ip?: string } = {},
): InboundCallback {
  const params: Record<string, string> =
    options.token === undefined ? {} : { token: options.token };
  return {
    method: 'GET',
    path: options.token === undefined ? `/callbacks/${provider}` : `/callbacks/${provider}/:token`,
    headers: {},
    query,
    params,
    body: undefined,
    rawBody: Buffer.alloc(0),
    contentType: undefined,
    clientIp: options.ip ?? '127.0.0.1',
    receivedAt: new Date('2025-11-21T05:00:00.000Z'),
  };
}

/** assert.throws / rejects predicate: an HttpException with this status whose message matches. */
export function httpError(status: number, message: RegExp) {
  return (error: unknown) => {
    assert.ok(error instanceof HttpException, `expected an HttpException, got ${String(error)}`);
    assert.equal(error.getStatus(), status);
    assert.match(error.message, message);
    return true;
  };
}

let sequence = 0;
/** A reference no other test in the run uses. */
export function uniqueRef(prefix: string): string {
  sequence += 1;
  return `${prefix}${Date.now().toString().slice(-7)}${String(sequence).padStart(3, '0')}`;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- event bodies are asserted field by field
export type EventBody = Record<string, any>;

export interface TappedEvent {
  routingKey: string;
  type: string | undefined;
  messageId: string | undefined;
  body: EventBody;
}

/** The events on the tap whose body matches. */
export function tapped(bed: TestBed, match: (body: EventBody) => boolean): TappedEvent[] {
  return bed.tap.messages
    .map((m) => ({
      routingKey: m.fields.routingKey,
      type: m.properties.type as string | undefined,
      messageId: m.properties.messageId as string | undefined,
      body: JSON.parse(m.content.toString('utf8')) as EventBody,
    }))
    .filter((event) => match(event.body));
}

/** Waits for `count` matching events, then a little longer so extra (duplicate) ones would show. */
export async function waitForEvent(
  bed: TestBed,
  match: (body: EventBody) => boolean,
  count = 1,
  settleMs = 300,
): Promise<TappedEvent[]> {
  const deadline = Date.now() + 10_000;
  while (tapped(bed, match).length < count) {
    if (Date.now() > deadline)
      throw new Error(`Expected ${count} matching events, got ${tapped(bed, match).length}`);
    await sleep(25);
  }
  await sleep(settleMs);
  return tapped(bed, match);
}

/** Every stored column of every callback row, as text: where a leaked secret would show. */
export async function storedText(bed: TestBed): Promise<string> {
  const rows = await bed.db.query('SELECT * FROM callbacks');
  const outbox = await bed.db.query('SELECT * FROM outbox');
  return JSON.stringify([rows, outbox], (_key, value) =>
    Buffer.isBuffer(value) ? value.toString('utf8') : value,
  );
}

export interface UrlTokenCase {
  provider: 'sidopulsa' | 'ppob';
  envPrefix: 'SIDOPULSA' | 'PPOB';
  token: string;
  /** A valid report for a fresh reference, and the event subject it must produce. */
  report(): { fields: Record<string, string>; subject: string };
}

/**
 * The protection configurations both providers share (allowlist + token, token only, allowlist
 * only, neither), end to end on PostgreSQL: refused requests leave no accepted row and no event.
 */
export function urlTokenConfigurationSuite(c: UrlTokenCase): void {
  const env = (allowed: string, token: string) => ({
    [`${c.envPrefix}_ALLOWED_IPS`]: allowed,
    [`${c.envPrefix}_CALLBACK_TOKEN`]: token,
  });
  const send = (bed: TestBed, fields: Record<string, string>, token?: string) =>
    fetch(callbackUrl(bed.gateway.url, c.provider, fields, { token }));

  async function assertNothingAccepted(bed: TestBed): Promise<void> {
    await sleep(500);
    assert.equal((await acceptedCallbacks(bed.db)).length, 0);
    assert.equal(bed.tap.messages.length, 0);
  }

  describe(`${c.provider}: address not on the allowlist (token configured too)`, () => {
    let bed: TestBed;
    before(async () => (bed = await createTestBed('postgres', env('203.0.113.0/24', c.token))));
    after(() => bed.teardown());

    it('is refused with 403 even with the right token, and with a wrong or no token (address first)', async () => {
      for (const token of [c.token, 'wrong-token-0123456789', undefined]) {
        const res = await send(bed, c.report().fields, token);
        assert.equal(res.status, 403);
        assert.match(
          ((await res.json()) as { message: string }).message,
          /127\.0\.0\.1 is not allowed/,
        );
      }
      await assertNothingAccepted(bed);
    });
  });

  describe(`${c.provider}: token only (no allowlist)`, () => {
    let bed: TestBed;
    before(async () => (bed = await createTestBed('postgres', env('', c.token))));
    after(() => bed.teardown());

    it('accepts the right token from any address', async () => {
      assert.equal(bed.gateway.config.providers[c.provider]?.accounts[0].allowlist, null);
      const { fields, subject } = c.report();
      const res = await send(bed, fields, c.token);
      assert.equal(res.status, 200);
      assert.equal(await res.text(), 'OK');
      const [event] = await waitForEvent(bed, (b) => b.subject === subject);
      assert.equal(event.body.data.provider, c.provider);
      const [row] = await acceptedCallbacks(bed.db);
      assert.equal(row.verification, 'URL token matched');
    });

    it('refuses a missing token (401 token required) and a wrong one (401)', async () => {
      const before = bed.tap.messages.length;
      const missing = await send(bed, c.report().fields);
      assert.equal(missing.status, 401);
      assert.match(((await missing.json()) as { message: string }).message, /token required/);
      const wrong = await send(bed, c.report().fields, `${c.token}x`);
      assert.equal(wrong.status, 401);
      assert.match(((await wrong.json()) as { message: string }).message, /token does not match/);
      await sleep(500);
      assert.equal(
        (await acceptedCallbacks(bed.db)).length,
        1,
        'only the first test stored anything',
      );
      assert.equal(bed.tap.messages.length, before);
    });
  });

  describe(`${c.provider}: allowlist only (no token)`, () => {
    let bed: TestBed;
    before(async () => (bed = await createTestBed('postgres', env(LOOPBACK, ''))));
    after(() => bed.teardown());

    it('accepts the tokenless URL from an allowed address', async () => {
      assert.deepEqual(bed.gateway.config.providers[c.provider]?.accounts[0].keys, []);
      const { fields, subject } = c.report();
      const res = await send(bed, fields);
      assert.equal(res.status, 200);
      assert.equal(await res.text(), 'OK');
      await waitForEvent(bed, (b) => b.subject === subject);
      const [row] = await acceptedCallbacks(bed.db);
      assert.equal(row.verification, 'source 127.0.0.1 allowed');
      assert.equal(row.path, `/callbacks/${c.provider}`);
    });

    it('refuses a URL carrying a token it cannot check (401)', async () => {
      const res = await send(bed, c.report().fields, c.token);
      assert.equal(res.status, 401);
      assert.match(((await res.json()) as { message: string }).message, /no token is configured/);
      await sleep(300);
      assert.equal((await acceptedCallbacks(bed.db)).length, 1);
    });
  });

  describe(`${c.provider}: nothing configured`, () => {
    let bed: TestBed;
    before(async () => (bed = await createTestBed('postgres', env('', ''))));
    after(() => bed.teardown());

    it('answers 404 on both routes and stores nothing', async () => {
      assert.equal(bed.gateway.config.providers[c.provider], null);
      for (const token of [undefined, c.token]) {
        const res = await send(bed, c.report().fields, token);
        assert.equal(res.status, 404);
        assert.match(((await res.json()) as { message: string }).message, /not configured/);
      }
      await assertNothingAccepted(bed);
    });
  });
}
