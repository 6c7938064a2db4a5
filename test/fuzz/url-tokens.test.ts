/**
 * Bad-input class: URL tokens never reach a log line, a stored row or an admin answer. Every
 * spelling of a callback path (case, extra / trailing / double slashes, extra segments, dot
 * segments, percent-encoding including encoded slashes, every method including HEAD) is sent RAW
 * (node:http, so nothing normalises the path first) to a real gateway process logging at trace
 * level; then the whole log output, every text column of every table, and the admin API's
 * answers are searched for the token in any case and encoding.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ADMIN_KEY } from '../admin/admin-support.js';
import { deleteTopology, sleep, uniqueExchange } from '../support/broker.js';
import { signedCallback } from '../support/callbacks.js';
import { PPOB, SIDOPULSA } from '../support/credentials.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import { rawRequest as raw } from '../support/raw-http.js';
import { type GatewayProcess, spawnGateway } from '../support/gateway-process.js';

const GUESS = 'guessed-token-value-4242424242';

/** Every spelling of a token path the test sends, for one provider and one token value. */
export function tokenPathVariants(provider: string, token: string, query: string): string[] {
  const upper = provider.toUpperCase();
  const encoded = [...token].map((c) => `%${c.charCodeAt(0).toString(16)}`).join('');
  const half = token.length >> 1;
  const bodies = [
    `/callbacks/${provider}/${token}/`,
    `/CALLBACKS/${upper}/${token}`,
    `/Callbacks/${provider}/${token}`,
    `/callbacks/${upper}/${token}`,
    `/callbacks/${provider}/${token}/x`,
    `/callbacks/${provider}/${token}/x/y/`,
    `/callbacks/${provider}//${token}`,
    `//callbacks/${provider}/${token}`,
    `/callbacks//${provider}/${token}`,
    `/callbacks/${provider}/${token}//`,
    `/callbacks/${provider}/./${token}`,
    `/callbacks/${provider}/${token}/..`,
    `/x/../callbacks/${provider}/${token}`,
    `/callbacks/${provider}%2F${token}`,
    `/callbacks/${provider}%2f${token}`,
    `/callbacks/${provider}/${token}%2Fx`,
    `/callbacks/${provider}/${token.slice(0, half)}%2F${token.slice(half)}`,
    `/callbacks/${encodeURIComponent(provider).replace(/./, (c) => `%${c.charCodeAt(0).toString(16)}`)}/${token}`,
    `/callbacks/${provider}/${encoded}`,
    `/%63allbacks/${provider}/${token}`,
    `/callbacks/${provider}/${token};jsessionid=1`,
    `/callbacks/${provider}/${token}%00`,
    `/callbacks/${provider}/${token}%20`,
    `/callbacks/${provider}/${token}.json`,
    `/callbacks/${token}`,
    `/callbacks/unknown/${token}`,
    `/callbacks/${provider}/${token}\\x`,
    `/${token}`,
    `/admin/callbacks/${token}`,
  ];
  return bodies.flatMap((path) => [path, `${path}?${query}`]);
}

describe('URL tokens: every spelling of a callback path, every method', () => {
  let db: TestDatabase;
  let gateway: GatewayProcess;
  const exchange = uniqueExchange();

  before(async () => {
    db = await createTestDatabase('postgres');
    gateway = await spawnGateway({
      ...db.env,
      EVENTS_EXCHANGE: exchange,
      LOG_LEVEL: 'trace',
      ADMIN_API_KEY: ADMIN_KEY,
      // Every variant must reach routing, not the per-address refusal limit (429).
      AUTH_FAILURE_LIMIT: '100000',
    });
  });
  after(async () => {
    if (gateway.child.exitCode === null) gateway.child.kill('SIGTERM');
    await gateway.exited;
    await deleteTopology(exchange).catch(() => undefined);
    await db.drop();
  });

  it('accepts only the canonical URL, and no token reaches the log, the database or the admin API', async () => {
    const secrets = [SIDOPULSA.token, PPOB.token, GUESS];
    const answers: string[] = [];
    for (const provider of ['sidopulsa', 'ppob'] as const) {
      const genuine = signedCallback(provider);
      const token = provider === 'ppob' ? PPOB.token : SIDOPULSA.token;
      const query = genuine.path.slice(genuine.path.indexOf('?') + 1);
      // The canonical URL is accepted (and a guessed token on it refused, 401).
      assert.equal((await raw(gateway.url, 'GET', genuine.path)).status, 200, provider);
      assert.equal(
        (await raw(gateway.url, 'GET', `/callbacks/${provider}/${GUESS}?${query}`)).status,
        401,
      );
      for (const value of [token, GUESS]) {
        for (const path of tokenPathVariants(provider, value, query)) {
          for (const method of ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS']) {
            const body = method === 'POST' || method === 'PUT' ? '{"a":1}' : undefined;
            const res = await raw(gateway.url, method, path, { body });
            answers.push(`${method} ${path} → ${res.status}`);
            assert.ok(res.status < 500, `${method} ${path}: ${res.status} ${res.text}`);
            // A non-canonical spelling is never accepted, not even with the right token; the
            // token segment percent-encoded is the same URL (RFC 3986), a duplicate here.
            const sameUrl = method === 'GET' && path.startsWith(`/callbacks/${provider}/%`);
            if (!sameUrl) assert.notEqual(res.status, 200, `${method} ${path} was accepted`);
          }
        }
      }
    }
    assert.ok(answers.length > 700);

    // The admin API shows every stored row (accepted and refused) without a token.
    const list = await fetch(`${gateway.url}/admin/callbacks?limit=200`, {
      headers: { 'x-admin-key': ADMIN_KEY },
    });
    assert.equal(list.status, 200);
    const page = (await list.json()) as { items: Array<{ id: string; outcome: string }> };
    assert.ok(
      page.items.some((item) => item.outcome === 'rejected_auth'),
      'refusals recorded',
    );
    let adminText = JSON.stringify(page);
    for (const item of page.items) {
      const detail = await fetch(`${gateway.url}/admin/callbacks/${item.id}`, {
        headers: { 'x-admin-key': ADMIN_KEY },
      });
      assert.equal(detail.status, 200);
      adminText += await detail.text();
    }
    await sleep(500);

    // Every text column of every table.
    const tables = await db.query<{ table_name: string }>(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'`,
    );
    let stored = '';
    for (const { table_name } of tables) {
      stored += JSON.stringify(await db.query(`SELECT * FROM "${table_name}"`));
    }
    assert.ok(stored.includes('/callbacks/ppob/:token'), 'the route template is what is stored');

    gateway.child.kill('SIGTERM');
    assert.equal(await gateway.exited, 0);
    const output = gateway.output();
    assert.ok(output.split('\n').length > answers.length / 2, 'the requests were logged');
    assert.match(output, /"path":"\/callbacks\/ppob\/:token"/);

    for (const [where, text] of [
      ['log output', output],
      ['database', stored],
      ['admin API', adminText],
    ] as const) {
      const folded = text.toLowerCase();
      for (const secret of secrets) {
        const hex = [...secret].map((c) => `%${c.charCodeAt(0).toString(16)}`).join('');
        for (const form of [secret, hex, secret.slice(0, 16), secret.slice(-16)]) {
          const at = folded.indexOf(form.toLowerCase());
          assert.ok(
            at < 0,
            `${where} contains a URL token (${form.slice(0, 6)}…): …${text.slice(Math.max(0, at - 300), at)}`,
          );
        }
      }
    }
  });
});
