import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { Readable, Transform } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import type { EventStatus } from '../events/normalized-transaction.js';

/** What the gateway knows about a transaction when it asks the provider about it. */
export interface StatusQuery {
  account: string;
  providerTransactionId: string | null;
  merchantReference: string;
  amount: string | null;
  currency: string;
  paymentMethod: string | null;
  channel: string | null;
  /** The callback's fields as the provider sent them (decrypted / decoded). */
  raw: Record<string, unknown>;
}

/** The provider's own account of the transaction, normalized. */
export interface ProviderReport {
  status: EventStatus;
  providerStatus: string;
  providerTransactionId: string | null;
  merchantReference: string | null;
  amount: string | null;
  currency: string | null;
  // Facts read from the answer in the callback mappers' vocabularies (normalize()), null when the
  // answer does not state them. Every parser sets all five; they are optional in the type only so
  // that reports built elsewhere (test fixtures) stay valid.
  /** Total refunded so far, a canonical decimal (MCPayment: the sum of `refund_history`). */
  refundedTotal?: string | null;
  /** `card`, `virtual_account`, `ewallet`, … */
  paymentMethod?: string | null;
  /** Bank / issuer / channel code, upper case. */
  channel?: string | null;
  /** Fee, a decimal string. */
  fee?: string | null;
  /** When the provider says it happened: RFC 3339 in UTC (`2025-11-21T05:05:12.136Z`). */
  occurredAt?: string | null;
  /** The provider's answer as received (parsed), stored with a reconciliation record. */
  raw: Record<string, unknown>;
  /** Something in the answer the gateway had to guess about (an undocumented status code, …). */
  warnings: string[];
}

/** A fact an answer must state to be taken as a confirmation. */
export type RequiredFact = 'providerTransactionId' | 'merchantReference' | 'amount' | 'currency';

/** Every fact: for a provider whose answer names the transaction by both ids. */
export const EVERY_FACT: ReadonlyArray<RequiredFact> = [
  'providerTransactionId',
  'merchantReference',
  'amount',
  'currency',
];

/**
 * - `found`: the provider answered about the transaction, in the documented shape.
 * - `unknown`: a well-formed answer saying the provider does not know it (or refuses to confirm
 *   it): never publish.
 * - `unavailable`: network error, timeout, redirect, oversized or malformed answer, 5xx or a
 *   provider-side retry code: ask again later.
 * - `refused`: the provider refused our credentials (configuration error): ask again later, loudly.
 */
export type InquiryAnswer =
  | { kind: 'found'; report: ProviderReport }
  | { kind: 'unknown'; reason: string; raw?: Record<string, unknown> }
  | { kind: 'unavailable'; reason: string }
  | { kind: 'refused'; reason: string };

/**
 * A provider's status API (src/providers/<name>/<name>.status-api.ts). The verification pipeline
 * calls it and compares the report with the callback; it never names a provider.
 */
export interface ProviderStatusApi {
  /** The CallbackProvider name it answers for: `nicepay`. */
  readonly provider: string;
  /** False when <PROVIDER>_VERIFY=off or the provider is not configured. */
  isEnabled(): boolean;
  /**
   * Whether this account's callbacks are hints (unset: every account's). SNAP: only the accounts
   * whose profile's family does not sign the body.
   */
  verifiesAccount?(account: string): boolean;
  /** The accounts `verifiesAccount` admits (reconciliation asks about only these); unset: all. */
  verifiedAccounts?(): string[];
  /** Whether the provider's callbacks are configured at all (for the start-up warning). */
  isConfigured(): boolean;
  /** What the callback scheme alone leaves unproven, named in the warning when verification is off. */
  readonly unprovenWithout: string;
  /** The facts a `found` report must state (non-null) to be taken as a confirmation. */
  readonly requiredFacts: ReadonlyArray<RequiredFact>;
  /**
   * The parameters of the inquiry request this query sends (JSON of an array): queries with the
   * same key ask the provider the same question, so one inquiry can answer all of them.
   */
  queryKey(query: StatusQuery): string;
  inquire(query: StatusQuery): Promise<InquiryAnswer>;
  /**
   * Provider-specific facts the report must agree on beyond status, amount, currency, reference
   * and transaction id (e.g. the refunded total); each entry names one disagreement.
   */
  mismatches?(query: StatusQuery, report: ProviderReport): string[];
}

/** How long one inquiry may take, headers and body, before it counts as "provider unavailable". */
export const INQUIRY_TIMEOUT_MS = 10_000;

/** Largest answer read (a status answer is a few KB); a larger one is dropped unread. */
export const INQUIRY_MAX_BYTES = 1024 * 1024;

export interface HttpAnswer {
  status: number;
  text: string;
  json: unknown;
}

type Unavailable = Extract<InquiryAnswer, { kind: 'unavailable' }>;

/** The host a redirect points at, for the reason ('' when there is no usable Location). */
function redirectTarget(location: string | null, base: string): string {
  if (!location) return '';
  try {
    return new URL(location, base).host;
  } catch {
    return '';
  }
}

/**
 * Connections to providers' APIs are kept open between inquiries (one pool per scheme). Node's
 * own client, not `fetch`: undici's fetch cost the gateway several times the CPU per inquiry
 * (WHATWG streams, Headers, AbortSignal), measured with verification on (issue 28).
 */
const agents = {
  'http:': new HttpAgent({ keepAlive: true }),
  'https:': new HttpsAgent({ keepAlive: true }),
};

