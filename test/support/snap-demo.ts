import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/gateway-config.js';
import { DEMO_ACCOUNTS_FILE, projectRoot } from '../../src/config/startup-environment.js';
import { type RunningSandbox, sandboxProviders, startSandbox } from '../../src/dev/sandbox.js';
import type { DatabaseKind } from './databases.js';
import { createTestBed, type TestBed } from './gateway.js';

export interface SnapDemoBed {
  bed: TestBed;
  /** A directory of its own (the accounts file, no .env): a working directory for CLIs. */
  dir: string;
  /** Plays the demo's SNAP providers and NICEPAY SNAP's status API; notifies `bed`'s gateway. */
  sandbox: RunningSandbox;
  /** The gateway's accounts file: the demo's, its status API at the sandbox. */
  accountsFile: string;
  /** The demo accounts file as committed. */
  demoText: string;
  teardown(): Promise<void>;
}

/**
 * A test bed whose gateway has the demo's SNAP accounts (demo/snap-accounts.yaml, one per shipped
 * profile) with NICEPAY SNAP's status API at an in-process sandbox that signs as their providers.
 */
export async function snapDemoBed(
  kind: DatabaseKind,
  env: Record<string, string> = {},
): Promise<SnapDemoBed> {
  const dir = mkdtempSync(join(tmpdir(), 'gw-snap-demo-'));
  const demo = join(projectRoot(), DEMO_ACCOUNTS_FILE);
  const demoText = readFileSync(demo, 'utf8');
  // The sandbox's view needs no URL of its own: the demo file as it is.
  const providers = sandboxProviders(loadConfig({ NODE_ENV: 'test', ACCOUNTS_FILE: demo }));
  const sandbox = await startSandbox({ providers });
  const accountsFile = join(dir, 'accounts.yaml');
  writeFileSync(accountsFile, demoText.replaceAll('http://localhost:4010', sandbox.url));
  const bed = await createTestBed(kind, { ACCOUNTS_FILE: accountsFile, ...env });
  sandbox.setGatewayUrl(bed.gateway.url);
  return {
    bed,
    dir,
    sandbox,
    accountsFile,
    demoText,
    async teardown() {
      await bed.teardown();
      await sandbox.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
