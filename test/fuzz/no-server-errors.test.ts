/**
 * Bad-input classes on PostgreSQL (whose text cannot hold NUL and whose timestamps have a range):
 *
 * - no input gives a 5xx: deeply nested JSON in a SIGNED body (400 before validation), control
 *   characters in every provider's ids (refused by validation, never a failed insert), a long
 *   X-Forwarded-For from the trusted proxy (400), and the admin API's filters, ids and cursors —
 *   named cases and a property-based fuzz (fast-check) over every admin input;
 * - for GET providers what is stored is the verified query string: a body sent along is ignored.
 *
 * An authentic callback refused by validation may later be quarantined (answered 200, no event):
 * the tests accept 200 or 400 there, and prove no event and no accepted row come of it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { ADMIN_KEY } from '../admin/admin-support.js';
import { sleep } from '../support/broker.js';
import { send, signedCallback } from '../support/callbacks.js';
import { acceptedCallbacks, createTestBed, type TestBed } from '../support/gateway.js';
import { mcpaymentCallback, mcpaymentSignature } from '../support/mcpayment.js';
import { rawRequest } from '../support/raw-http.js';
import { s88payCallback, s88payPayload } from '../support/s88pay.js';
import { deleteQueues, topupEnv, uniqueQueue } from '../support/topups.js';
import { portOf } from '../../src/http/management-port.js';
import { openApiRequests } from './openapi-requests.js';

const CONTROL = ['\u0000', '\u0001', '\u001f', '\u007f', '\u0085', '\u2028', '\ud800'];

/** How many generated requests are in flight at once. */
const PARALLEL = 8;

const nested = (depth: number) => `${'{"a":'.repeat(depth)}[1]${'}'.repeat(depth)}`;
/** Percent-encodes any string, lone surrogates included (encodeURIComponent throws on them). */
const encode = (value: string) => new URLSearchParams({ v: value }).toString().slice(2);

