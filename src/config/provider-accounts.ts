import { AddressAllowlist, splitList } from '../common/address-allowlist.js';
import { snapAccounts } from './snap/snap.accounts.js';
import { accountSections, fileKeys, type FileAccountEntry } from './account-sections.js';
import {
  PROVIDER_NAMES,
  type Account,
  type McpaymentAccount,
  type NicepayAccount,
  type ProviderAccounts,
  type ProvidersConfig,
  type S88payAccount,
  type UrlTokenAccount,
} from './accounts.js';
import type { AccountsFile, ProviderSection } from './accounts-file.js';
import type { EnvironmentVariables } from './environment.js';

/**
 * Accounts from the environment variables (one account per provider, or one per NICEPAY iMid, as
 * before) merged with the accounts file, and the rules that span accounts: unique ids, unique key
 * labels, notBefore before notAfter, and no two accounts a callback could not be told apart by.
 */

const ENVIRONMENT = 'environment';

// Source: PROVIDERS.md (NICEPAY section), from NICEPAY's "Notification - API Checkout" page.
/** NICEPAY's published notification sources (production .33/.34, development .39/.40): the allowlist when none is set. */
export const NICEPAY_PUBLISHED_ADDRESSES = [
  '103.20.51.33',
  '103.20.51.34',
  '103.20.51.39',
  '103.20.51.40',
];

/** Production hosts, from the providers' documentation (sandboxes: dev.nicepay.co.id, api-stage.ifortepay.id). */
export const NICEPAY_PRODUCTION_API_URL = 'https://www.nicepay.co.id';
export const MCPAYMENT_PRODUCTION_API_URL = 'https://api.ifortepay.id';

const withoutTrailingSlash = (url: string) => url.replace(/\/+$/, '');
/** The id of an account described by environment variables when nothing else names it. */
export const DEFAULT_ACCOUNT = 'default';

const allowlistOf = (list: string | undefined): AddressAllowlist | null =>
  list === undefined ? null : new AddressAllowlist(splitList(list));

const envKey = { label: '1', notBefore: null, notAfter: null };

function pair(
  problems: string[],
  names: [string, string],
  values: [string | undefined, string | undefined],
): [string, string] | null {
  const [a, b] = values;
  if (a === undefined && b === undefined) return null;
  if (a === undefined || b === undefined) {
    problems.push(
      `${names[0]} and ${names[1]} must be set together (only ${a === undefined ? names[1] : names[0]} is set)`,
    );
    return null;
  }
  return [a, b];
}

function nicepayFromEnv(
  problems: string[],
  vars: EnvironmentVariables,
  allowlist: AddressAllowlist,
): NicepayAccount[] {
  const both = pair(
    problems,
    ['NICEPAY_IMID', 'NICEPAY_MERCHANT_KEY'],
    [vars.NICEPAY_IMID, vars.NICEPAY_MERCHANT_KEY],
  );
  if (!both) return [];
  const ids = splitList(both[0]);
  const keys = splitList(both[1]);
  if (keys.length !== 1 && keys.length !== ids.length) {
    problems.push(
      `NICEPAY_MERCHANT_KEY must be one key shared by every NICEPAY_IMID or a comma list with one key per iMid (${ids.length} iMids, ${keys.length} keys)`,
    );
    return [];
  }
  return ids.map((iMid, i) => ({
    id: iMid,
    iMid,
    keys: [{ ...envKey, merchantKey: keys.length === 1 ? keys[0] : keys[i] }],
    allowlist,
    source: ENVIRONMENT,
  }));
}

function section<A extends Account>(accounts: A[], allowlist: AddressAllowlist | null) {
  return accounts.length > 0 ? { allowlist, accounts } : null;
}

/** The allowlist of a file account: its own, else its section's, else the provider's default. */
function accountAllowlist(own: string | undefined, fallback: AddressAllowlist | null) {
  return own === undefined ? fallback : new AddressAllowlist(splitList(own));
}

function urlTokenProvider(
  name: 'sidopulsa' | 'ppob',
  vars: EnvironmentVariables,
  file: AccountsFile | null,
  fileName: string,
): ProviderAccounts<UrlTokenAccount> | null {
  const upper = name.toUpperCase() as 'SIDOPULSA' | 'PPOB';
  const envAllowlist = allowlistOf(vars[`${upper}_ALLOWED_IPS`]);
  const token = vars[`${upper}_CALLBACK_TOKEN`];
  const fileSection = file?.[name];
  const providerAllowlist = fileSection?.allowedIps
    ? allowlistOf(fileSection.allowedIps)
    : envAllowlist;
  const accounts: UrlTokenAccount[] = [];
  // The allowlist variable alone describes an allowlist-only account only when the file has no
  // accounts for the provider; next to them it is the provider's allowlist.
  if (token !== undefined || (envAllowlist && !fileSection)) {
    accounts.push({
      id: DEFAULT_ACCOUNT,
      keys: token === undefined ? [] : [{ ...envKey, token }],
      allowlist: envAllowlist ?? providerAllowlist,
      source: ENVIRONMENT,
    });
  }
  for (const entry of fileSection?.accounts ?? []) {
    accounts.push({
      id: entry.id,
      keys: fileKeys(entry.keys ?? [], (k) => ({ token: k.token })),
      allowlist: accountAllowlist(entry.allowedIps, providerAllowlist),
      source: fileName,
    });
  }
  return section(accounts, providerAllowlist);
}

