import { Inject, Injectable } from '@nestjs/common';
import { sumDecimals, toDecimalString } from '../../common/decimal.js';
import { GATEWAY_CONFIG, type GatewayConfig } from '../../config/gateway-config.js';
import {
  EVERY_FACT,
  type InquiryAnswer,
  isRecord,
  type ProviderReport,
  type ProviderStatusApi,
  type RequiredFact,
  requestProvider,
  rfc3339Time,
  type StatusQuery,
  textOf,
} from '../../verification/status-api.js';
import {
  MCPAYMENT_API_VERSION,
  MCPAYMENT_EWALLET_INQUIRY_PATH,
  MCPAYMENT_EWALLET_METHODS,
  MCPAYMENT_VA_INQUIRY_PATH,
  mcpaymentPaymentMethod,
  mcpaymentStatus,
} from './mcpayment.facts.js';
import { mcpaymentRequestSignature } from './mcpayment.signature.js';

export interface McpaymentInquiry {
  path: string;
  headers: Record<string, string>;
  body: {
    external_id: string;
    order_id: string;
    transaction_id: string;
    payment_method: string;
    payment_channel: string;
  };
}

export interface McpaymentInquiryTransaction {
  externalId: string;
  orderId: string;
  transactionId: string;
  paymentMethod: string | null;
  paymentChannel: string | null;
}

function isEwallet(transaction: McpaymentInquiryTransaction): boolean {
  return MCPAYMENT_EWALLET_METHODS.has((transaction.paymentMethod ?? '').trim().toUpperCase());
}

/** The JSON body of an inquiry: the ids, and the route's payment_method and the channel. */
export function mcpaymentInquiryBody(
  transaction: McpaymentInquiryTransaction,
): McpaymentInquiry['body'] {
  return {
    external_id: transaction.externalId,
    order_id: transaction.orderId,
    transaction_id: transaction.transactionId,
    payment_method: isEwallet(transaction) ? 'wallet' : 'BANK_TRANSFER',
    payment_channel: transaction.paymentChannel ?? '',
  };
}

/** The inquiry for one transaction: VA or e-wallet route, Basic auth, x-req-signature, x-version. */
export function mcpaymentInquiryRequest(
  credentials: { hashKey: string; merchantId: string; secretUnboundId: string },
  transaction: McpaymentInquiryTransaction,
): McpaymentInquiry {
  const basic = Buffer.from(`${credentials.merchantId}:${credentials.secretUnboundId}`).toString(
    'base64',
  );
  return {
    path: isEwallet(transaction) ? MCPAYMENT_EWALLET_INQUIRY_PATH : MCPAYMENT_VA_INQUIRY_PATH,
    headers: {
      'content-type': 'application/json',
      accept: 'application/json',
      authorization: `Basic ${basic}`,
      'x-req-signature': mcpaymentRequestSignature(
        credentials.hashKey,
        transaction.externalId,
        transaction.orderId,
      ),
      'x-version': MCPAYMENT_API_VERSION,
    },
    body: mcpaymentInquiryBody(transaction),
  };
}

/** What an inquiry about the callback asks with; null when the callback lacks an id. */
function inquiryTransaction(query: StatusQuery): McpaymentInquiryTransaction | null {
  const externalId = textOf(query.raw.external_id);
  const orderId = textOf(query.raw.order_id);
  const transactionId = textOf(query.raw.transaction_id);
  if (!externalId || !orderId || !transactionId) return null;
  return {
    externalId,
    orderId,
    transactionId,
    paymentMethod: textOf(query.raw.payment_method),
    paymentChannel: textOf(query.raw.payment_channel),
  };
}

/**
 * Exact sum of `refund_history[].refund_amount` as a canonical decimal (`"1500.5"`), null when
 * there is no history or an amount is not a decimal.
 */
export function mcpaymentRefundedTotal(value: unknown): string | null {
  if (!Array.isArray(value) || value.length === 0) return null;
  const amounts = value.map((entry) =>
    toDecimalString(isRecord(entry) ? entry.refund_amount : null),
  );
  if (amounts.some((amount) => amount === null)) return null;
  return sumDecimals(amounts as string[]);
}

