import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { deleteTopology, EventTap, uniqueExchange } from './support/broker.js';
import { PROVIDERS, send, signedCallback } from './support/callbacks.js';
import { MCPAYMENT, NICEPAY, PPOB, S88PAY, SIDOPULSA } from './support/credentials.js';
import { createTestDatabase, type TestDatabase } from './support/databases.js';
import { type GatewayProcess, spawnGateway } from './support/gateway-process.js';

/** A forged variant of a genuine callback: its secret part replaced. */
function forge(path: string, headers: Record<string, string>, body: string | undefined) {
  return {
    path: path
      .replace(SIDOPULSA.token, 'guessed-sidopulsa-token-000000')
      .replace(PPOB.token, 'guessed-ppob-token-00000000000'),
    headers: headers['mcp-signature'] ? { ...headers, 'mcp-signature': 'a'.repeat(64) } : headers,
    body: body
      ?.replace(/merchantToken=[0-9a-f]+/, `merchantToken=${'b'.repeat(64)}`)
      .replace(/"key":"[^"]+"/, '"key":"bm90IHJlYWxseSBlbmNyeXB0ZWQ%3D"'),
  };
}

// Test and production: one JSON object a line. Development (`npm start`): readable lines,
// rewritten from those JSON lines, so they hold no more than the JSON does.
for (const environment of ['test', 'development'] as const)
  describe(`logs (NODE_ENV=${environment})`, () => {
    let db: TestDatabase;
    let gateway: GatewayProcess;
    const exchange = uniqueExchange();
    const sensitive: string[] = [
      S88PAY.apiKey,
      S88PAY.secretKey,
      MCPAYMENT.hashKey,
      SIDOPULSA.token,
      PPOB.token,
      ...NICEPAY.merchants.map((m) => m.merchantKey),
    ];

    before(async () => {
      db = await createTestDatabase('postgres');
      gateway = await spawnGateway({
        ...db.env,
        NODE_ENV: environment,
        EVENTS_EXCHANGE: exchange,
        LOG_LEVEL: 'trace',
      });
    });
    after(async () => {
      if (gateway.child.exitCode === null) gateway.child.kill('SIGTERM');
      await gateway.exited;
      await deleteTopology(exchange).catch(() => undefined);
      await db.drop();
    });

    it('never contain secrets or personal data, for any provider, accepted or refused', async () => {
      const tap = await EventTap.bind(exchange);
      try {
        for (const provider of PROVIDERS) {
          const genuine = signedCallback(provider);
          sensitive.push(...genuine.sensitive);
          assert.equal((await send(gateway.url, genuine)).status, 200, provider);
          assert.equal((await send(gateway.url, genuine)).status, 200, `${provider} duplicate`);
          const forged = forge(genuine.path, genuine.headers, genuine.body);
          const refused = await fetch(`${gateway.url}${forged.path}`, {
            method: genuine.method,
            headers: forged.headers,
            body: forged.body,
          });
          assert.equal(refused.status, 401, `${provider} forged`);
          // POST bodies truncated; GET queries with a repeated field.
          const malformed = await fetch(
            `${gateway.url}${genuine.method === 'GET' ? `${genuine.path}&serverid=X&ref_id=X` : genuine.path}`,
            {
              method: genuine.method,
              headers: genuine.headers,
              body: genuine.body && genuine.body.slice(0, -3),
            },
          );
          assert.ok(
            malformed.status >= 400 && malformed.status < 500,
            `${provider} malformed: ${malformed.status}`,
          );
        }
        await tap.waitFor(PROVIDERS.length);
      } finally {
        await tap.close();
      }
      await fetch(`${gateway.url}/metrics`);
      // Logs are buffered; a clean shutdown flushes them.
      gateway.child.kill('SIGTERM');
      assert.equal(await gateway.exited, 0);

      const output = gateway.output();
      const lines = output.split('\n').filter(Boolean);
      assert.ok(lines.length > 20, 'the gateway logged its requests');
      for (const value of new Set(sensitive)) {
        assert.ok(
          !output.includes(value),
          `log output contains a secret or personal value: ${value.slice(0, 4)}…`,
        );
      }
      // Generic shapes too: no e-mail address, no Indonesian mobile number, no card number.
      assert.doesNotMatch(output, /[\w.+-]+@[\w-]+\.[\w.]+/, 'an e-mail address');
      assert.doesNotMatch(output, /\b08\d{8,11}\b/, 'a phone number');
      assert.doesNotMatch(output, /\b\d{6}\*{4,6}\d{4}\b/, 'a card number');

      if (environment === 'development') {
        assert.ok(!lines.some((line) => line.startsWith('{')), 'a JSON line in development');
        const requests = lines.filter((line) => / (GET|POST) \/callbacks\//.test(line));
        for (const provider of PROVIDERS) {
          for (const outcome of ['accepted', 'duplicate']) {
            assert.ok(
              requests.some((line) =>
                new RegExp(
                  `^\\d\\d:\\d\\d:\\d\\d\\.\\d{3} INFO  (GET|POST) /callbacks/${provider}(/:token)? 200 \\d+ ms  .*provider=${provider} outcome=${outcome}`,
                ).test(line),
              ),
              `${provider} ${outcome} logged as a readable line:\n${requests.join('\n')}`,
            );
          }
        }
        return;
      }
      // Every line is a JSON log line, except the start-up banner block (plain text on stderr).
      const json = lines.filter((line) => line.startsWith('{'));
      assert.ok(lines.length - json.length < 40, 'only the banner is not JSON');
      const requests = json
        .map((line) => JSON.parse(line))
        .filter((entry) => entry.req?.path?.startsWith('/callbacks/'));
      const byOutcome = new Set(requests.map((entry) => `${entry.provider}:${entry.outcome}`));
      for (const provider of PROVIDERS) {
        assert.ok(byOutcome.has(`${provider}:accepted`), `${provider} accepted logged`);
        assert.ok(byOutcome.has(`${provider}:duplicate`), `${provider} duplicate logged`);
      }
      for (const entry of requests) {
        assert.match(String(entry.req.id), /^[\w.:-]+$/);
        assert.equal(typeof entry.responseTime, 'number');
        assert.equal(typeof entry.res.statusCode, 'number');
        assert.doesNotMatch(entry.req.path, /\?/, 'no query string in logged paths');
      }
    });
  });