/** Content codings an answer may use (asked for as `fetch` did), decoded before the cap. */
function decoderFor(encoding: string | undefined): Transform | null | undefined {
  switch ((encoding ?? '').trim().toLowerCase()) {
    case '':
    case 'identity':
      return null;
    case 'gzip':
    case 'x-gzip':
      return createGunzip();
    case 'deflate':
      return createInflate();
    case 'br':
      return createBrotliDecompress();
    default:
      return undefined;
  }
}

/**
 * One HTTP request to a provider's API. Resolves with the status and the body (parsed when it is
 * JSON), or with an `unavailable` answer when the provider cannot be reached, answers a redirect
 * (never followed: our credentials go to the configured host only), answers more than `maxBytes`
 * (read as a stream and dropped at the cap) or has not finished its answer — headers and body —
 * within `timeoutMs`.
 */
export function requestProvider(
  url: string,
  init: { method: 'POST'; headers: Record<string, string>; body: string },
  timeoutMs = INQUIRY_TIMEOUT_MS,
  maxBytes = INQUIRY_MAX_BYTES,
): Promise<HttpAnswer | Unavailable> {
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    // Configuration validates every API URL; the text is not echoed (it may carry credentials).
    return Promise.resolve({ kind: 'unavailable', reason: 'the provider API URL is not a URL' });
  }
  const host = target.host;
  const unavailable = (reason: string): Unavailable => ({
    kind: 'unavailable',
    reason: `${host}: ${reason}`,
  });
  const scheme =
    target.protocol === 'https:' ? 'https:' : target.protocol === 'http:' ? 'http:' : null;
  if (!scheme) return Promise.resolve(unavailable(`unsupported scheme ${target.protocol}`));
  const body = Buffer.from(init.body, 'utf8');
  return new Promise((resolve) => {
    let settled = false;
    // Settles once; whatever is left of the answer is not read: the connection is closed, not
    // drained (a complete answer leaves it to the pool).
    const finish = (answer: HttpAnswer | Unavailable, complete: boolean): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (!complete) request.destroy();
      resolve(answer);
    };
    const timer = setTimeout(
      () => finish(unavailable(`no complete answer within ${timeoutMs} ms`), false),
      timeoutMs,
    );
    const request = (scheme === 'https:' ? httpsRequest : httpRequest)(target, {
      method: init.method,
      agent: agents[scheme],
      headers: {
        accept: '*/*',
        'accept-encoding': 'gzip, deflate, br',
        ...init.headers,
        'content-length': String(body.length),
      },
    });
    request.on('error', (error: Error & { cause?: Error }) =>
      finish(unavailable(error.cause?.message ?? error.message), false),
    );
    request.on('response', (response) => {
      const status = response.statusCode ?? 0;
      if (status >= 300 && status < 400) {
        const location = redirectTarget(response.headers.location ?? null, url);
        return finish(
          unavailable(
            `answered HTTP ${status}, a redirect${location ? ` to ${location}` : ''}: redirects are not followed`,
          ),
          false,
        );
      }
      const tooLarge = () => finish(unavailable(`answer larger than ${maxBytes} bytes`), false);
      const declared = Number(response.headers['content-length'] ?? '');
      if (Number.isFinite(declared) && declared > maxBytes) return tooLarge();
      const decoder = decoderFor(response.headers['content-encoding']);
      if (decoder === undefined) {
        return finish(
          unavailable(
            `answer in an unsupported content coding ${response.headers['content-encoding']}`,
          ),
          false,
        );
      }
      const stream: Readable = decoder ? response.pipe(decoder) : response;
      const chunks: Buffer[] = [];
      let size = 0;
      stream.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > maxBytes) {
          decoder?.destroy();
          return tooLarge();
        }
        chunks.push(chunk);
      });
      stream.on('error', (error: Error) => finish(unavailable(error.message), false));
      response.on('close', () => {
        if (!response.complete) finish(unavailable('the answer was cut off'), false);
      });
      stream.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown = undefined;
        try {
          json = JSON.parse(text);
        } catch {
          // Not JSON: the caller decides from the status.
        }
        finish({ status, text, json }, true);
      });
    });
    request.end(body);
  });
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** A field as text: strings as sent, numbers as digits, anything else (null, objects) null. */
export function textOf(value: unknown): string | null {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return null;
}

const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$/;

/**
 * An answer's timestamp as RFC 3339 in UTC, when it is one with an explicit offset (`Z` or
 * `+07:00`) naming a real instant; anything else (no offset: local to whom?) is null.
 */
export function rfc3339Time(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  const match = RFC3339.exec(value.trim());
  if (!match) return null;
  const [, year, month, day, hour, minute, second] = match.map(Number);
  // Date.UTC rolls 2025-02-30 over into March: the fields must survive the round trip.
  const utc = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
  if (
    utc.getUTCFullYear() !== year ||
    utc.getUTCMonth() !== month - 1 ||
    utc.getUTCDate() !== day ||
    utc.getUTCHours() !== hour ||
    utc.getUTCMinutes() !== minute ||
    utc.getUTCSeconds() !== second
  ) {
    return null;
  }
  const fraction = (match[7] ?? '').slice(0, 4); // milliseconds: Date keeps no more
  const offset = match[8].toUpperCase();
  const parsed = new Date(
    `${match[1]}-${match[2]}-${match[3]}T${match[4]}:${match[5]}:${match[6]}${fraction}${offset}`,
  );
  return Number.isNaN(parsed.getTime()) ? null : parsed.toISOString();
}
