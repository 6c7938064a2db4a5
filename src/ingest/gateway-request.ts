import type { Request } from 'express';
import type { InboundCallback, VerifiedCallback } from './callback-provider.js';

/** The Express request as the gateway decorates it. */
export interface GatewayRequest extends Request {
  rawBody?: Buffer;
  /** The client address (plainAddress of `req.ip`), once worked out for this request. */
  clientAddress?: string;
  /** Set by the provider's guard once the callback is authenticated. */
  callback?: { provider: string; inbound: InboundCallback; verified?: VerifiedCallback };
}

/** `::ffff:10.0.0.1` → `10.0.0.1`, so allowlists and records show plain IPv4. */
export function plainAddress(address: string | undefined): string {
  if (!address) return 'unknown';
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

/**
 * `req.ip` (X-Forwarded-For walked through TRUSTED_PROXIES) made plain, worked out once per
 * request: Express parses the header again on every read of `req.ip`.
 */
export function clientAddressOf(req: GatewayRequest): string {
  req.clientAddress ??= plainAddress(req.ip ?? req.socket.remoteAddress);
  return req.clientAddress;
}

export function inboundFrom(req: GatewayRequest): InboundCallback {
  const queryStart = req.originalUrl.indexOf('?');
  const queryString = queryStart >= 0 ? req.originalUrl.slice(queryStart + 1) : '';
  // GET callbacks carry their fields in the query: the query string is what is verified and what
  // is stored as the raw request; a body sent along is ignored (never parsed into fields, never
  // stored), so what is kept is always what the event was built from.
  const get = req.method === 'GET';
  const rawBody = get ? Buffer.from(queryString) : (req.rawBody ?? Buffer.alloc(0));
  const routePath = (req.route as { path?: string } | undefined)?.path;
  return {
    method: req.method,
    // Guards only run on a matched route; the fallback never shows a path segment.
    path: typeof routePath === 'string' ? routePath : '/callbacks/:unrouted',
    headers: req.headers,
    query: (req.query ?? {}) as Record<string, unknown>,
    params: (req.params ?? {}) as Record<string, string>,
    body: get ? undefined : req.body,
    rawBody,
    contentType: req.headers['content-type'],
    clientIp: clientAddressOf(req),
    receivedAt: new Date(),
  };
}
