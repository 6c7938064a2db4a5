import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../../src/config/gateway-config.js';
import { problemsOf } from '../support/config.js';

describe('configuration', () => {
  it('starts on the embedded SQLite default with every provider disabled when nothing is set', () => {
    const config = loadConfig({});
    assert.equal(config.port, 3000);
    assert.equal(config.database.type, 'better-sqlite3');
    assert.match(
      config.database.type === 'better-sqlite3' ? config.database.path : '',
      /data\/gateway\.sqlite$/,
    );
    assert.equal(config.amqp.url, 'amqp://guest:guest@localhost:5672');
    assert.equal(config.amqp.exchange, 'payments.events');
    assert.deepEqual(config.http.trustedProxies, []);
    assert.deepEqual(Object.values(config.providers), [null, null, null, null, null, null]);
  });

  it('uses PostgreSQL when DATABASE_URL is set', () => {
    const config = loadConfig({
      DATABASE_URL: 'postgres://u@db:5432/gateway',
      DATABASE_MIGRATIONS_RUN: 'false',
    });
    assert.deepEqual(config.database, {
      type: 'postgres',
      url: 'postgres://u@db:5432/gateway',
      poolSize: 10,
      preparedStatements: true,
      runMigrations: false,
      // Unset: the pool defaults apply (database.options.ts POOL_DEFAULTS).
      connectTimeoutMs: undefined,
      statementTimeoutMs: undefined,
      idleInTransactionTimeoutMs: undefined,
      keepAliveDelayMs: undefined,
    });
    const tuned = loadConfig({
      DATABASE_URL: 'postgres://u@db/g',
      DATABASE_CONNECT_TIMEOUT_MS: '2000',
      DATABASE_STATEMENT_TIMEOUT_MS: '2500',
      DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS: '60000',
      DATABASE_KEEPALIVE_DELAY_MS: '5000',
    }).database;
    assert.ok(tuned.type === 'postgres');
    assert.deepEqual(
      [
        tuned.connectTimeoutMs,
        tuned.statementTimeoutMs,
        tuned.idleInTransactionTimeoutMs,
        tuned.keepAliveDelayMs,
      ],
      [2000, 2500, 60000, 5000],
    );
    const off = loadConfig({
      DATABASE_URL: 'postgres://u@db/g',
      DATABASE_PREPARED_STATEMENTS: 'false',
    }).database;
    assert.equal(off.type === 'postgres' ? off.preparedStatements : undefined, false);
  });

  it('names each bad variable', () => {
    const problems = problemsOf({
      PORT: 'eighty',
      DATABASE_URL: 'mysql://x',
      AMQP_URL: 'http://rabbit',
      TRUSTED_PROXIES: '10.0.0.0/33',
      NICEPAY_ALLOWED_IPS: 'not-an-ip',
      SIDOPULSA_CALLBACK_TOKEN: 'short',
      DOCS_ENABLED: 'maybe',
    });
    for (const name of [
      'PORT',
      'DATABASE_URL',
      'AMQP_URL',
      'TRUSTED_PROXIES',
      'NICEPAY_ALLOWED_IPS',
      'SIDOPULSA_CALLBACK_TOKEN',
      'DOCS_ENABLED',
    ]) {
      assert.ok(
        problems.some((p) => p.startsWith(name)),
        `${name} named in ${JSON.stringify(problems)}`,
      );
    }
  });

  it('refuses half-configured credentials', () => {
    assert.match(
      problemsOf({ S88PAY_API_KEY: 'k' }).join(),
      /S88PAY_API_KEY and S88PAY_SECRET_KEY must be set together/,
    );
    assert.match(
      problemsOf({ NICEPAY_IMID: 'A,B,C', NICEPAY_MERCHANT_KEY: 'k1,k2' }).join(),
      /one key per iMid \(3 iMids, 2 keys\)/,
    );
  });

  it("pairs NICEPAY iMids with one shared key or one key each, and defaults to NICEPAY's published addresses", () => {
    const shared = loadConfig({ NICEPAY_IMID: 'A, B', NICEPAY_MERCHANT_KEY: 'k' }).providers
      .nicepay!;
    assert.deepEqual(
      shared.accounts.map((a) => [a.id, a.iMid, a.keys.map((k) => [k.label, k.merchantKey])]),
      [
        ['A', 'A', [['1', 'k']]],
        ['B', 'B', [['1', 'k']]],
      ],
    );
    const allowlist = shared.accounts[0].allowlist!;
    assert.ok(allowlist.allows('103.20.51.33'));
    assert.ok(allowlist.allows('::ffff:103.20.51.40'));
    assert.ok(!allowlist.allows('103.20.51.35'));
    // Verdicts are remembered (bounded): asked again, and after 3,000 other addresses, the same.
    for (let i = 0; i < 3000; i += 1) allowlist.allows(`10.${i >> 8}.${i & 255}.1`);
    assert.ok(allowlist.allows('103.20.51.33'));
    assert.ok(!allowlist.allows('103.20.51.35'));
    assert.ok(!allowlist.allows('not an address'));
    assert.ok(!allowlist.allows(''));
    const each = loadConfig({
      NICEPAY_IMID: 'A,B',
      NICEPAY_MERCHANT_KEY: 'k1,k2',
      NICEPAY_ALLOWED_IPS: '10.0.0.0/8',
    }).providers.nicepay!;
    assert.deepEqual(
      each.accounts.map((a) => a.keys[0].merchantKey),
      ['k1', 'k2'],
    );
    assert.ok(each.accounts[1].allowlist!.allows('10.1.2.3'));
    assert.ok(!each.accounts[1].allowlist!.allows('103.20.51.33'));
  });

  it('treats * as "no address check"', () => {
    const ppob = loadConfig({ PPOB_ALLOWED_IPS: '*' }).providers.ppob!;
    assert.ok(ppob.accounts[0].allowlist!.allows('198.51.100.7'));
    assert.deepEqual(ppob.accounts[0].keys, []);
  });
});