describe('no 5xx from any input (PostgreSQL)', () => {
  let bed: TestBed;
  before(
    async () =>
      (bed = await createTestBed('postgres', {
        ADMIN_API_KEY: ADMIN_KEY,
        TRUSTED_PROXIES: '127.0.0.1,::1',
        AUTH_FAILURE_LIMIT: '100000',
      })),
  );
  after(() => bed.teardown());

  const postMcpayment = (
    body: Parameters<typeof mcpaymentSignature>[0],
    text = JSON.stringify(body),
  ) =>
    fetch(`${bed.gateway.url}/callbacks/mcpayment`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'mcp-signature': mcpaymentSignature(body) },
      body: text,
    });

  it('refuses deeply nested JSON in a signed body with 400, before validation', async () => {
    for (const depth of [40, 1000, 3000, 9000]) {
      const body = mcpaymentCallback({ additional_data: 'NESTED' });
      const res = await postMcpayment(
        body,
        JSON.stringify(body).replace('"NESTED"', nested(depth)),
      );
      const text = await res.text();
      assert.equal(res.status, 400, `depth ${depth}: ${text}`);
      assert.match(text, /nested deeper than 32 levels/);
    }
    // Bracket characters inside strings are not nesting.
    const ok = mcpaymentCallback({ additional_data: '[[[[{{{{'.repeat(200) });
    assert.equal((await postMcpayment(ok)).status, 200);
    await bed.tap.waitFor(1);
  });

  it('never stores a control character in an id, for every provider, and never answers 5xx', async () => {
    const before = bed.tap.messages.length;
    const accepted = (await acceptedCallbacks(bed.db)).length;
    for (const c of CONTROL) {
      const answers: Array<[string, number, string]> = [];
      // Sidopulsa serverid / clientid and PPOB ref_id, in a genuine report with the right token.
      // (A URL cannot carry a lone surrogate: it arrives as U+FFFD, a printable character.)
      for (const provider of c === '\ud800' ? [] : (['sidopulsa', 'ppob'] as const)) {
        for (const field of provider === 'ppob' ? ['ref_id'] : ['serverid', 'clientid']) {
          const genuine = signedCallback(provider);
          const url = new URL(`${bed.gateway.url}${genuine.path}`);
          url.searchParams.set(field, `X${c}Y`);
          const res = await fetch(url);
          answers.push([`${provider} ${field}`, res.status, await res.text()]);
        }
      }
      // MCPayment ids, signed over the altered values.
      for (const field of ['transaction_id', 'external_id', 'order_id'] as const) {
        const body = mcpaymentCallback();
        body[field] = `${body[field]}${c}`;
        const res = await postMcpayment(body);
        answers.push([`mcpayment ${field}`, res.status, await res.text()]);
      }
      // S88Pay ids inside the encrypted payload (and beside it, equal).
      for (const field of ['transaction_no', 'transaction_code', 'merchant_code'] as const) {
        const payload = s88payPayload();
        payload[field] = `${String(payload[field])}${c}`;
        const res = await fetch(`${bed.gateway.url}/callbacks/s88pay`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(s88payCallback(payload)),
        });
        answers.push([`s88pay ${field}`, res.status, await res.text()]);
      }
      for (const [what, status, text] of answers) {
        const label = `${what} with U+${c.charCodeAt(0).toString(16).padStart(4, '0')}: ${status} ${text}`;
        assert.ok(status < 500, label);
        // S88Pay: a control character in the plaintext is tampering (401); elsewhere the id
        // cannot be one (400, or quarantined with 200).
        assert.ok([200, 400, 401].includes(status), label);
        if (status === 400) assert.match(text, /must not contain control characters/, label);
      }
    }
    await sleep(500);
    assert.equal(bed.tap.messages.length, before, 'no event');
    assert.equal((await acceptedCallbacks(bed.db)).length, accepted, 'no accepted row');
    const [{ n }] = await bed.db.query<{ n: string }>(
      `SELECT COUNT(*) AS n FROM callbacks WHERE transaction_key ~ '[[:cntrl:]]' OR account ~ '[[:cntrl:]]'`,
    );
    assert.equal(Number(n), 0);
  });

  it('refuses an X-Forwarded-For that names no address (400), accepts a long chain of addresses', async () => {
    for (const forwarded of [
      'a'.repeat(100),
      `${'9'.repeat(300)}`,
      '127.0.0.1, not-an-ip',
      'unknown',
    ]) {
      const res = await send(bed.gateway.url, signedCallback('sidopulsa'), {
        'x-forwarded-for': forwarded,
      });
      assert.equal(res.status, 400, forwarded);
      assert.match(await res.text(), /X-Forwarded-For/);
    }
    const chain = Array.from({ length: 40 }, (_, i) => `10.0.${i}.1`).join(', ');
    const res = await send(bed.gateway.url, signedCallback('ppob'), {
      'x-forwarded-for': `${chain}, 127.0.0.1`,
    });
    // 10.0.39.1 is the client: not on the PPOB allowlist.
    assert.equal(res.status, 403);
    const ipv6 = await send(bed.gateway.url, signedCallback('ppob'), {
      'x-forwarded-for': 'ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255',
    });
    assert.equal(ipv6.status, 403);
  });

  it('stores the verified query string of a GET callback, never a body sent with it', async () => {
    for (const provider of ['sidopulsa', 'ppob'] as const) {
      const genuine = signedCallback(provider);
      const body = JSON.stringify({ serverid: 'FROM-BODY', ref_id: 'FROM-BODY', status: 'Failed' });
      const res = await rawRequest(bed.gateway.url, 'GET', genuine.path, { body });
      assert.equal(res.status, 200, `${provider}: ${res.text}`);
      await sleep(200);
      const [row] = await bed.db.query<{ raw_body: string; raw_body_encoding: string }>(
        `SELECT raw_body, raw_body_encoding FROM callbacks WHERE event_id = $1`,
        [genuine.eventId],
      );
      assert.equal(row.raw_body_encoding, 'utf8');
      assert.equal(row.raw_body, genuine.path.slice(genuine.path.indexOf('?') + 1));
      // A refused GET (wrong token) with a body records the query too, never the body.
      const refused = await rawRequest(
        bed.gateway.url,
        'GET',
        genuine.path.replace(/\/[^/?]+\?/, '/wrong-token-000000000000?'),
        { body },
      );
      assert.equal(refused.status, 401);
    }
    await sleep(500);
    const [{ n }] = await bed.db.query<{ n: string }>(
      `SELECT COUNT(*) AS n FROM callbacks WHERE raw_body LIKE '%FROM-BODY%'`,
    );
    assert.equal(Number(n), 0, 'no body of a GET request is stored');
  });

  describe('admin API', () => {
    const admin = async (method: 'GET' | 'POST', path: string) => {
      const res = await rawRequest(bed.gateway.url, method, path, {
        headers: { 'x-admin-key': ADMIN_KEY },
      });
      return res;
    };
    const cursor = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const uuid = '0b6c8f3e-6a3e-4d8e-9a34-0d2b1f3c4a5e';

    it('answers 400/404, never 5xx, for NUL and out-of-range filters, ids and cursors', async () => {
      const cases: Array<[string, string, number]> = [
        ['GET', '/admin/callbacks?provider=%00', 400],
        ['GET', '/admin/callbacks?status=%00', 400],
        ['GET', '/admin/callbacks?reference=%00', 400],
        ['GET', '/admin/callbacks?providerTransactionId=a%00b', 400],
        ['GET', '/admin/callbacks?outcome=%00', 400],
        ['GET', '/admin/callbacks?from=0000-01-01T00:00:00Z', 400],
        ['GET', '/admin/callbacks?to=%2B275760-09-13T00:00:00.000Z', 400],
        ['GET', '/admin/callbacks?to=-000001-01-01T00:00:00Z', 400],
        ['GET', '/admin/callbacks?limit=%00', 400],
        ['GET', '/admin/callbacks?provider=a&provider=b', 400],
        ['GET', `/admin/callbacks?cursor=${cursor(['0000-01-01T00:00:00.000Z', uuid])}`, 400],
        ['GET', `/admin/callbacks?cursor=${cursor(['+275760-09-13T00:00:00.000Z', uuid])}`, 400],
        ['GET', `/admin/callbacks?cursor=${cursor(['2025-01-01T00:00:00.000Z', '\u0000'])}`, 400],
        ['GET', '/admin/callbacks?cursor=%00', 400],
        ['GET', '/admin/callbacks/%00', 400],
        ['GET', '/admin/callbacks/not-a-uuid', 400],
        ['GET', `/admin/callbacks/${uuid}`, 404],
        ['POST', '/admin/events/%00/republish', 400],
        ['POST', '/admin/callbacks/%00/renormalize', 400],
        ['POST', `/admin/callbacks/${uuid}/renormalize`, 404],
      ];
      for (const [method, path, status] of cases) {
        const res = await admin(method as 'GET' | 'POST', path);
        assert.equal(res.status, status, `${method} ${path}: ${res.text}`);
        assert.match(res.text, /"message":"[^"]+"/);
      }
    });

    it('property: any value of any admin input is answered 200, 400 or 404', async () => {
      const value = fc.oneof(
        fc.string({ unit: 'binary', maxLength: 40 }),
        fc.constantFrom(
          '\u0000',
          '0000-01-01T00:00:00Z',
          '+275760-09-13T00:00:00Z',
          '9999-12-31T23:59:59Z',
          '-1',
          '1e9',
          uuid,
        ),
        fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
      );
      const param = fc.constantFrom(
        'provider',
        'status',
        'reference',
        'providerTransactionId',
        'outcome',
        'from',
        'to',
        'limit',
        'cursor',
      );
      const request = fc.oneof(
        fc
          .array(fc.tuple(param, value), { minLength: 1, maxLength: 3 })
          .map((pairs) => ['GET', `/admin/callbacks?${new URLSearchParams(pairs)}`] as const),
        fc
          .tuple(fc.constantFrom(['GET', ''], ['POST', '/renormalize']), value)
          .map(
            ([[method, suffix], id]) =>
              [method, `/admin/callbacks/${encode(id)}${suffix}`] as const,
          ),
        value.map((id) => ['POST', `/admin/events/${encode(id)}/republish`] as const),
        fc
          .tuple(fc.date({ noInvalidDate: true }), fc.string({ unit: 'binary', maxLength: 40 }))
          .map(
            ([d, id]) =>
              ['GET', `/admin/callbacks?cursor=${cursor([d.toISOString(), id])}`] as const,
          ),
      );
      await fc.assert(
        fc.asyncProperty(request, async ([method, path]) => {
          const res = await admin(method, path);
          return [200, 400, 404].includes(res.status);
        }),
        { numRuns: 300 },
      );
    });
  });
});