function where(provider: string, account: Account): string {
  return `${account.source}: ${provider} account "${account.id}"`;
}

/** Rules every account set obeys, whatever described it. */
function checkAccounts(problems: string[], provider: string, accounts: readonly Account[]) {
  const seen = new Map<string, Account>();
  for (const account of accounts) {
    const earlier = seen.get(account.id);
    if (earlier) {
      problems.push(
        `${where(provider, account)}: id is already used by another ${provider} account (${earlier.source})`,
      );
    }
    seen.set(account.id, account);
    const labels = new Set<string>();
    for (const key of account.keys) {
      if (labels.has(key.label))
        problems.push(`${where(provider, account)} key "${key.label}": label is used twice`);
      labels.add(key.label);
      if (key.notBefore && key.notAfter && key.notBefore.getTime() > key.notAfter.getTime())
        problems.push(
          `${where(provider, account)} key "${key.label}": notBefore is after notAfter`,
        );
    }
  }
}

/**
 * Two accounts whose credentials would verify the same callback: attribution would depend on the
 * order of the list. `identity` gives, per key, what tells callbacks apart (never shown).
 */
function checkDistinct<A extends Account>(
  problems: string[],
  provider: string,
  accounts: readonly A[],
  identity: (account: A, key: A['keys'][number]) => string | null,
  what: string,
) {
  const owners = new Map<string, A>();
  for (const account of accounts) {
    for (const key of account.keys) {
      const id = identity(account, key);
      if (id === null) continue;
      const other = owners.get(id);
      if (other && other !== account) {
        problems.push(
          `${where(provider, account)} key "${key.label}": same ${what} as ${provider} account "${other.id}" (${other.source}); a callback could not be attributed`,
        );
      }
      owners.set(id, account);
    }
  }
}

/**
 * The accounts of the sections providers registered (account-sections.ts): the one account their
 * variables describe, then the file's, with the same rules as the built-in sections'.
 */
function registeredProviders(
  problems: string[],
  vars: EnvironmentVariables,
  sections: ReadonlyMap<string, ProviderSection<FileAccountEntry>>,
  fileName: string,
): Map<string, ProviderAccounts<Account>> {
  const found = new Map<string, ProviderAccounts<Account>>();
  for (const declared of accountSections()) {
    const fileSection = sections.get(declared.provider);
    const allowlist = allowlistOf(fileSection?.allowedIps);
    const accounts: Account[] = [];
    const fromEnvironment = declared.fromEnvironment?.(vars, problems);
    if (fromEnvironment) accounts.push({ ...fromEnvironment, allowlist, source: ENVIRONMENT });
    for (const entry of fileSection?.accounts ?? []) {
      accounts.push({
        ...declared.fromFile(entry),
        allowlist: accountAllowlist(entry.allowedIps, allowlist),
        source: fileName,
      });
    }
    checkAccounts(problems, declared.provider, accounts);
    if (declared.identity)
      checkDistinct(problems, declared.provider, accounts, declared.identity, 'credentials');
    const settings = section(accounts, allowlist);
    if (settings) found.set(declared.provider, settings);
  }
  return found;
}

/**
 * Every provider's accounts from the validated environment and the (shape-validated) accounts
 * file. Problems are appended; the result is meaningful only when none were found.
 */
