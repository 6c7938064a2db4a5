import { createHash } from 'node:crypto';
import { MCPAYMENT } from './credentials.js';

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

/**
 * MCPayment's algorithm, written independently of the gateway:
 * SHA-256(transaction_id + SHA-256(hash_key + external_id + order_id) [+ sub_merchant_id]).
 */
export function mcpaymentSignature(
  body: { transaction_id: string; external_id: string; order_id: string },
  hashKey = MCPAYMENT.hashKey,
  subMerchantId = '',
): string {
  const xReqSignature = sha256(hashKey + body.external_id + body.order_id);
  return sha256(body.transaction_id + xReqSignature + subMerchantId);
}

let sequence = 0;

export type McpaymentBody = Record<string, unknown> & {
  transaction_id: string;
  external_id: string;
  order_id: string;
  transaction_status: string;
  payment_details: Record<string, unknown>;
};

/** A real-shaped PG3 BRI virtual-account callback; `details` overrides inside payment_details. */
export function mcpaymentCallback(
  overrides: Record<string, unknown> = {},
  details: Record<string, unknown> = {},
): McpaymentBody {
  sequence += 1;
  const stamp = `${Date.now()}`.slice(-8) + String(sequence).padStart(4, '0');
  const hex = createHash('sha1').update(stamp).digest('hex');
  return {
    transaction_id: `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`,
    external_id: `EXT${stamp}`,
    order_id: `ORD-${stamp}`,
    reference_id: `REF${stamp}`,
    currency: 'IDR',
    payment_method: 'BANK_TRANSFER',
    payment_channel: 'BRI',
    payment_system: 'CLOSED',
    transaction_status: 'PAID',
    transaction_time: '2025-11-21T12:00:20.592+07:00',
    payment_details: {
      payment_system: 'CLOSED',
      billing_name: 'Budi Santoso',
      va_number: '8888801234567890',
      amount: 10000.1,
      total_fee_amount: 4000,
      total_promo_amount: 0,
      total_amount: 14000.1,
      total_paid_amount: 14000.1,
      is_multi_use: false,
      is_customer_paying_fee: true,
      expired_time: '2025-11-21T12:15:20.163+07:00',
      transaction_description: 'Order test',
      paid_time: '2025-11-21T12:05:12.136+07:00',
      ...details,
    },
    customer_details: {
      phone: '081234567890',
      email: 'budi@example.com',
      full_name: 'Budi Santoso',
    },
    item_details: [
      { item_id: 'SKU-1', name: 'Kopi', amount: 10000.1, qty: 1, description: 'Kopi 250g' },
    ],
    response_code: '00',
    issuer: 'BRI ',
    additional_data: '',
    transaction_type: 'on_us',
    ...overrides,
  };
}

/** POSTs a JSON body with its mcp-signature (null: no header) exactly as MCPayment would. */
export function postMcpayment(
  url: string,
  body: unknown,
  signature: string | null,
  headers: Record<string, string> = {},
  rawText?: string,
) {
  return fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(signature === null ? {} : { 'mcp-signature': signature }),
      ...headers,
    },
    body: rawText ?? JSON.stringify(body),
  });
}
