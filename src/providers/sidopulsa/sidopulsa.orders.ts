import { Inject, Injectable } from '@nestjs/common';
import { GATEWAY_CONFIG, type GatewayConfig } from '../../config/gateway-config.js';
import type { EventStatus, NormalizedTransaction } from '../../events/normalized-transaction.js';
import { SIDOPULSA_ORDER_PATH } from './sidopulsa.facts.js';
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

// Source: Sidopulsa's H2H request API (`GET /h2h/api/trx`), its response codes as listed by the
// provider: 00 success … 14 bad callback URL.

/** What each response code means for the order. */
export type SidopulsaRcMeaning =
  | { kind: 'state'; status: EventStatus }
  /** The provider refused the order for the account's sake: operators must act. */
  | { kind: 'account'; reason: string }
  /** The provider refused this order (product, number, nominal, cut-off). */
  | { kind: 'order'; reason: string }
  /** ref_id seen before: the order is at the provider already; its report settles it. */
  | { kind: 'submitted' }
  | { kind: 'retry'; reason: string };

export const SIDOPULSA_RC: Record<string, SidopulsaRcMeaning> = {
  '00': { kind: 'state', status: 'succeeded' },
  '01': { kind: 'state', status: 'pending' },
  '02': { kind: 'state', status: 'failed' },
  '03': { kind: 'account', reason: 'api_key is wrong (SIDOPULSA_API_KEY)' },
  '04': { kind: 'account', reason: 'api_user is wrong (SIDOPULSA_API_USER)' },
  '05': { kind: 'order', reason: 'product inactive' },
  '06': { kind: 'account', reason: 'balance too low' },
  '07': {
    kind: 'account',
    reason: "source IP not recognised (add the gateway's address at Sidopulsa)",
  },
  '08': { kind: 'submitted' },
  '09': { kind: 'order', reason: 'wrong destination number length' },
  '10': { kind: 'order', reason: 'cut-off time' },
  '11': { kind: 'order', reason: 'wrong nominal' },
  '12': { kind: 'retry', reason: 'system fault at Sidopulsa' },
  '13': { kind: 'account', reason: 'account disabled' },
  '14': {
    kind: 'account',
    reason: 'callback URL is wrong (check the report URL registered at Sidopulsa)',
  },
};

/**
 * The request URL. Credentials travel in the query: this URL is never logged or stored (the
 * stored answer keeps the path only).
 */
export function sidopulsaOrderUrl(
  settings: { url: string; apiUser: string; apiKey: string },
  order: TopupOrderRequest,
): URL {
  const url = new URL(`${settings.url}${SIDOPULSA_ORDER_PATH}`);
  url.search = new URLSearchParams({
    api_key: settings.apiKey,
    api_user: settings.apiUser,
    ref_id: order.reference,
    product: order.product ?? '',
    dest: order.destination ?? '',
  }).toString();
  return url;
}

/** Reads the answer `{ref_id, product, dest, price, status, message, sn, rc, saldo_ahir}` by its rc. */
export function interpretSidopulsaAnswer(
  order: TopupOrderRequest,
  httpStatus: number,
  body: Buffer,
  exchange: ProviderExchange,
): PlacementResult {
  const answer = jsonObject(body);
  const rc = textOf(answer?.rc)?.padStart(2, '0') ?? null;
  const message = textOf(answer?.message) ?? body.toString('utf8').slice(0, 200);
  const meaning = rc === null ? undefined : SIDOPULSA_RC[rc];
  if (!answer || rc === null || meaning === undefined) {
    return {
      kind: 'retry',
      reason: `Sidopulsa answered HTTP ${httpStatus} with ${rc === null ? 'no rc' : `unknown rc ${rc}`}: ${message}`,
    };
  }
  const providerStatus = textOf(answer.status) ?? rc;
  const transaction = (status: EventStatus) =>
    sidopulsaOrderTransaction(order, answer, status, providerStatus);
  switch (meaning.kind) {
    case 'retry':
      return { kind: 'retry', reason: `Sidopulsa rc ${rc} (${meaning.reason}): ${message}` };
    case 'state':
      return { kind: 'answered', transaction: transaction(meaning.status), exchange };
    case 'submitted':
      // A resend after a lost answer: the provider holds the order and its report will follow.
      return {
        kind: 'answered',
        transaction: { ...transaction('pending'), providerStatus: rc },
        exchange,
      };
    case 'order':
      return { kind: 'answered', transaction: transaction('failed'), exchange };
    case 'account':
      return {
        kind: 'answered',
        transaction: transaction('failed'),
        exchange,
        accountError: { code: rc, reason: `Sidopulsa rc ${rc}: ${meaning.reason} (${message})` },
      };
  }
}

/** Identified by clientid / ref_id, like the report (which adds Sidopulsa's serverid). */
function sidopulsaOrderTransaction(
  order: TopupOrderRequest,
  answer: Record<string, unknown>,
  status: EventStatus,
  providerStatus: string,
): NormalizedTransaction {
  const price = textOf(answer.price);
  return orderAnswerTransaction(order, answer, {
    status,
    providerStatus,
    providerTransactionId: null,
    amount: price !== null && /^\d+(\.\d+)?$/.test(price) ? price : null,
    code: answer.product,
    destination: answer.dest,
    serialNumber: answer.sn,
  });
}

/** Places orders with Sidopulsa's H2H API (credentials in the query plus its IP allowlist). */
@Injectable()
export class SidopulsaOrderClient implements TopupOrderClient {
  readonly provider = 'sidopulsa';
  readonly supportsInquiry = false;

  constructor(@Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig) {}

  isEnabled(): boolean {
    return this.config.topups.sidopulsa !== null;
  }

  async place(order: TopupOrderRequest, signal: AbortSignal): Promise<PlacementResult> {
    const settings = this.config.topups.sidopulsa;
    if (!settings) throw new Error('SIDOPULSA_API_URL is not configured');
    return requestOrder(
      {
        url: sidopulsaOrderUrl(settings, order),
        method: 'GET',
        path: SIDOPULSA_ORDER_PATH,
        describe: `Sidopulsa GET ${SIDOPULSA_ORDER_PATH}`,
      },
      signal,
      (httpStatus, answer, exchange) =>
        interpretSidopulsaAnswer(order, httpStatus, answer, exchange),
    );
  }
}
