import { randomBytes } from 'node:crypto';
import { type Account, currentKey, type ProviderAccounts } from '../config/accounts.js';
import type { EventDomain, EventStatus } from '../events/normalized-transaction.js';

/**
 * Developer tooling only (the simulate CLI and POST /dev/sign/:provider): what a provider would
 * send for one transaction state, signed or encrypted with the gateway's own functions.
 */
export interface SimulatedRequest {
  provider: string;
  method: 'GET' | 'POST';
  /** Path and query; for Sidopulsa / PPOB it contains the configured URL token. */
  path: string;
  /** `path` with the URL token (if any) replaced by `…`, for printing. */
  displayPath: string;
  headers: Record<string, string>;
  /** The exact body text to send (none for GET). */
  body?: string;
  /** The provider's own status value sent, and what the gateway turns it into. */
  providerStatus: string;
  status: EventStatus;
  /** The event this request must become. */
  routingKey: string;
  reference: string;
}

/** A status the provider does not have; the message lists the accepted ones. */
export class UnknownStatusError extends Error {
  constructor(
    readonly provider: string,
    readonly status: string,
    readonly accepted: string[],
    anyCase = false,
  ) {
    super(
      `Unknown ${provider} status ${JSON.stringify(status)}: expected one of ${accepted.join(', ')}` +
        (anyCase ? ' (any case)' : ''),
    );
  }
}

export interface StatusVocabulary {
  displayName: string;
  /** The settings that turn the provider on, for messages: `NICEPAY_IMID and NICEPAY_MERCHANT_KEY`. */
  configuredBy: string;
  /** The provider's table: its own status values (as the provider writes them) → normalized. */
  table: Record<string, EventStatus>;
  /** How an input is folded before lookup (case-insensitive providers). */
  fold?: (value: string) => string;
}

/** Every status a simulator accepts: the provider's own values, then the normalized names. */
export function acceptedStatuses(vocabulary: StatusVocabulary): string[] {
  const fold = vocabulary.fold ?? ((value: string) => value);
  const own = Object.keys(vocabulary.table);
  const folded = own.map(fold);
  const normalized = [...new Set(Object.values(vocabulary.table))].filter(
    (s) => !folded.includes(fold(s)),
  );
  return [...own, ...normalized];
}

/**
 * The provider value to send for `input`: a provider value as given (folded to the table's
 * spelling), else the first provider value of a normalized status.
 */
export function resolveStatus(
  vocabulary: StatusVocabulary,
  input: string,
): { providerStatus: string; status: EventStatus } {
  const fold = vocabulary.fold ?? ((value: string) => value);
  const wanted = fold(input.trim());
  const own = Object.keys(vocabulary.table).find((key) => fold(key) === wanted);
  if (own !== undefined) return { providerStatus: own, status: vocabulary.table[own] };
  const normalized = Object.entries(vocabulary.table).find(
    ([, status]) => status === input.trim().toLowerCase(),
  );
  if (normalized) return { providerStatus: normalized[0], status: normalized[1] };
  throw new UnknownStatusError(
    vocabulary.displayName,
    input,
    acceptedStatuses(vocabulary),
    vocabulary.fold !== undefined,
  );
}

let sequence = Math.floor(Math.random() * 10_000);

/** `digits` decimal digits, different on every call of this process (counter + random start). */
export function uniqueDigits(digits: number): string {
  sequence = (sequence + 1) % 10 ** Math.min(digits, 6);
  const counter = String(sequence).padStart(Math.min(digits, 6), '0');
  let random = '';
  while (random.length < digits - counter.length) random += String(randomBytes(1)[0] % 10);
  return random + counter;
}

/** Upper-case hex, unique enough for a reference (8 characters = 32 random bits). */
export function uniqueHex(chars = 8): string {
  return randomBytes(Math.ceil(chars / 2))
    .toString('hex')
    .slice(0, chars)
    .toUpperCase();
}

/** Wall-clock parts in Jakarta time (UTC+7), which every provider here writes local times in. */
export function jakartaParts(date = new Date()) {
  const local = new Date(date.getTime() + 7 * 3_600_000).toISOString();
  return {
    date: local.slice(0, 10).replaceAll('-', ''), // YYYYMMDD
    time: local.slice(11, 19).replaceAll(':', ''), // HHMMSS
    iso: `${local.slice(0, 23)}+07:00`, // 2025-11-21T12:05:12.136+07:00
  };
}

/** The default merchant reference when none is given: unique per call. */
export function defaultReference(date = new Date()): string {
  return `SIM-${jakartaParts(date).date}-${uniqueHex()}`;
}

export function routingKeyOf(domain: EventDomain, status: EventStatus, provider: string): string {
  return `${domain}.${status}.${provider}`;
}

/** Refuses an empty reference (every provider requires one). */
export function referenceOrDefault(reference: string | undefined): string {
  if (reference === undefined) return defaultReference();
  if (reference.trim() === '') throw new Error('The reference must not be empty');
  return reference;
}

/**
 * Path of a URL-token provider (Sidopulsa, PPOB): `/callbacks/<provider>/<token>?query` when a
 * token is configured, else `/callbacks/<provider>?query`; displayPath shows the token as `…`.
 */
export function urlTokenPaths(
  provider: string,
  token: string | null,
  query: Record<string, string>,
): { path: string; displayPath: string } {
  const search = new URLSearchParams(query).toString();
  const base = `/callbacks/${provider}`;
  return token === null
    ? { path: `${base}?${search}`, displayPath: `${base}?${search}` }
    : {
        path: `${base}/${encodeURIComponent(token)}?${search}`,
        displayPath: `${base}/…?${search}`,
      };
}

/**
 * What a simulated callback is signed with: the first account that has a key valid now, and that
 * key (the newest of a rotation); for providers whose accounts may have no key (URL tokens), the
 * first account and null.
 */
export function signingAccount<A extends Account>(
  settings: ProviderAccounts<A>,
  displayName: string,
  keyRequired = true,
): { account: A; key: A['keys'][number] | null } {
  for (const account of settings.accounts) {
    const key = currentKey(account);
    if (key) return { account, key };
  }
  const first = settings.accounts[0];
  if (first && (!keyRequired || first.keys.length === 0)) return { account: first, key: null };
  throw new Error(`${displayName} has no account with a key valid now`);
}