/** A field MCPayment filled: text that is neither empty nor the string "null", trimmed. */
function stated(value: unknown): string | null {
  const text = textOf(value)?.trim() ?? '';
  return text.length > 0 && text.toLowerCase() !== 'null' ? text : null;
}

/** The latest RFC 3339 time among the values (partial payments / refunds come as a history). */
function latest(values: unknown[]): string | null {
  return values
    .map(rfc3339Time)
    .reduce<string | null>((a, b) => (b && (!a || Date.parse(b) > Date.parse(a)) ? b : a), null);
}

function entries(value: unknown): Record<string, unknown>[] {
  return Array.isArray(value) ? value.filter(isRecord) : [];
}

/**
 * When it happened, as the callback mapper reads it: the paid time of a payment, the latest
 * refund time of a refund, else the transaction time.
 */
function occurredAt(
  status: string | undefined,
  transaction: Record<string, unknown>,
  details: Record<string, unknown>,
): string | null {
  let happened: string | null = null;
  if (status === 'succeeded') {
    happened =
      rfc3339Time(details.paid_time) ??
      latest(entries(transaction.payment_history).map((p) => p.paid_time));
  } else if (status === 'refunded') {
    happened = latest(entries(transaction.refund_history).map((r) => r.refund_time));
  }
  return happened ?? rfc3339Time(transaction.transaction_time);
}

/** The transaction object in an answer: at the top level, or under `data` (object or list). */
function transactionIn(answer: Record<string, unknown>): Record<string, unknown> | null {
  if (answer.transaction_status !== undefined) return answer;
  const data = answer.data;
  if (isRecord(data) && data.transaction_status !== undefined) return data;
  if (Array.isArray(data)) {
    const first: unknown = data.find((d) => isRecord(d) && d.transaction_status !== undefined);
    if (isRecord(first)) return first;
  }
  return null;
}

/**
 * An inquiry answer → MCPayment's account of the transaction. The answer's schema is not
 * published: this assumes the callback's shape (transaction_status, payment_details.amount,
 * payment_history, refund_history, response_code), at the top level or under `data`.
 *
 * Only a JSON object is an answer. HTTP 200 with the transaction is `found`; a JSON error body
 * (`response_code`) at HTTP 200 or 404, or at another 4xx, is MCPayment not confirming it
 * (`unknown`); HTML error pages, non-objects, bodies with neither, 5xx, 408 and 429 are transient
 * (`unavailable`); 401 / 403 refuse our credentials (`refused`).
 */
export function parseMcpaymentInquiry(status: number, answer: unknown): InquiryAnswer {
  const said = isRecord(answer)
    ? [answer.response_code, answer.response_message ?? answer.message]
        .map(textOf)
        .filter((v) => v)
        .join(' ')
    : '';
  if (status === 401 || status === 403) {
    return {
      kind: 'refused',
      reason: `MCPayment inquiry answered HTTP ${status} ${said} (check MCPAYMENT_MERCHANT_ID / MCPAYMENT_SECRET_UNBOUND_ID / MCPAYMENT_HASH_KEY)`,
    };
  }
  if (status >= 500 || status === 429 || status === 408) {
    return { kind: 'unavailable', reason: `MCPayment inquiry answered HTTP ${status}` };
  }
  if (!isRecord(answer)) {
    return {
      kind: 'unavailable',
      reason: `MCPayment inquiry answered HTTP ${status} without a JSON object`,
    };
  }
  const transaction = status === 200 ? transactionIn(answer) : null;
  if (!transaction) {
    const errorBody = stated(answer.response_code) !== null;
    if (errorBody && (status === 200 || (status >= 400 && status < 500))) {
      return {
        kind: 'unknown',
        reason:
          status === 404
            ? `MCPayment does not know the transaction (HTTP 404 ${said})`.trim()
            : `MCPayment inquiry answered HTTP ${status} without the transaction: ${said}`,
        raw: answer,
      };
    }
    return {
      kind: 'unavailable',
      reason: `MCPayment inquiry answered HTTP ${status} with neither a transaction nor a response_code`,
    };
  }
  const providerStatus = stated(transaction.transaction_status);
  if (providerStatus === null) {
    return {
      kind: 'unavailable',
      reason: 'MCPayment answered a transaction without a transaction_status',
    };
  }
  const normalized = mcpaymentStatus(providerStatus);
  const details = isRecord(transaction.payment_details) ? transaction.payment_details : {};
  const channel = stated(transaction.payment_channel) ?? stated(transaction.issuer);
  const fee = details.total_fee_amount;
  const report: ProviderReport = {
    status: normalized ?? 'pending',
    providerStatus,
    providerTransactionId: stated(transaction.transaction_id),
    merchantReference: stated(transaction.order_id),
    amount: toDecimalString(details.amount ?? transaction.amount),
    currency: stated(transaction.currency)?.toUpperCase() ?? null,
    refundedTotal: mcpaymentRefundedTotal(transaction.refund_history),
    paymentMethod: mcpaymentPaymentMethod(stated(transaction.payment_method) ?? undefined),
    channel: channel ? channel.toUpperCase() : null,
    fee: fee === undefined || fee === null ? null : toDecimalString(fee),
    occurredAt: occurredAt(normalized, transaction, details),
    raw: answer,
    warnings: normalized
      ? []
      : [
          `MCPayment transaction_status ${JSON.stringify(providerStatus)} is unknown; taken as pending`,
        ],
  };
  return { kind: 'found', report };
}

