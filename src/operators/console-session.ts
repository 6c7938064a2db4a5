import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Operator } from './operator.js';
import type { OperatorDirectory } from './operator-directory.js';

/**
 * The console's session: an HttpOnly, SameSite=Strict cookie holding the operator's name and an
 * expiry, signed (HMAC-SHA256) with a value derived from that operator's stored key digest
 * (OperatorDirectory.sessionSecret): no session table, every replica accepts it, and a new key
 * or a removed operator ends it. The role is read from the operators file at each request.
 */
export const SESSION_COOKIE = 'gw_console';
export const SESSION_SECONDS = 8 * 3600;

const mac = (secret: Buffer, text: string) =>
  createHmac('sha256', secret).update(text, 'utf8').digest('base64url');

const sameText = (a: string, b: string) =>
  a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

export function sessionCookie(
  directory: OperatorDirectory,
  name: string,
  secure: boolean,
  now = Date.now(),
): string | null {
  const found = directory.sessionSecret(name);
  if (!found) return null;
  const payload = Buffer.from(
    JSON.stringify({ n: name, e: Math.floor(now / 1000) + SESSION_SECONDS }),
  ).toString('base64url');
  const value = `${payload}.${mac(found.secret, payload)}`;
  return `${SESSION_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${SESSION_SECONDS}${secure ? '; Secure' : ''}`;
}

export const clearedSessionCookie = `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0`;

function cookieValue(req: IncomingMessage): string | null {
  const header = req.headers.cookie;
  if (typeof header !== 'string') return null;
  for (const part of header.split(';')) {
    const [name, ...rest] = part.trim().split('=');
    if (name === SESSION_COOKIE) return rest.join('=');
  }
  return null;
}

export interface Session {
  operator: Operator;
  /** The form token of this session: proves a POST came from a page the gateway rendered. */
  csrfToken: string;
}

export function readSession(
  req: IncomingMessage,
  directory: OperatorDirectory,
  now = Date.now(),
): Session | null {
  const value = cookieValue(req);
  if (!value || value.length > 1024) return null;
  const [payload, signature] = value.split('.');
  if (!payload || !signature) return null;
  let claims: { n?: unknown; e?: unknown };
  try {
    claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as typeof claims;
  } catch {
    return null;
  }
  if (typeof claims.n !== 'string' || typeof claims.e !== 'number') return null;
  if (claims.e * 1000 <= now) return null;
  const found = directory.sessionSecret(claims.n);
  if (!found || !sameText(signature, mac(found.secret, payload))) return null;
  return { operator: found.operator, csrfToken: mac(found.secret, `csrf:${payload}`) };
}

export const csrfMatches = (session: Session, token: unknown): boolean =>
  typeof token === 'string' && sameText(token, session.csrfToken);

/**
 * A state-changing request authenticated by the cookie must come from the gateway's own pages:
 * the browser's Origin (or Sec-Fetch-Site) says so. SameSite=Strict already keeps the cookie off
 * other sites' requests; this also refuses a same-site but foreign origin.
 */
export function fromOwnOrigin(req: IncomingMessage): boolean {
  const site = req.headers['sec-fetch-site'];
  if (typeof site === 'string') return site === 'same-origin';
  const origin = req.headers.origin;
  if (typeof origin !== 'string') return false;
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}
