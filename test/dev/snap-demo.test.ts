import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../src/config/gateway-config.js';
import { demoEnvironment, startupEnvironment } from '../../src/config/startup-environment.js';
import { SHIPPED_SNAP_PROFILES } from '../../src/config/snap/snap.profile.js';
import {
  snapProviderKeys,
  snapSandboxSettings,
} from '../../src/providers/snap/snap.sandbox-config.js';

/** The demo configuration's SNAP side: what `npm start` on a fresh clone offers to try. */
describe('the demo configuration has a played SNAP account per shipped profile', () => {
  let empty: string;
  before(() => {
    empty = mkdtempSync(join(tmpdir(), 'gw-snap-demo-'));
  });
  after(() => rmSync(empty, { recursive: true, force: true }));

  it('one account per shipped profile, each of its family, every one signable by the sandbox', () => {
    const config = loadConfig(demoEnvironment()!);
    const accounts = config.providers.snap?.accounts ?? [];
    assert.deepEqual(
      accounts.map((a) => [a.id, a.profile.name]).sort(),
      Object.keys(SHIPPED_SNAP_PROFILES)
        .map((name) => [name, name])
        .sort(),
    );
    const { settings, skipped } = snapSandboxSettings(
      config.providers.snap,
      snapProviderKeys(config.accounts.file),
    );
    assert.deepEqual(skipped, []);
    assert.deepEqual(
      settings.providers.map((p) => [p.account, p.family]).sort(),
      accounts.map((a) => [a.id, a.profile.family]).sort(),
    );
    // NICEPAY SNAP's status API is the sandbox, with the merchant key of the demo account.
    assert.deepEqual(
      settings.statusApiMerchants.map((m) => m.account),
      ['nicepay-snap'],
    );
    assert.equal(accounts.find((a) => a.id === 'nicepay-snap')?.apiUrl, 'http://localhost:4010');
  });

  it('a SANDBOX_PORT of the environment moves the NICEPAY SNAP status API with the sandbox', () => {
    const { env, source } = startupEnvironment({ SANDBOX_PORT: '4999' }, empty);
    assert.equal(source, 'demo');
    const config = loadConfig(env);
    assert.equal(
      config.providers.snap?.accounts.find((a) => a.id === 'nicepay-snap')?.apiUrl,
      'http://localhost:4999',
    );
    assert.notEqual(env.ACCOUNTS_FILE, demoEnvironment()!.ACCOUNTS_FILE);
    assert.match(readFileSync(env.ACCOUNTS_FILE!, 'utf8'), /apiUrl: http:\/\/localhost:4999/);
    // The sandbox still plays every account of the moved copy (its keys are the demo's).
    const { skipped } = snapSandboxSettings(config.providers.snap, snapProviderKeys(null));
    assert.deepEqual(skipped, []);
  });
});
