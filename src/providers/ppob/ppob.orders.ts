import { Inject, Injectable } from '@nestjs/common';
import {
  GATEWAY_CONFIG,
  type GatewayConfig,
  type PpobApiSettings,
} from '../../config/gateway-config.js';
import type { EventStatus, NormalizedTransaction } from '../../events/normalized-transaction.js';
import {
  jsonObject,
  orderAnswerTransaction,
  type PlacementResult,
  type ProviderExchange,
  textOf,
  type TopupOrderClient,
  type TopupOrderRequest,
  requestOrder,
} from '../../topups/topup-order-client.js';
import { PPOB_STATUS } from './ppob.facts.js';
import {
  PPOB_PAYMENT_PATH,
  PPOB_TOPUP_PATH,
  ppobDatetime,
  ppobSignature,
} from './ppob.signature.js';

// Source: the PPOB server's API document (seed 003, section 1 "Transaction Request & Response").

/** The three authentication headers of one request. */
export function ppobAuthHeaders(
  settings: PpobApiSettings,
  date = new Date(),
): Record<string, string> {
  const datetime = ppobDatetime(date);
  return {
    'Gw-username': settings.username,
    'Gw-datetime': datetime,
    'Gw-signature': ppobSignature(settings.username, datetime, settings.token),
  };
}

/** The JSON body: `{code, dest, refid}` for a top-up, `{inq_id, refid}` for a postpaid payment. */
export function ppobOrderBody(order: TopupOrderRequest): {
  path: string;
  body: Record<string, string>;
} {
  if (order.inquiryId !== null) {
    return { path: PPOB_PAYMENT_PATH, body: { inq_id: order.inquiryId, refid: order.reference } };
  }
  return {
    path: PPOB_TOPUP_PATH,
    body: { code: order.product ?? '', dest: order.destination ?? '', refid: order.reference },
  };
}

/**
 * Reads the server's answer. The document shows only 200 answers with `status` Waiting, Pending
 * or Failed (and, for a refid sent before, that transaction's current state, which may be
 * Success). It documents no error format: a 401/403 is taken for an account problem (username,
 * signature, datetime, source address), any other 4xx for a refused order, with the server's
 * `message` as the reason.
 */
export function interpretPpobAnswer(
  order: TopupOrderRequest,
  httpStatus: number,
  body: Buffer,
  exchange: ProviderExchange,
): PlacementResult {
  const answer = jsonObject(body);
  const message = textOf(answer?.message) ?? body.toString('utf8').slice(0, 200);
  const transaction = (status: EventStatus, providerStatus: string) =>
    ppobOrderTransaction(order, answer ?? { httpStatus, message }, status, providerStatus);

  if (httpStatus === 401 || httpStatus === 403) {
    return {
      kind: 'answered',
      transaction: transaction('failed', String(httpStatus)),
      exchange,
      accountError: { code: String(httpStatus), reason: `PPOB refused the request: ${message}` },
    };
  }
  if (httpStatus >= 400) {
    return { kind: 'answered', transaction: transaction('failed', String(httpStatus)), exchange };
  }
  const providerStatus = textOf(answer?.status);
  const status = providerStatus ? PPOB_STATUS[providerStatus.trim().toLowerCase()] : undefined;
  if (!answer || providerStatus === null || status === undefined) {
    return {
      kind: 'retry',
      reason: `PPOB answered HTTP ${httpStatus} without a known status: ${message}`,
    };
  }
  return { kind: 'answered', transaction: transaction(status, providerStatus), exchange };
}

function ppobOrderTransaction(
  order: TopupOrderRequest,
  answer: Record<string, unknown>,
  status: EventStatus,
  providerStatus: string,
): NormalizedTransaction {
  return orderAnswerTransaction(order, answer, {
    status,
    providerStatus,
    providerTransactionId: answer.trx_id,
    amount: null,
    code: answer.code,
    destination: answer.destination,
    serialNumber: answer.sn,
  });
}

/** Places orders with the PPOB server's request API, signed with Gw-signature. */
@Injectable()
export class PpobOrderClient implements TopupOrderClient {
  readonly provider = 'ppob';
  readonly supportsInquiry = true;

  constructor(@Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig) {}

  isEnabled(): boolean {
    return this.config.topups.ppob !== null;
  }

  async place(order: TopupOrderRequest, signal: AbortSignal): Promise<PlacementResult> {
    const settings = this.config.topups.ppob;
    if (!settings) throw new Error('PPOB_API_URL is not configured');
    const { path, body } = ppobOrderBody(order);
    return requestOrder(
      {
        url: new URL(`${settings.url}${path}`),
        method: 'POST',
        path,
        headers: { 'content-type': 'application/json', ...ppobAuthHeaders(settings) },
        body: JSON.stringify(body),
        describe: `PPOB POST ${path}`,
      },
      signal,
      (httpStatus, answer, exchange) => interpretPpobAnswer(order, httpStatus, answer, exchange),
    );
  }
}
