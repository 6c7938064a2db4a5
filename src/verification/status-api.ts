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
  /** The provider's answer as received (parsed), stored with a reconciliation record. */
  raw: Record<string, unknown>;
  /** Something in the answer the gateway had to guess about (an undocumented status code, …). */
  warnings: string[];
}

/**
 * - `found`: the provider answered about the transaction.
 * - `unknown`: the provider does not know it (or refuses to confirm it): never publish.
 * - `unavailable`: network error, timeout, 5xx or a provider-side retry code: ask again later.
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
  /** Whether the provider's callbacks are configured at all (for the start-up warning). */
  isConfigured(): boolean;
  /** What the callback scheme alone leaves unproven, named in the warning when verification is off. */
  readonly unprovenWithout: string;
  inquire(query: StatusQuery): Promise<InquiryAnswer>;
  /**
   * Provider-specific facts the report must agree on beyond status, amount, currency, reference
   * and transaction id (e.g. the refunded total); each entry names one disagreement.
   */
  mismatches?(query: StatusQuery, report: ProviderReport): string[];
}

/** How long one inquiry may take before it counts as "provider unavailable". */
export const INQUIRY_TIMEOUT_MS = 10_000;

export interface HttpAnswer {
  status: number;
  text: string;
  json: unknown;
}

/**
 * One HTTP request to a provider's API, with a timeout. Resolves with the status and the body
 * (parsed when it is JSON), or with an `unavailable` answer when the provider cannot be reached.
 */
export async function requestProvider(
  url: string,
  init: { method: 'POST'; headers: Record<string, string>; body: string },
  timeoutMs = INQUIRY_TIMEOUT_MS,
): Promise<HttpAnswer | Extract<InquiryAnswer, { kind: 'unavailable' }>> {
  let response: Response;
  let text: string;
  try {
    response = await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
    text = await response.text();
  } catch (error) {
    const cause = (error as Error & { cause?: Error }).cause;
    const reason =
      (error as Error).name === 'TimeoutError'
        ? `no answer within ${timeoutMs} ms`
        : (cause?.message ?? (error as Error).message);
    return { kind: 'unavailable', reason: `${new URL(url).host}: ${reason}` };
  }
  let json: unknown = undefined;
  try {
    json = JSON.parse(text);
  } catch {
    // Not JSON: the caller decides from the status.
  }
  return { status: response.status, text, json };
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
