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
 * One HTTP request to a provider's API. Resolves with the status and the body (parsed when it is
 * JSON), or with an `unavailable` answer when the provider cannot be reached, answers a redirect
 * (never followed: our credentials go to the configured host only), answers more than `maxBytes`
 * (read as a stream and dropped at the cap) or has not finished its answer — headers and body —
 * within `timeoutMs`.
 */
export async function requestProvider(
  url: string,
  init: { method: 'POST'; headers: Record<string, string>; body: string },
  timeoutMs = INQUIRY_TIMEOUT_MS,
  maxBytes = INQUIRY_MAX_BYTES,
): Promise<HttpAnswer | Unavailable> {
  const host = new URL(url).host;
  const unavailable = (reason: string): Unavailable => ({
    kind: 'unavailable',
    reason: `${host}: ${reason}`,
  });
  const controller = new AbortController();
  let timedOut = false;
  let complete = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, timeoutMs);
  try {
    const response = await fetch(url, { ...init, redirect: 'manual', signal: controller.signal });
    if (response.status >= 300 && response.status < 400) {
      const target = redirectTarget(response.headers.get('location'), url);
      return unavailable(
        `answered HTTP ${response.status}, a redirect${target ? ` to ${target}` : ''}: redirects are not followed`,
      );
    }
    const tooLarge = unavailable(`answer larger than ${maxBytes} bytes`);
    const declared = Number(response.headers.get('content-length') ?? '');
    if (Number.isFinite(declared) && declared > maxBytes) return tooLarge;
    const chunks: Uint8Array[] = [];
    let size = 0;
    if (response.body) {
      const reader = response.body.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        size += value.byteLength;
        if (size > maxBytes) return tooLarge;
        chunks.push(value);
      }
    }
    complete = true;
    const text = Buffer.concat(chunks).toString('utf8');
    let json: unknown = undefined;
    try {
      json = JSON.parse(text);
    } catch {
      // Not JSON: the caller decides from the status.
    }
    return { status: response.status, text, json };
  } catch (error) {
    if (timedOut) return unavailable(`no complete answer within ${timeoutMs} ms`);
    const cause = (error as Error & { cause?: Error }).cause;
    return unavailable(cause?.message ?? (error as Error).message);
  } finally {
    clearTimeout(timer);
    // Whatever is left of the answer is not read: the connection is closed, not drained.
    if (!complete) controller.abort();
  }
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
