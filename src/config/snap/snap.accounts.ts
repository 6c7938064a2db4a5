import { createPrivateKey, createPublicKey } from 'node:crypto';
import { AddressAllowlist, splitList } from '../../common/address-allowlist.js';
import type { ProviderAccounts, SnapAccount, SnapKey } from '../accounts.js';
import type { AccountsFile } from '../accounts-file.js';
import {
  profileProblems,
  resolveProfile,
  SHIPPED_SNAP_PROFILES,
  type SnapProfile,
} from './snap.profile.js';

type SnapSection = NonNullable<AccountsFile['snap']>;
type SnapAccountEntry = SnapSection['accounts'][number];

/** What each family needs of an account and of each of its keys. */
const NEEDS: Record<
  SnapProfile['family'],
  { account: Array<'clientKey' | 'partnerId'>; key: Array<'publicKey' | 'clientSecret'> }
> = {
  'rsa-clientkey': { account: ['clientKey'], key: ['publicKey'] },
  'hmac-token': { account: ['clientKey'], key: ['publicKey', 'clientSecret'] },
  'rsa-body': { account: [], key: ['publicKey'] },
  'hmac-notifyurl': { account: [], key: ['clientSecret'] },
};

function pemProblem(pem: string, kind: 'public' | 'private'): boolean {
  try {
    if (kind === 'public') createPublicKey(pem);
    else createPrivateKey(pem);
    return false;
  } catch {
    return true;
  }
}

/**
 * The SNAP accounts of the accounts file: each account's profile (shipped, or defined in the
 * section's `profiles`) with the defaults and the account's `override` laid over it, checked
 * whole; then what its family needs. Problems name the file, account and field, never a value.
 */
export function snapAccounts(
  problems: string[],
  section: SnapSection | undefined,
  fileName: string,
): ProviderAccounts<SnapAccount> | null {
  if (!section) return null;
  const sectionAllowlist =
    section.allowedIps === undefined ? null : new AddressAllowlist(splitList(section.allowedIps));
  const own = section.profiles ?? {};
  const accounts: SnapAccount[] = [];
  for (const [name, data] of Object.entries(own)) {
    const at = `${fileName}: snap profiles.${name}`;
    if (data === null || typeof data !== 'object' || Array.isArray(data)) {
      problems.push(`${at}: must be a mapping of profile fields`);
      continue;
    }
    if (data.name !== undefined && data.name !== name)
      problems.push(`${at}.name: must be the profile's key (${name}) or left out`);
  }
  for (const entry of section.accounts) {
    const where = `${fileName}: snap account "${entry.id}"`;
    const base: Record<string, unknown> | undefined = Object.hasOwn(own, entry.profile)
      ? { name: entry.profile, ...own[entry.profile] }
      : SHIPPED_SNAP_PROFILES[entry.profile];
    if (!base) {
      problems.push(
        `${where} profile: "${entry.profile}" is neither a shipped profile (${Object.keys(SHIPPED_SNAP_PROFILES).join(', ')}) nor one of the file's snap profiles`,
      );
      continue;
    }
    const resolved = resolveProfile(base, entry.override);
    const found = profileProblems(`${where} profile ${entry.profile}`, resolved);
    if (found.length > 0) {
      problems.push(...found);
      continue;
    }
    const profile = resolved as unknown as SnapProfile;
    problems.push(...entryProblems(where, profile, entry));
    accounts.push({
      id: entry.id,
      profile,
      partnerId: entry.partnerId ?? null,
      clientKey: entry.clientKey ?? null,
      channelId: entry.channelId ?? null,
      apiUrl: entry.apiUrl?.replace(/\/+$/, '') ?? null,
      keys: entry.keys.map((key, i): SnapKey => ({
        label: key.label ?? String(i + 1),
        notBefore: key.notBefore ? new Date(key.notBefore) : null,
        notAfter: key.notAfter ? new Date(key.notAfter) : null,
        publicKey: key.publicKey ?? null,
        clientSecret: key.clientSecret ?? null,
        privateKey: key.privateKey ?? null,
      })),
      allowlist:
        entry.allowedIps === undefined
          ? sectionAllowlist
          : new AddressAllowlist(splitList(entry.allowedIps)),
      source: fileName,
    });
  }
  return accounts.length > 0 ? { allowlist: sectionAllowlist, accounts } : null;
}

function entryProblems(where: string, profile: SnapProfile, entry: SnapAccountEntry): string[] {
  const problems: string[] = [];
  const needs = NEEDS[profile.family];
  for (const field of needs.account)
    if (!entry[field]) problems.push(`${where}: needs ${field} (family ${profile.family})`);
  entry.keys.forEach((key, i) => {
    const at = `${where} keys[${i}]`;
    for (const field of needs.key)
      if (!key[field]) problems.push(`${at}: needs ${field} (family ${profile.family})`);
    if (key.publicKey && pemProblem(key.publicKey, 'public'))
      problems.push(`${at}.publicKey: is not a PEM public key`);
    if (key.privateKey && pemProblem(key.privateKey, 'private'))
      problems.push(`${at}.privateKey: is not a PEM private key`);
  });
  if (profile.statusApi) {
    // The answer is the event: without what the inquiry is signed with, nothing is ever published.
    for (const field of ['apiUrl', 'partnerId', 'clientKey', 'channelId'] as const)
      if (!entry[field])
        problems.push(`${where}: needs ${field}: its callbacks are confirmed by the status API`);
    entry.keys.forEach((key, i) => {
      for (const field of ['privateKey', 'clientSecret'] as const)
        if (!key[field])
          problems.push(
            `${where} keys[${i}]: needs ${field}: the status API's token and inquiry are signed with it`,
          );
    });
  }
  return problems;
}
