import { ForbiddenException } from '@nestjs/common';
import { type Account, type CredentialKey, keyValidAt } from '../config/accounts.js';
import type { InboundCallback } from './callback-provider.js';
import { unauthorized } from './callback-errors.js';

/**
 * How a provider finds the account and key a callback belongs to: the accounts whose allowlist
 * admits the sender, then their keys one by one (each comparison constant-time in the provider's
 * test). The work is bounded by the number of configured keys.
 */

/** The accounts whose allowlist admits the client; 403 when accounts exist but none does. */
export function accountsAllowing<A extends Account>(
  accounts: readonly A[],
  inbound: InboundCallback,
  provider: string,
): A[] {
  const allowed = accounts.filter(
    (account) => account.allowlist === null || account.allowlist.allows(inbound.clientIp),
  );
  if (allowed.length === 0) {
    throw new ForbiddenException(
      `Source address ${inbound.clientIp} is not allowed to send ${provider} callbacks`,
    );
  }
  return allowed;
}

export interface CredentialMatch<A extends Account> {
  account: A;
  key: A['keys'][number];
}

export interface MatchResult<A extends Account> {
  /** The first account and key (in configuration order) valid now that the callback matched. */
  match: CredentialMatch<A> | null;
  /** When nothing valid matched: a key outside its notBefore / notAfter that did. */
  outOfDate: CredentialMatch<A> | null;
}

/**
 * Tries `test` with every key of every account valid at `at`; only when none matches, the keys
 * outside their validity, so the refusal can say a retired (or not yet valid) key was used.
 * `exhaustive`: keep testing after a match, so the time taken does not depend on which account
 * matched (cheap tests); otherwise stop at the first (costly tests, e.g. a decryption).
 */
export function matchCredential<A extends Account>(
  accounts: readonly A[],
  at: Date,
  test: (account: A, key: A['keys'][number]) => boolean,
  exhaustive = true,
): MatchResult<A> {
  let match: CredentialMatch<A> | null = null;
  for (const account of accounts) {
    for (const key of account.keys) {
      if (!keyValidAt(key, at)) continue;
      if (test(account, key) && match === null) {
        match = { account, key };
        if (!exhaustive) return { match, outOfDate: null };
      }
    }
  }
  if (match) return { match, outOfDate: null };
  for (const account of accounts) {
    for (const key of account.keys) {
      if (!keyValidAt(key, at) && test(account, key))
        return { match: null, outOfDate: { account, key } };
    }
  }
  return { match: null, outOfDate: null };
}

function validity(key: CredentialKey): string {
  const parts = [
    key.notBefore ? `notBefore ${key.notBefore.toISOString()}` : null,
    key.notAfter ? `notAfter ${key.notAfter.toISOString()}` : null,
  ].filter((part) => part !== null);
  return parts.join(', ');
}

/**
 * The account and key a match proved; a match with a key outside its validity, or none, is a
 * 401 (`refused` is the message for no match at all).
 */
export function requireMatch<A extends Account>(
  result: MatchResult<A>,
  at: Date,
  provider: string,
  refused: string,
): CredentialMatch<A> {
  if (result.match) return result.match;
  if (result.outOfDate) {
    const { account, key } = result.outOfDate;
    throw unauthorized(
      `${provider} callback matches key "${key.label}" of account "${account.id}", which is not valid at ${at.toISOString()} (${validity(key)})`,
    );
  }
  throw unauthorized(refused);
}
