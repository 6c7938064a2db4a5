import { randomUUID } from 'node:crypto';
import type { ProvidersConfig } from '../../config/gateway-config.js';
import {
  jakartaParts,
  referenceOrDefault,
  resolveStatus,
  routingKeyOf,
  signingAccount,
  type SimulatedRequest,
  type StatusVocabulary,
  uniqueDigits,
} from '../../sandbox/simulation.js';
import { MCPAYMENT_SIGNATURE_HEADER, MCPAYMENT_STATUS } from './mcpayment.facts.js';
import { MCPAYMENT_PAID_SAMPLE } from './mcpayment.samples.js';
import { mcpaymentCallbackSignature } from './mcpayment.signature.js';

export type McpaymentSettings = NonNullable<ProvidersConfig['mcpayment']>;

/** MCPayment statuses: any `transaction_status` of the table (any case), or a normalized name. */
export const MCPAYMENT_STATUSES: StatusVocabulary = {
  displayName: 'MCPayment',
  configuredBy: 'MCPAYMENT_HASH_KEY',
  table: MCPAYMENT_STATUS,
  fold: (value) => value.toUpperCase(),
};

/**
 * An MCPayment PG3 VA callback in the shape of MCPAYMENT_PAID_SAMPLE, adjusted to the status the
 * way MCPayment sends it (payment_history and paid_time once paid, refund_history on REFUNDED),
 * with a fresh UUID transaction_id and external_id, signed by mcpaymentCallbackSignature.
 */
export function simulateMcpaymentCallback(
  settings: McpaymentSettings,
  status: string,
  reference?: string,
): SimulatedRequest {
  const resolved = resolveStatus(MCPAYMENT_STATUSES, status);
  const orderId = referenceOrDefault(reference);
  const created = new Date(Date.now() - 5 * 60_000);
  const now = jakartaParts();
  const paid = resolved.status === 'succeeded' || resolved.status === 'refunded';
  const sample = MCPAYMENT_PAID_SAMPLE;
  const referenceId = `${now.date}${now.time}${uniqueDigits(4)}`;
  const total = sample.payment_details.total_amount;
  const body: Record<string, unknown> = {
    ...sample,
    transaction_id: randomUUID(),
    external_id: uniqueDigits(14),
    order_id: orderId,
    reference_id: referenceId,
    transaction_status: resolved.providerStatus,
    transaction_time: jakartaParts(created).iso,
    payment_details: {
      ...sample.payment_details,
      va_number: `88888${uniqueDigits(11)}`,
      total_paid_amount: paid ? total : 0,
      expired_time: jakartaParts(new Date(created.getTime() + 15 * 60_000)).iso,
      transaction_description: `Order ${orderId}`,
      paid_time: paid ? now.iso : '',
    },
  };
  if (paid) {
    body.payment_history = [{ paid_amount: total, paid_time: now.iso, reference_id: referenceId }];
  } else {
    delete body.payment_history;
    delete body.issuer; // only on paid transactions
  }
  if (resolved.status === 'refunded') {
    body.refund_history = [
      { refund_amount: total, refund_time: now.iso, refund_reference_id: `RF${referenceId}` },
    ];
  }
  const { account, key } = signingAccount(settings, 'MCPayment');
  const signature = mcpaymentCallbackSignature(
    key!.hashKey,
    body.transaction_id as string,
    body.external_id as string,
    orderId,
    account.subMerchantId,
  );
  return {
    provider: 'mcpayment',
    method: 'POST',
    path: '/callbacks/mcpayment',
    displayPath: '/callbacks/mcpayment',
    headers: { 'content-type': 'application/json', [MCPAYMENT_SIGNATURE_HEADER]: signature },
    body: JSON.stringify(body),
    providerStatus: resolved.providerStatus,
    status: resolved.status,
    routingKey: routingKeyOf('payment', resolved.status, 'mcpayment'),
    reference: orderId,
  };
}
