import type { EventStatus, NormalizedTransaction } from '../events/normalized-transaction.js';
import { topupTransaction } from './topup-callback.js';

/** One top-up order as the provider's request API needs it. */
export interface TopupOrderRequest {
  account: string;
  /** The merchant's unique refid: sent as the provider's refid / ref_id, and reused on a retry. */
  reference: string;
  product: string | null;
  destination: string | null;
  /** Postpaid: the inquiry's transaction id (PPOB `inq_id`). */
  inquiryId: string | null;
}

/**
 * The provider's answer as it is stored beside the callbacks (the same table, so the admin API
 * shows the order answer and the later report of a transaction together). Never holds a
 * credential: the path has no query, the headers none of the signature.
 */
export interface ProviderExchange {
  method: 'GET' | 'POST';
  /** Path of the request API, without a query string. */
  path: string;
  /** The provider's host, where the `callbacks.source_ip` column wants an address. */
  host: string;
  httpStatus: number;
  body: Buffer;
  /** One line: what proves the answer is the provider's. */
  verification: string;
}

export type PlacementResult =
  /**
   * The provider answered with a state of the transaction (pending, succeeded, failed): it goes
   * through the transaction state like a report would. `accountError` is set when the provider
   * refused the order because of the account (credentials, source address, balance): the order
   * fails and operators must act.
   */
  | {
      kind: 'answered';
      transaction: NormalizedTransaction;
      exchange: ProviderExchange;
      accountError?: { code: string; reason: string };
    }
  /** No usable answer (timeout, network error, 5xx, provider fault): retried with the same refid. */
  | { kind: 'retry'; reason: string };

/**
 * A provider's top-up request API (src/providers/<name>/<name>.orders.ts). The order worker
 * calls `place` and never names a provider.
 */
export interface TopupOrderClient {
  /** Lower-case provider id, as in events: `ppob`. */
  readonly provider: string;
  /** Whether this provider takes postpaid orders (an inquiry id instead of product + destination). */
  readonly supportsInquiry: boolean;
  /** False when the provider's request API is not configured: its orders are refused. */
  isEnabled(): boolean;
  place(order: TopupOrderRequest, signal: AbortSignal): Promise<PlacementResult>;
}

/** Hides a customer number in logs: `0812****214`. */
export function maskDestination(destination: string | null): string {
  if (destination === null) return '(none)';
  if (destination.length <= 7) return '*'.repeat(destination.length);
  return `${destination.slice(0, 4)}****${destination.slice(-3)}`;
}

/**
 * Sends one request to a provider API and reads the whole answer. A network error or timeout
 * is a `retry`, so is a 5xx (the provider's de-duplication by refid makes a resend safe).
 * `describe` names the request without its query (which may hold credentials).
 */
export async function exchangeWith(
  url: URL,
  init: { method: 'GET' | 'POST'; headers?: Record<string, string>; body?: string },
  signal: AbortSignal,
  describe: string,
): Promise<{ status: number; body: Buffer } | { retry: string }> {
  try {
    const res = await fetch(url, { ...init, signal, redirect: 'error' });
    const body = Buffer.from(await res.arrayBuffer());
    if (res.status >= 500) return { retry: `${describe} answered HTTP ${res.status}` };
    return { status: res.status, body };
  } catch (error) {
    const err = error as Error & { cause?: { code?: string; message?: string } };
    const why =
      err.name === 'TimeoutError' || err.name === 'AbortError'
        ? 'timed out'
        : (err.cause?.code ?? err.cause?.message ?? err.message);
    return { retry: `${describe} failed: ${why}` };
  }
}

/** The answer as a JSON object, or null when it is not one. */
export function jsonObject(body: Buffer): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(body.toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
}

/** A JSON scalar as text (`ref_id` may come back as a number), else null. */
export function textOf(value: unknown): string | null {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return null;
}

/**
 * Sends an order request and hands the answer to the provider's `interpret`; no answer is a
 * `retry`. The stored exchange names the path only, never the query.
 */
export async function requestOrder(
  request: {
    url: URL;
    method: 'GET' | 'POST';
    path: string;
    headers?: Record<string, string>;
    body?: string;
    describe: string;
  },
  signal: AbortSignal,
  interpret: (httpStatus: number, body: Buffer, exchange: ProviderExchange) => PlacementResult,
): Promise<PlacementResult> {
  const { url, method, path, headers, body, describe } = request;
  const result = await exchangeWith(url, { method, headers, body }, signal, describe);
  if ('retry' in result) return { kind: 'retry', reason: result.retry };
  return interpret(result.status, result.body, {
    method,
    path,
    host: url.host,
    httpStatus: result.status,
    body: result.body,
    verification: `answer to the order request, from ${url.origin}`,
  });
}

/**
 * The transaction an order answer tells of, identified by the merchant's refid like the report
 * that will follow it; fields the answer lacks come from the order.
 */
export function orderAnswerTransaction(
  order: TopupOrderRequest,
  answer: Record<string, unknown>,
  fields: {
    status: EventStatus;
    providerStatus: string;
    providerTransactionId: unknown;
    amount: string | null;
    code: unknown;
    destination: unknown;
    serialNumber: unknown;
  },
): NormalizedTransaction {
  return {
    ...topupTransaction({
      status: fields.status,
      providerStatus: fields.providerStatus,
      providerTransactionId: textOf(fields.providerTransactionId),
      merchantReference: order.reference,
      amount: fields.amount,
      code: textOf(fields.code) ?? order.product ?? undefined,
      destination: textOf(fields.destination) ?? order.destination ?? undefined,
      serialNumber: textOf(fields.serialNumber) ?? undefined,
      raw: answer,
    }),
    identifiedBy: 'merchantReference',
  };
}
