import type { AddressAllowlist } from '../common/address-allowlist.js';
import type { SnapProfile } from './snap/snap.profile.js';

/**
 * Merchant accounts per provider. Each account has an `id` (what events and stored callbacks call
 * it), the credentials a callback is verified with as a list of keys (several during a rotation),
 * and an optional source allowlist. Accounts come from the provider's environment variables (one
 * account each, as before) and from ACCOUNTS_FILE; the set is replaced whole on a reload.
 */

/** One credential of an account. Only `label` (or the position) is ever logged or stored. */
export interface CredentialKey {
  /** The key's `label`, else its 1-based position in the account's list (`1`, `2`, …). */
  label: string;
  /** The key verifies from this instant (inclusive); null: always. */
  notBefore: Date | null;
  /** The key verifies until this instant (inclusive); null: forever. */
  notAfter: Date | null;
}

export interface Account<K extends CredentialKey = CredentialKey> {
  id: string;
  keys: K[];
  /** The allowlist applied to this account (its own, else the provider's); null: no address check. */
  allowlist: AddressAllowlist | null;
  /** `environment`, or the accounts file the account was read from. */
  source: string;
}

export interface NicepayKey extends CredentialKey {
  merchantKey: string;
}
/** NICEPAY: the iMid is not in the callback; its merchant key signs the callback and the status API. */
export interface NicepayAccount extends Account<NicepayKey> {
  iMid: string;
}

export interface McpaymentKey extends CredentialKey {
  hashKey: string;
}
export interface McpaymentAccount extends Account<McpaymentKey> {
  /** When set, mcp-signature includes it (and only that formula is accepted). */
  subMerchantId: string | null;
  /** Status API (Basic auth merchant_id:secret_unbound_id); null when not configured. */
  merchantId: string | null;
  secretUnboundId: string | null;
}

export interface S88payKey extends CredentialKey {
  apiKey: string;
  secretKey: string;
}
export interface S88payAccount extends Account<S88payKey> {
  /**
   * The merchant code S88Pay issued (status API URL). When set, a decrypted payload naming another
   * merchant_code does not belong to this account.
   */
  merchantCode: string | null;
  /**
   * The account described by S88PAY_API_KEY / S88PAY_SECRET_KEY: its events are named by the
   * payload's merchant_code (`default` when absent), as before accounts existed.
   */
  namedByMerchantCode: boolean;
}

export interface UrlTokenKey extends CredentialKey {
  token: string;
}
/** Sidopulsa / PPOB: the token in the callback URL names the account; no keys: allowlist only. */
export type UrlTokenAccount = Account<UrlTokenKey>;

export interface SnapKey extends CredentialKey {
  /** The provider's RSA public key (PEM): families rsa-clientkey, hmac-token (token request), rsa-body. */
  publicKey: string | null;
  /** The client secret (HMAC-SHA512): families hmac-token, hmac-notifyurl, and the status API. */
  clientSecret: string | null;
  /** The merchant's RSA private key (PEM): the status API's access-token request. */
  privateKey: string | null;
}
/** SNAP: the account is in the callback URL; its profile says how its provider signs. */
export interface SnapAccount extends Account<SnapKey> {
  profile: SnapProfile;
  /** X-PARTNER-ID the provider sends (and the status API expects); null: not checked. */
  partnerId: string | null;
  /** X-CLIENT-KEY: the client id the provider signs with (family A, the token of B). */
  clientKey: string | null;
  /** CHANNEL-ID of the gateway's status API requests. */
  channelId: string | null;
  /** Status API host (family A). */
  apiUrl: string | null;
}

export interface ProviderAccounts<A extends Account> {
  /** The provider's allowlist (accounts without their own use it); null: no address check. */
  allowlist: AddressAllowlist | null;
  accounts: A[];
}

/** NICEPAY v2 Status Inquiry: each account's iMid and merchant key sign it; only the host is shared. */
export interface NicepayInquirySettings {
  apiUrl: string;
}

/** A provider's status-API host; the account supplies the credentials. */
export interface InquiryHost {
  apiUrl: string;
}

/** MCPayment (iFortepay) inquiry for one account: Basic auth merchant_id:secret_unbound_id. */
export interface McpaymentInquirySettings {
  apiUrl: string;
  merchantId: string;
  secretUnboundId: string;
}

/** S88Pay transaction status for one account: its merchant code is part of the URL. */
export interface S88payInquirySettings {
  apiUrl: string;
  merchantCode: string;
}

