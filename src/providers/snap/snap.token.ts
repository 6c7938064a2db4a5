import { createHmac, randomBytes } from 'node:crypto';
import { keyValidAt, type SnapAccount } from '../../config/accounts.js';
import { constantTimeEqual } from '../../common/constant-time.js';

/**
 * Family B: the gateway (the merchant) issues the provider's access token. The token is
 * self-contained — account, expiry and a nonce, MACed with the account's client secret — so every
 * replica accepts what any replica issued and nothing is stored; it dies with its expiry or with
 * the key it was issued under.
 */

const b64url = (bytes: Buffer | string) => Buffer.from(bytes).toString('base64url');

function mac(secret: string, payload: string): string {
  return createHmac('sha256', secret)
    .update(`snap-b2b-token:${payload}`, 'utf8')
    .digest('base64url');
}

/** A token for `account` valid `ttlSeconds`, MACed with the client secret of `keySecret`. */
export function issueToken(
  account: SnapAccount,
  keySecret: string,
  ttlSeconds: number,
  now = new Date(),
): string {
  const payload = b64url(
    JSON.stringify({
      a: account.id,
      e: Math.floor(now.getTime() / 1000) + ttlSeconds,
      n: randomBytes(12).toString('base64url'),
    }),
  );
  return `${payload}.${mac(keySecret, payload)}`;
}

/** Why a presented token is refused, or null when it was issued for `account` and is still valid. */
export function tokenProblem(account: SnapAccount, token: string, now: Date): string | null {
  const [payload, presented, extra] = token.split('.');
  if (!payload || !presented || extra !== undefined)
    return 'the access token is not one the gateway issued';
  let claims: { a?: unknown; e?: unknown };
  try {
    claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as typeof claims;
  } catch {
    return 'the access token is not one the gateway issued';
  }
  // The MAC first, with every key valid now: an unsigned payload says nothing.
  const genuine = account.keys
    .filter((key) => key.clientSecret && keyValidAt(key, now))
    .map((key) => constantTimeEqual(presented, mac(key.clientSecret!, payload)))
    .some(Boolean);
  if (!genuine || claims.a !== account.id)
    return 'the access token is not one the gateway issued for this account';
  if (typeof claims.e !== 'number' || claims.e * 1000 < now.getTime())
    return 'the access token has expired';
  return null;
}
