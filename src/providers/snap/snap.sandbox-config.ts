/**
 * Which SNAP accounts of the gateway's configuration the sandbox can play, and with what. The
 * gateway holds the provider's PUBLIC key (families A, B, C): the sandbox signs as the provider
 * only where it holds the matching private key, from its own key files (snapProviderKeys; the
 * demo's are published in demo/snap-sandbox-keys.json, like every demo secret). Symmetric secrets (B, D) and the merchant's
 * key pair of the NICEPAY SNAP status API are both sides' knowledge: taken from the configuration.
 */
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { currentKey, type ProviderAccounts, type SnapAccount } from '../../config/accounts.js';
import type { GatewayConfig } from '../../config/gateway-config.js';
import { projectRoot } from '../../config/startup-environment.js';
import type { SandboxProviderFactory } from '../../sandbox/sandbox-server.js';
import { SNAP_SERVICES, type SnapServiceName } from '../../config/snap/snap.profile.js';
import {
  SnapSandbox,
  type SnapSandboxSettings,
  type SnapStatusApiMerchant,
} from './snap.sandbox.js';
import {
  ASPI_TRANSACTION_STATUS,
  type SnapProviderIdentity,
  type SnapServiceCode,
} from './snap.simulator.js';

/** The sandbox's SNAP provider keys: a file of this name in demo/ and beside the accounts file. */
export const SNAP_SANDBOX_KEYS_FILE = 'snap-sandbox-keys.json';

function readKeys(file: string): KeyObject[] {
  if (!existsSync(file)) return [];
  try {
    const data = JSON.parse(readFileSync(file, 'utf8')) as { providerPrivateKeys?: unknown };
    if (!Array.isArray(data.providerPrivateKeys)) throw new Error('no providerPrivateKeys list');
    return data.providerPrivateKeys.map((pem) => createPrivateKey(String(pem)));
  } catch (error) {
    throw new Error(
      `${file}: must be {"providerPrivateKeys": ["<PEM private key>", …]} (${(error as Error).message})`,
      { cause: error },
    );
  }
}

/**
 * The provider private keys the sandbox signs with: the demo's (demo/snap-sandbox-keys.json) and,
 * for your own test accounts, those of a snap-sandbox-keys.json in the accounts file's directory.
 */
export function snapProviderKeys(accountsFile: string | null): KeyObject[] {
  const files = [join(projectRoot(), 'demo', SNAP_SANDBOX_KEYS_FILE)];
  if (accountsFile) files.push(join(dirname(accountsFile), SNAP_SANDBOX_KEYS_FILE));
  return [...new Set(files)].flatMap(readKeys);
}

/** The private key among `keys` whose public half is `publicPem`. */
function privateKeyFor(
  keys: readonly KeyObject[],
  publicPem: string | null,
): KeyObject | undefined {
  if (!publicPem) return undefined;
  let wanted: KeyObject;
  try {
    wanted = createPublicKey(publicPem);
  } catch {
    return undefined;
  }
  return keys.find((key) => createPublicKey(key).equals(wanted));
}

const CODE_OF = Object.fromEntries(
  Object.entries(SNAP_SERVICES).map(([name, service]) => [name, service.code]),
) as Record<SnapServiceName, SnapServiceCode>;

export interface PlayedSnapAccounts {
  settings: SnapSandboxSettings;
  /** Accounts the sandbox cannot play, with why (the CLI prints them). */
  skipped: string[];
}

/** The sandbox's view of every SNAP account it can play. */
export function snapSandboxSettings(
  snap: ProviderAccounts<SnapAccount> | null,
  providerKeys: readonly KeyObject[],
): PlayedSnapAccounts {
  const settings: SnapSandboxSettings = { providers: [], statusApiMerchants: [] };
  const skipped: string[] = [];
  for (const account of snap?.accounts ?? []) {
    const key = currentKey(account);
    if (!key) {
      skipped.push(`${account.id}: no key valid now`);
      continue;
    }
    const { profile } = account;
    const family = profile.family;
    const privateKey = privateKeyFor(providerKeys, key.publicKey);
    if (family !== 'hmac-notifyurl' && !privateKey) {
      skipped.push(`${account.id}: the sandbox holds no private key for its provider public key`);
      continue;
    }
    const names = Object.keys(profile.services) as SnapServiceName[];
    const signedPaths: Partial<Record<SnapServiceCode, string>> = {};
    for (const name of names) {
      const own = profile.services[name]?.signedPath;
      if (own) signedPaths[CODE_OF[name]] = own;
    }
    const partnerId = account.partnerId ?? account.id;
    const statusTable = profile.statusApi ? profile.statusApi.statusMap : profile.statusMap;
    const identity: SnapProviderIdentity = {
      account: account.id,
      family,
      partnerId,
      clientKey: account.clientKey ?? partnerId,
      channelId: account.channelId ?? '95221',
      privateKey,
      clientSecret: key.clientSecret ?? undefined,
      version: '1.0',
      signedPathPrefix: family === 'hmac-notifyurl' ? undefined : profile.signedPathPrefix,
      notifyUrlBase:
        family === 'hmac-notifyurl' && profile.signedPathPrefix
          ? profile.signedPathPrefix
          : undefined,
      signedPaths,
      partnerServiceId: '88899',
      services: names.map((name) => CODE_OF[name]),
      statusTable: statusTable ?? ASPI_TRANSACTION_STATUS,
    };
    settings.providers.push(identity);
    if (profile.statusApi && key.privateKey && key.clientSecret) {
      const merchant: SnapStatusApiMerchant = {
        clientKey: account.clientKey ?? partnerId,
        partnerId,
        publicKey: createPublicKey(key.privateKey),
        clientSecret: key.clientSecret,
        account: account.id,
      };
      settings.statusApiMerchants.push(merchant);
    }
  }
  return { settings, skipped };
}

/** Played for the SNAP accounts whose provider key the sandbox holds (snap-sandbox-keys.json files). */
export function snapSandboxFor(config: GatewayConfig): SandboxProviderFactory | null {
  const snap = snapSandboxSettings(config.providers.snap, snapProviderKeys(config.accounts.file));
  return snap.settings.providers.length > 0
    ? (context) => new SnapSandbox(context, snap.settings)
    : null;
}