describe('no 5xx from any route of the OpenAPI document (PostgreSQL, management port apart)', () => {
  let bed: TestBed;
  const queue = uniqueQueue();
  before(
    async () =>
      (bed = await createTestBed('postgres', {
        ...topupEnv('http://127.0.0.1:9', queue),
        ADMIN_API_KEY: ADMIN_KEY,
        MANAGEMENT_PORT: '0',
        AUTH_FAILURE_LIMIT: '100000',
      })),
  );
  after(async () => {
    await bed.teardown();
    await deleteQueues(queue, `${queue}.dead-letter`);
  });

  it('answers every generated request of every route and method below 500', async () => {
    const { routes, requests } = openApiRequests(ADMIN_KEY);
    assert.ok(routes.length >= 20, `${routes.length} routes`);
    assert.ok(routes.includes('GET /topups/{provider}/{reference}'));
    const failures: string[] = [];
    const reached = new Map<string, Set<number>>();
    let next = 0;
    const worker = async () => {
      while (next < requests.length) {
        const r = requests[next++];
        const base = portOf(r.route) === 'management' ? bed.gateway.managementUrl : bed.gateway.url;
        const res = await rawRequest(base, r.method, r.path, { body: r.body, headers: r.headers });
        const key = `${r.method} ${r.route}`;
        reached.set(key, (reached.get(key) ?? new Set()).add(res.status));
        if (res.status >= 500)
          failures.push(`${key} ${r.what}: ${res.status} ${res.text.slice(0, 200)}`);
      }
    };
    await Promise.all(Array.from({ length: PARALLEL }, worker));
    assert.deepEqual(failures, [], `${failures.length} of ${requests.length} requests got a 5xx`);
    // Every route was reached (not all answered 404 for want of a route).
    for (const route of routes) {
      const statuses = [...(reached.get(route) ?? [])];
      assert.ok(statuses.some((s) => s !== 404) || /\{/.test(route), `${route}: ${statuses}`);
    }
  });
});