/** `inquiry` null: that provider's status verification is off (<PROVIDER>_VERIFY=off, or no credentials). */
export interface ProvidersConfig {
  s88pay: (ProviderAccounts<S88payAccount> & { inquiry: InquiryHost | null }) | null;
  mcpayment: (ProviderAccounts<McpaymentAccount> & { inquiry: InquiryHost | null }) | null;
  nicepay: (ProviderAccounts<NicepayAccount> & { inquiry: NicepayInquirySettings | null }) | null;
  sidopulsa: ProviderAccounts<UrlTokenAccount> | null;
  ppob: ProviderAccounts<UrlTokenAccount> | null;
  snap: ProviderAccounts<SnapAccount> | null;
  /** Sections registered by providers (config/account-sections.ts), by name; absent: none configured. */
  extra: ReadonlyMap<string, ProviderAccounts<Account>>;
}

export type ProviderName = Exclude<keyof ProvidersConfig, 'extra'>;
export const PROVIDER_NAMES: readonly ProviderName[] = [
  's88pay',
  'mcpayment',
  'nicepay',
  'sidopulsa',
  'ppob',
  'snap',
];

/** True while the key verifies at `at`: on or after notBefore and on or before notAfter. */
export function keyValidAt(key: CredentialKey, at: Date): boolean {
  const time = at.getTime();
  return (
    (key.notBefore === null || time >= key.notBefore.getTime()) &&
    (key.notAfter === null || time <= key.notAfter.getTime())
  );
}

/**
 * The key to sign or call with now (status APIs, simulators): among the keys valid at `at`, the
 * one that became valid last (the newest of a rotation); null when none is valid.
 */
export function currentKey<K extends CredentialKey>(
  account: Account<K>,
  at: Date = new Date(),
): K | null {
  let best: K | null = null;
  for (const key of account.keys) {
    if (!keyValidAt(key, at)) continue;
    if (
      best === null ||
      (key.notBefore?.getTime() ?? -Infinity) >= (best.notBefore?.getTime() ?? -Infinity)
    )
      best = key;
  }
  return best;
}

/** Every provider's section by name: the built-in ones, then those providers registered. */
export function providerSections(
  providers: ProvidersConfig,
): Map<string, ProviderAccounts<Account> | null> {
  const sections = new Map<string, ProviderAccounts<Account> | null>();
  for (const name of PROVIDER_NAMES)
    sections.set(name, providers[name] as ProviderAccounts<Account> | null);
  for (const [name, settings] of providers.extra) sections.set(name, settings);
  return sections;
}

/**
 * Every explicit allowlist of each provider (its own and its accounts'): the refusal limiter never
 * limits an address on the endpoint of the provider that allowlists it.
 */
export function allowlistsByProvider(providers: ProvidersConfig): Map<string, AddressAllowlist[]> {
  const found = new Map<string, AddressAllowlist[]>();
  for (const [name, settings] of providerSections(providers)) {
    if (!settings) continue;
    const lists = new Set<AddressAllowlist>();
    if (settings.allowlist) lists.add(settings.allowlist);
    for (const account of settings.accounts) if (account.allowlist) lists.add(account.allowlist);
    if (lists.size > 0) found.set(name, [...lists]);
  }
  return found;
}

/** Everything a provider's status API needs for one account (the key valid now). */
export type StatusApiCredentials =
  | { provider: 'nicepay'; account: string; apiUrl: string; iMid: string; merchantKey: string }
  | ({
      provider: 'mcpayment';
      account: string;
      hashKey: string;
      subMerchantId: string | null;
    } & McpaymentInquirySettings)
  | ({
      provider: 's88pay';
      account: string;
      apiKey: string;
      secretKey: string;
    } & S88payInquirySettings);

/**
 * The running set of accounts. `current` is replaced whole by `replace` (one assignment), so a
 * request reads either the old set or the new one, never a mix.
 */
export class AccountRegistry {
  constructor(
    private snapshot: ProvidersConfig,
    /** The accounts file, or null when only environment variables describe accounts. */
    readonly file: string | null,
    /** Builds a fresh set from the (unchanged) environment and the file as it is now. */
    private readonly rebuild: () => ProvidersConfig,
  ) {}

  get current(): ProvidersConfig {
    return this.snapshot;
  }

  replace(next: ProvidersConfig): void {
    this.snapshot = next;
  }

  /** Reads and validates everything again; throws ConfigurationError and changes nothing when wrong. */
  load(): ProvidersConfig {
    return this.rebuild();
  }

  /**
   * The account of `provider` called `accountId` in events, or null. The S88Pay account described
   * by environment variables is named by each payload's merchant_code: it answers for any id no
   * other S88Pay account has.
   */
  account(provider: ProviderName, accountId: string): Account | null {
    const accounts = (this.snapshot[provider]?.accounts ?? []) as Account[];
    const exact = accounts.find((account) => account.id === accountId);
    if (exact) return exact;
    if (provider !== 's88pay') return null;
    return (accounts as S88payAccount[]).find((account) => account.namedByMerchantCode) ?? null;
  }