export function buildProviders(
  problems: string[],
  vars: EnvironmentVariables,
  file: AccountsFile | null,
  fileName: string,
  sections: ReadonlyMap<string, ProviderSection<FileAccountEntry>> = new Map(),
): ProvidersConfig {
  const nicepaySection = file?.nicepay;
  const nicepayList = splitList(nicepaySection?.allowedIps ?? vars.NICEPAY_ALLOWED_IPS);
  const nicepayAllowlist = new AddressAllowlist(
    nicepayList.length > 0 ? nicepayList : NICEPAY_PUBLISHED_ADDRESSES,
  );
  // NICEPAY_ALLOWED_IPS stays the allowlist of the iMids it came with.
  const nicepayEnvAllowlist =
    vars.NICEPAY_ALLOWED_IPS && nicepaySection?.allowedIps
      ? new AddressAllowlist(splitList(vars.NICEPAY_ALLOWED_IPS))
      : nicepayAllowlist;
  const nicepay: NicepayAccount[] = [
    ...nicepayFromEnv(problems, vars, nicepayEnvAllowlist),
    ...(nicepaySection?.accounts ?? []).map((entry) => ({
      id: entry.id,
      iMid: entry.iMid,
      keys: fileKeys(entry.keys, (k) => ({ merchantKey: k.merchantKey })),
      allowlist: accountAllowlist(entry.allowedIps, nicepayAllowlist),
      source: fileName,
    })),
  ];

  const mcpaymentAllowlist = allowlistOf(file?.mcpayment?.allowedIps);
  const mcpayment: McpaymentAccount[] = [];
  if (vars.MCPAYMENT_SUB_MERCHANT_ID && !vars.MCPAYMENT_HASH_KEY) {
    problems.push('MCPAYMENT_SUB_MERCHANT_ID is set but MCPAYMENT_HASH_KEY is not');
  }
  if (vars.MCPAYMENT_HASH_KEY) {
    mcpayment.push({
      id: vars.MCPAYMENT_SUB_MERCHANT_ID ?? DEFAULT_ACCOUNT,
      subMerchantId: vars.MCPAYMENT_SUB_MERCHANT_ID ?? null,
      merchantId: vars.MCPAYMENT_MERCHANT_ID ?? null,
      secretUnboundId: vars.MCPAYMENT_SECRET_UNBOUND_ID ?? null,
      keys: [{ ...envKey, hashKey: vars.MCPAYMENT_HASH_KEY }],
      allowlist: mcpaymentAllowlist,
      source: ENVIRONMENT,
    });
  }
  for (const entry of file?.mcpayment?.accounts ?? []) {
    mcpayment.push({
      id: entry.id,
      subMerchantId: entry.subMerchantId ?? null,
      merchantId: entry.merchantId ?? null,
      secretUnboundId: entry.secretUnboundId ?? null,
      keys: fileKeys(entry.keys, (k) => ({ hashKey: k.hashKey })),
      allowlist: accountAllowlist(entry.allowedIps, mcpaymentAllowlist),
      source: fileName,
    });
  }

  const s88payAllowlist = allowlistOf(file?.s88pay?.allowedIps);
  const s88pay: S88payAccount[] = [];
  const s88payEnv = pair(
    problems,
    ['S88PAY_API_KEY', 'S88PAY_SECRET_KEY'],
    [vars.S88PAY_API_KEY, vars.S88PAY_SECRET_KEY],
  );
  if (s88payEnv) {
    s88pay.push({
      id: DEFAULT_ACCOUNT,
      merchantCode: vars.S88PAY_MERCHANT_CODE ?? null,
      namedByMerchantCode: true,
      keys: [{ ...envKey, apiKey: s88payEnv[0], secretKey: s88payEnv[1] }],
      allowlist: s88payAllowlist,
      source: ENVIRONMENT,
    });
  }
  for (const entry of file?.s88pay?.accounts ?? []) {
    s88pay.push({
      id: entry.id,
      merchantCode: entry.merchantCode ?? null,
      namedByMerchantCode: false,
      keys: fileKeys(entry.keys, (k) => ({ apiKey: k.apiKey, secretKey: k.secretKey })),
      allowlist: accountAllowlist(entry.allowedIps, s88payAllowlist),
      source: fileName,
    });
  }

  const nicepayInquiry =
    vars.NICEPAY_VERIFY === 'off'
      ? null
      : { apiUrl: withoutTrailingSlash(vars.NICEPAY_API_URL ?? NICEPAY_PRODUCTION_API_URL) };
  // MCPayment and S88Pay verify only once their API credentials are given (then for every account).
  const mcpaymentInquiry =
    vars.MCPAYMENT_VERIFY === 'off' ||
    !mcpayment.some((account) => account.merchantId && account.secretUnboundId)
      ? null
      : { apiUrl: withoutTrailingSlash(vars.MCPAYMENT_API_URL ?? MCPAYMENT_PRODUCTION_API_URL) };
  // S88Pay: verified by default once a merchant code (part of the status URL) is given; asked for
  // explicitly (S88PAY_VERIFY=inquiry), it needs one. There is no documented production host.
  const s88payVerified =
    s88pay.length > 0 &&
    (vars.S88PAY_VERIFY === 'inquiry' ||
      (vars.S88PAY_VERIFY !== 'off' && s88pay.some((account) => account.merchantCode)));
  const s88payInquiry =
    s88payVerified && vars.S88PAY_API_URL
      ? { apiUrl: withoutTrailingSlash(vars.S88PAY_API_URL) }
      : null;
  if (s88payVerified && !vars.S88PAY_API_URL) {
    problems.push(
      'S88PAY_API_URL must be set: S88Pay callbacks are confirmed with its transaction status API before they are published ' +
        '(the AES key proves who sent a callback, not that its status is current); set S88PAY_VERIFY=off to publish on the decryption alone',
    );
  }
  // Secure default: a configured MCPayment is verified; without the inquiry credentials the
  // gateway refuses to start rather than publish on a signature that leaves status and amounts open.
  if (mcpayment.length > 0 && vars.MCPAYMENT_VERIFY !== 'off' && !mcpaymentInquiry) {
    problems.push(
      'MCPAYMENT_MERCHANT_ID and MCPAYMENT_SECRET_UNBOUND_ID must be set: MCPayment callbacks are confirmed with its inquiry API before they are published ' +
        '(the mcp-signature leaves status and amounts unsigned); set MCPAYMENT_VERIFY=off to publish on the signature alone',
    );
  }
  if (mcpaymentInquiry) {
    for (const account of mcpayment.filter((a) => !a.merchantId || !a.secretUnboundId))
      problems.push(
        `${where('mcpayment', account)}: needs merchantId and secretUnboundId (MCPAYMENT_MERCHANT_ID, MCPAYMENT_SECRET_UNBOUND_ID for the environment account): its status is verified with them like the other accounts' (MCPAYMENT_VERIFY=off turns verification off)`,
      );
  }
  if (s88payInquiry) {
    for (const account of s88pay.filter((a) => !a.merchantCode))
      problems.push(
        `${where('s88pay', account)}: needs merchantCode (S88PAY_MERCHANT_CODE for the environment account): its status is verified with it like the other accounts' (S88PAY_VERIFY=off turns verification off)`,
      );
  }

  const withInquiry = <T extends object, I>(settings: T | null, inquiry: I) =>
    settings && { ...settings, inquiry };
  const providers: ProvidersConfig = {
    s88pay: withInquiry(section(s88pay, s88payAllowlist), s88payInquiry),
    mcpayment: withInquiry(section(mcpayment, mcpaymentAllowlist), mcpaymentInquiry),
    nicepay: withInquiry(section(nicepay, nicepayAllowlist), nicepayInquiry),
    sidopulsa: urlTokenProvider('sidopulsa', vars, file, fileName),
    ppob: urlTokenProvider('ppob', vars, file, fileName),
    snap: snapAccounts(problems, file?.snap, fileName),
  } as ProvidersConfig;
  // Not enumerable: the object's own fields stay the built-in sections (what Object.values of it
  // has always listed); providerSections() lists both.
  Object.defineProperty(providers, 'extra', {
    value: registeredProviders(problems, vars, sections, fileName),
    enumerable: false,
  });

  for (const name of PROVIDER_NAMES) {
    const settings = providers[name] as ProviderAccounts<Account> | null;
    if (settings) checkAccounts(problems, name, settings.accounts);
  }
  checkDistinct(problems, 'nicepay', nicepay, (account) => account.iMid, 'iMid');
  checkDistinct(
    problems,
    'mcpayment',
    mcpayment,
    (account, key) => JSON.stringify([key.hashKey, account.subMerchantId]),
    'hash key and sub-merchant id',
  );
  // Accounts may share S88Pay keys when their merchant codes tell the payloads apart.
  checkDistinct(
    problems,
    's88pay',
    s88pay,
    (account, key) => JSON.stringify([key.apiKey, key.secretKey, account.merchantCode]),
    'api key, secret key and merchant code',
  );
  checkDistinct(
    problems,
    's88pay',
    s88pay.filter((account) => account.merchantCode === null),
    (_account, key) => JSON.stringify([key.apiKey, key.secretKey]),
    'api key and secret key (give both accounts their merchantCode)',
  );
  for (const name of ['sidopulsa', 'ppob'] as const) {
    const accounts = providers[name]?.accounts ?? [];
    checkDistinct(problems, name, accounts, (_account, key) => key.token, 'URL token');
    const tokenless = accounts.filter((account) => account.keys.length === 0);
    for (const account of tokenless) {
      if (!account.allowlist)
        problems.push(
          `${where(name, account)}: has no keys (URL tokens) and no allowedIps: nothing would authenticate its callbacks`,
        );
    }
    if (tokenless.length > 1) {
      problems.push(
        `${where(name, tokenless[1])}: has no keys (URL tokens), like ${name} account "${tokenless[0].id}"; only one account can be reached without a token`,
      );
    }
  }
  return providers;
}