/** MCPayment (iFortepay) inquiry, VA or e-wallet by the callback's payment_method. */
@Injectable()
export class McpaymentStatusApi implements ProviderStatusApi {
  readonly provider = 'mcpayment';

  constructor(@Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig) {}

  readonly unprovenWithout =
    'status and amounts (the mcp-signature covers only the ids, and external_id + order_id are hashed without a separator)';

  readonly requiredFacts: ReadonlyArray<RequiredFact> = EVERY_FACT;

  /** The inquiry body's fields: the three ids, the route's payment_method and the channel. */
  queryKey(query: StatusQuery): string {
    const transaction = inquiryTransaction(query);
    if (!transaction) {
      const raw = query.raw;
      return JSON.stringify(
        [raw.external_id, raw.order_id, raw.transaction_id].map((v) => textOf(v)),
      );
    }
    const body = mcpaymentInquiryBody(transaction);
    return JSON.stringify([
      body.external_id,
      body.order_id,
      body.transaction_id,
      body.payment_method,
      body.payment_channel,
    ]);
  }

  isConfigured(): boolean {
    return this.config.providers.mcpayment !== null;
  }

  isEnabled(): boolean {
    return Boolean(this.config.providers.mcpayment?.inquiry);
  }

  async inquire(query: StatusQuery): Promise<InquiryAnswer> {
    if (!this.config.providers.mcpayment?.inquiry)
      return { kind: 'refused', reason: 'MCPayment inquiry is off' };
    const credentials = this.config.accounts.statusApiCredentials('mcpayment', query.account);
    if (credentials?.provider !== 'mcpayment') {
      return {
        kind: 'refused',
        reason: `MCPayment account ${query.account} is not configured or has no key valid now`,
      };
    }
    const transaction = inquiryTransaction(query);
    if (!transaction) {
      return {
        kind: 'unknown',
        reason: 'the callback carries no external_id / order_id / transaction_id',
      };
    }
    const request = mcpaymentInquiryRequest(credentials, transaction);
    const answer = await requestProvider(`${credentials.apiUrl}${request.path}`, {
      method: 'POST',
      headers: request.headers,
      body: JSON.stringify(request.body),
    });
    if ('kind' in answer) return answer;
    return parseMcpaymentInquiry(answer.status, answer.json);
  }

  /**
   * external_id must match too (the signature concatenates it with order_id, so a shifted split
   * keeps the signature), and a refund must be the refund MCPayment records.
   */
  mismatches(query: StatusQuery, report: ProviderReport): string[] {
    const found = transactionIn(report.raw) ?? {};
    const problems: string[] = [];
    const sentExternal = textOf(query.raw.external_id);
    const knownExternal = textOf(found.external_id);
    if (knownExternal !== null && knownExternal !== sentExternal) problems.push('external_id');
    if (report.status === 'refunded' && query.raw.refund_history !== undefined) {
      const sent = mcpaymentRefundedTotal(query.raw.refund_history);
      const known = mcpaymentRefundedTotal(found.refund_history);
      if (sent !== known) problems.push('refund_history total');
    }
    return problems;
  }
}
