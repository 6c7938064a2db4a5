import { Inject, Injectable } from '@nestjs/common';
import { toDecimalString } from '../../common/decimal.js';
import { GATEWAY_CONFIG, type GatewayConfig } from '../../config/gateway-config.js';
import {
  type InquiryAnswer,
  isRecord,
  type ProviderReport,
  type ProviderStatusApi,
  requestProvider,
  type StatusQuery,
  textOf,
} from '../../verification/status-api.js';
import {
  MCPAYMENT_API_VERSION,
  MCPAYMENT_EWALLET_INQUIRY_PATH,
  MCPAYMENT_EWALLET_METHODS,
  MCPAYMENT_VA_INQUIRY_PATH,
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

/** The inquiry for one transaction: VA or e-wallet route, Basic auth, x-req-signature, x-version. */
export function mcpaymentInquiryRequest(
  credentials: { hashKey: string; merchantId: string; secretUnboundId: string },
  transaction: {
    externalId: string;
    orderId: string;
    transactionId: string;
    paymentMethod: string | null;
    paymentChannel: string | null;
  },
): McpaymentInquiry {
  const method = (transaction.paymentMethod ?? '').trim().toUpperCase();
  const ewallet = MCPAYMENT_EWALLET_METHODS.has(method);
  const basic = Buffer.from(`${credentials.merchantId}:${credentials.secretUnboundId}`).toString(
    'base64',
  );
  return {
    path: ewallet ? MCPAYMENT_EWALLET_INQUIRY_PATH : MCPAYMENT_VA_INQUIRY_PATH,
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
    body: {
      external_id: transaction.externalId,
      order_id: transaction.orderId,
      transaction_id: transaction.transactionId,
      payment_method: ewallet ? 'wallet' : 'BANK_TRANSFER',
      payment_channel: transaction.paymentChannel ?? '',
    },
  };
}

/** Sum of `refund_history[].refund_amount` as a decimal string, null when there is none. */
export function mcpaymentRefundedTotal(value: unknown): string | null {
  if (!Array.isArray(value) || value.length === 0) return null;
  let cents = 0n;
  for (const entry of value) {
    const amount = toDecimalString(isRecord(entry) ? entry.refund_amount : undefined);
    if (amount === null) return null;
    const [whole, fraction = ''] = amount.split('.');
    cents += BigInt(whole + fraction.padEnd(2, '0').slice(0, 2));
  }
  const sign = cents < 0n ? '-' : '';
  const abs = (cents < 0n ? -cents : cents).toString().padStart(3, '0');
  return `${sign}${abs.slice(0, -2)}.${abs.slice(-2)}`;
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
  if (status === 404) {
    return {
      kind: 'unknown',
      reason: `MCPayment does not know the transaction (HTTP 404 ${said})`.trim(),
      raw: isRecord(answer) ? answer : undefined,
    };
  }
  if (status >= 500 || status === 429 || status === 408) {
    return { kind: 'unavailable', reason: `MCPayment inquiry answered HTTP ${status}` };
  }
  if (status !== 200 || !isRecord(answer)) {
    return {
      kind: 'unknown',
      reason: `MCPayment inquiry answered HTTP ${status} ${said}`.trim(),
      raw: isRecord(answer) ? answer : undefined,
    };
  }
  const transaction = transactionIn(answer);
  if (!transaction) {
    return {
      kind: 'unknown',
      reason: `MCPayment answered without a transaction_status ${said}`.trim(),
      raw: answer,
    };
  }
  const providerStatus = textOf(transaction.transaction_status) ?? '';
  const status_ = mcpaymentStatus(providerStatus);
  const details = isRecord(transaction.payment_details) ? transaction.payment_details : {};
  const report: ProviderReport = {
    status: status_ ?? 'pending',
    providerStatus,
    providerTransactionId: textOf(transaction.transaction_id),
    merchantReference: textOf(transaction.order_id),
    amount: toDecimalString(details.amount ?? transaction.amount),
    currency: textOf(transaction.currency)?.toUpperCase() ?? null,
    raw: answer,
    warnings: status_
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
    const externalId = textOf(query.raw.external_id);
    const orderId = textOf(query.raw.order_id);
    const transactionId = textOf(query.raw.transaction_id);
    if (!externalId || !orderId || !transactionId) {
      return {
        kind: 'unknown',
        reason: 'the callback carries no external_id / order_id / transaction_id',
      };
    }
    const request = mcpaymentInquiryRequest(credentials, {
      externalId,
      orderId,
      transactionId,
      paymentMethod: textOf(query.raw.payment_method),
      paymentChannel: textOf(query.raw.payment_channel),
    });
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