  /**
   * What a provider's status API needs for the account a callback was attributed to (the event's
   * `provider` and `account`): the host, the account's API identifiers and its key valid at `at`.
   * Null when verification is off for the provider, the account is unknown, lacks its API
   * identifiers or has no key valid at `at`.
   */
  statusApiCredentials(
    provider: ProviderName,
    accountId: string,
    at: Date = new Date(),
  ): StatusApiCredentials | null {
    const account = this.account(provider, accountId);
    if (!account) return null;
    if (provider === 'nicepay') {
      const nicepay = account as NicepayAccount;
      const key = currentKey(nicepay, at);
      const inquiry = this.snapshot.nicepay?.inquiry;
      if (!key || !inquiry) return null;
      return {
        provider,
        account: accountId,
        apiUrl: inquiry.apiUrl,
        iMid: nicepay.iMid,
        merchantKey: key.merchantKey,
      };
    }
    if (provider === 'mcpayment') {
      const mcpayment = account as McpaymentAccount;
      const key = currentKey(mcpayment, at);
      const inquiry = this.snapshot.mcpayment?.inquiry;
      if (!key || !inquiry || !mcpayment.merchantId || !mcpayment.secretUnboundId) return null;
      return {
        provider,
        account: accountId,
        apiUrl: inquiry.apiUrl,
        hashKey: key.hashKey,
        subMerchantId: mcpayment.subMerchantId,
        merchantId: mcpayment.merchantId,
        secretUnboundId: mcpayment.secretUnboundId,
      };
    }
    if (provider === 's88pay') {
      const s88pay = account as S88payAccount;
      const key = currentKey(s88pay, at);
      const inquiry = this.snapshot.s88pay?.inquiry;
      if (!key || !inquiry || !s88pay.merchantCode) return null;
      return {
        provider,
        account: accountId,
        apiUrl: inquiry.apiUrl,
        merchantCode: s88pay.merchantCode,
        apiKey: key.apiKey,
        secretKey: key.secretKey,
      };
    }
    return null;
  }
}

/** What changed between two account sets, as log text: account ids and key labels only. */
export function describeChanges(before: ProvidersConfig, after: ProvidersConfig): string[] {
  const changes: string[] = [];
  const was = providerSections(before);
  const is = providerSections(after);
  for (const name of new Set([...was.keys(), ...is.keys()])) {
    const old = new Map((was.get(name)?.accounts ?? []).map((a) => [a.id, a]));
    const now = new Map((is.get(name)?.accounts ?? []).map((a) => [a.id, a]));
    if (was.get(name) && !is.get(name)) changes.push(`${name} disabled`);
    if (!was.get(name) && is.get(name)) changes.push(`${name} enabled`);
    for (const [id, account] of now) {
      const previous = old.get(id);
      const labels = account.keys.map((k) => k.label);
      if (!previous) {
        changes.push(`${name} account ${id} added (keys ${labels.join(', ') || 'none'})`);
        continue;
      }
      const oldLabels = previous.keys.map((k) => k.label);
      const added = labels.filter((l) => !oldLabels.includes(l));
      const removed = oldLabels.filter((l) => !labels.includes(l));
      const parts = [...added.map((l) => `+key ${l}`), ...removed.map((l) => `-key ${l}`)];
      for (const key of account.keys) {
        const was = previous.keys.find((k) => k.label === key.label);
        if (!was) continue;
        const window = (k: CredentialKey) =>
          `${k.notBefore?.toISOString() ?? '-'}..${k.notAfter?.toISOString() ?? '-'}`;
        if (window(was) !== window(key)) parts.push(`key ${key.label} valid ${window(key)}`);
        else if (fingerprint(was) !== fingerprint(key)) parts.push(`key ${key.label} replaced`);
      }
      if (parts.length > 0) changes.push(`${name} account ${id}: ${parts.join(', ')}`);
      else if (fingerprint({ ...previous, keys: [] }) !== fingerprint({ ...account, keys: [] }))
        changes.push(`${name} account ${id}: settings changed`);
    }
    for (const id of old.keys()) if (!now.has(id)) changes.push(`${name} account ${id} removed`);
  }
  return changes;
}

/** Everything about an account, secrets included, as one comparable text (never logged). */
function fingerprint(item: Account | CredentialKey): string {
  return JSON.stringify({ ...item, source: undefined }, (key, value: unknown) =>
    key === 'allowlist' ? ((value as AddressAllowlist | null)?.entries ?? null) : value,
  );
}
