import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseEnv } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { ConfigurationError } from '../../src/config/environment.js';
import { loadConfig } from '../../src/config/gateway-config.js';
import {
  DEMO_OVERRIDES,
  demoEnvironment,
  localUrl,
  projectRoot,
  startupEnvironment,
} from '../../src/config/startup-environment.js';

describe('startupEnvironment: where a process gets its settings', () => {
  let withDotEnv: string;
  let empty: string;
  before(() => {
    withDotEnv = mkdtempSync(join(tmpdir(), 'gw-env-'));
    writeFileSync(
      join(withDotEnv, '.env'),
      'DEV_TOOLS_ENABLED=true\nMCPAYMENT_HASH_KEY=from-dot-env\nPORT=4100\n',
    );
    empty = mkdtempSync(join(tmpdir(), 'gw-env-empty-'));
  });
  after(() => {
    rmSync(withDotEnv, { recursive: true, force: true });
    rmSync(empty, { recursive: true, force: true });
  });

  it('production never reads .env (a checkout .env cannot turn on dev tools there)', () => {
    const startup = startupEnvironment({ NODE_ENV: 'production' }, withDotEnv);
    assert.equal(startup.source, 'environment');
    assert.equal(startup.env.DEV_TOOLS_ENABLED, undefined);
    assert.equal(loadConfig(startup.env).devTools.enabled, false);
  });

  it('outside production .env fills what the environment leaves unset; real variables win', () => {
    const startup = startupEnvironment({ NODE_ENV: 'test', PORT: '4200' }, withDotEnv);
    assert.equal(startup.source, '.env');
    assert.equal(startup.file, join(withDotEnv, '.env'));
    assert.equal(startup.env.MCPAYMENT_HASH_KEY, 'from-dot-env');
    assert.equal(startup.env.PORT, '4200');
  });

  it('a .env may not switch a process to production', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gw-env-prod-'));
    try {
      writeFileSync(join(dir, '.env'), 'NODE_ENV=production\n');
      assert.throws(() => startupEnvironment({}, dir), ConfigurationError);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('development with nothing configured: the demo configuration, on loopback, all providers', () => {
    for (const env of [{}, { NODE_ENV: 'development' }, { PORT: '4300', AMQP_URL: 'amqp://x' }]) {
      const startup = startupEnvironment(env, empty);
      assert.equal(startup.source, 'demo', JSON.stringify(env));
      const config = loadConfig(startup.env);
      assert.equal(config.host, '127.0.0.1');
      for (const [name, settings] of Object.entries(config.providers)) {
        assert.notEqual(settings, null, `${name} enabled in the demo`);
      }
      // Variables that are set still win over the demo values.
      if ('PORT' in env) assert.equal(config.port, 4300);
      if ('AMQP_URL' in env) assert.equal(config.amqp.url, 'amqp://x');
    }
  });

  it('the demo listens on loopback whatever HOST says, and says so', () => {
    for (const host of ['0.0.0.0', '::', '192.168.1.20', 'example.com']) {
      const startup = startupEnvironment({ HOST: host }, empty);
      assert.equal(startup.source, 'demo');
      assert.equal(loadConfig(startup.env).host, '127.0.0.1', host);
      assert.match(startup.notes?.join() ?? '', new RegExp(`HOST=${host} ignored`));
    }
    for (const host of ['127.0.0.1', '127.0.0.2', '::1', 'localhost']) {
      const startup = startupEnvironment({ HOST: host }, empty);
      assert.equal(startup.env.HOST, host);
      assert.deepEqual(startup.notes, []);
    }
    // Configured (a provider set): HOST is the operator's choice.
    const configured = startupEnvironment(
      { HOST: '0.0.0.0', PPOB_CALLBACK_TOKEN: 'x'.repeat(24) },
      empty,
    );
    assert.equal(configured.source, 'environment');
    assert.equal(configured.env.HOST, '0.0.0.0');
  });

  it('no demo in test or production, nor once a provider is configured', () => {
    assert.equal(startupEnvironment({ NODE_ENV: 'test' }, empty).source, 'environment');
    assert.equal(startupEnvironment({ NODE_ENV: 'production' }, empty).source, 'environment');
    const configured = startupEnvironment(
      { MCPAYMENT_HASH_KEY: 'k', MCPAYMENT_VERIFY: 'off' },
      empty,
    );
    assert.equal(configured.source, 'environment');
    assert.equal(loadConfig(configured.env).providers.nicepay, null);
  });

  it('the demo is .env.example on loopback with the embedded sandbox; SANDBOX_PORT moves the API URLs', () => {
    const demo = demoEnvironment();
    assert.ok(demo, '.env.example exists in the checkout');
    assert.equal(demo.HOST, '127.0.0.1');
    assert.equal(demo.DEV_TOOLS_ENABLED, 'true');
    assert.equal(demo.SANDBOX_EMBEDDED, 'true');
    const moved = loadConfig(startupEnvironment({ SANDBOX_PORT: '4999' }, empty).env);
    assert.equal(moved.sandbox.port, 4999);
    assert.equal(moved.sandbox.embedded, true);
    assert.equal(moved.providers.nicepay?.inquiry?.apiUrl, 'http://localhost:4999');
  });

  it('each value the demo sets otherwise than .env.example is explained there, next to it', () => {
    const file = readFileSync(join(projectRoot(), '.env.example'), 'utf8');
    const values = parseEnv(file) as Record<string, string>;
    for (const [name, value] of Object.entries(DEMO_OVERRIDES)) {
      if (values[name] === value) continue;
      const lines = file.split('\n');
      const at = lines.findIndex((line) => line.startsWith(`${name}=`));
      let comment = '';
      for (let i = at - 1; i >= 0 && lines[i].startsWith('#'); i--) comment = lines[i] + comment;
      assert.match(comment, /demo configuration/i, `${name}: the demo's ${value} is not explained`);
    }
  });
});

describe('HOST and the local URL', () => {
  it('defaults to every interface; HOST is validated', () => {
    assert.equal(loadConfig({}).host, '0.0.0.0');
    assert.equal(loadConfig({ HOST: '127.0.0.1' }).host, '127.0.0.1');
    assert.equal(loadConfig({ HOST: '::1' }).host, '::1');
    assert.throws(() => loadConfig({ HOST: 'not a host!' }), /HOST must be an IP address/);
  });

  it('localUrl reaches a gateway on every interface through loopback', () => {
    assert.equal(localUrl({ host: '0.0.0.0', port: 3000 }), 'http://127.0.0.1:3000');
    assert.equal(localUrl({ host: '127.0.0.1', port: 3001 }), 'http://127.0.0.1:3001');
    assert.equal(localUrl({ host: '::1', port: 3002 }), 'http://[::1]:3002');
  });
});

describe('scripts/build-if-stale.mjs', () => {
  it('finds a source newer than its compiled file, or without one; none when current', async () => {
    const script = pathToFileURL(join(projectRoot(), 'scripts', 'build-if-stale.mjs')).href;
    const { staleSource } = (await import(script)) as {
      staleSource(dir: string): string | null;
    };
    const dir = mkdtempSync(join(tmpdir(), 'gw-stale-'));
    try {
      mkdirSync(join(dir, 'src', 'bin'), { recursive: true });
      mkdirSync(join(dir, 'dist', 'src', 'bin'), { recursive: true });
      writeFileSync(join(dir, 'src', 'bin', 'a.ts'), '');
      assert.equal(staleSource(dir), join('src', 'bin', 'a.ts'), 'never compiled');
      writeFileSync(join(dir, 'dist', 'src', 'bin', 'a.js'), '');
      const old = new Date(Date.now() - 60_000);
      utimesSync(join(dir, 'src', 'bin', 'a.ts'), old, old);
      assert.equal(staleSource(dir), null, 'compiled after the last change');
      utimesSync(join(dir, 'dist', 'src', 'bin', 'a.js'), new Date(0), new Date(0));
      assert.equal(staleSource(dir), join('src', 'bin', 'a.ts'), 'changed since');
      // A later build that did not re-emit a touched but unchanged file (tsc is incremental).
      writeFileSync(join(dir, 'dist', '.build-stamp'), '');
      assert.equal(staleSource(dir), null, 'built since, by this script');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
