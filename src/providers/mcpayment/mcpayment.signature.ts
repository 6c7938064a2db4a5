import { sha256Hex } from '../../common/constant-time.js';

/**
 * x-req-signature = lowercase hex SHA-256(hash_key + external_id + order_id): what the merchant
 * sent when it created the payment. Both ids come back in the callback, so it can be recomputed.
 */
export function mcpaymentRequestSignature(
  hashKey: string,
  externalId: string,
  orderId: string,
): string {
  return sha256Hex(hashKey + externalId + orderId);
}

/**
 * mcp-signature = lowercase hex SHA-256(transaction_id + x-req-signature [+ sub_merchant_id]).
 * Plain SHA-256 of the concatenation, not HMAC (that is MCPayment's scheme, not our choice).
 */
export function mcpaymentCallbackSignature(
  hashKey: string,
  transactionId: string,
  externalId: string,
  orderId: string,
  subMerchantId: string | null,
): string {
  const requestSignature = mcpaymentRequestSignature(hashKey, externalId, orderId);
  return sha256Hex(transactionId + requestSignature + (subMerchantId ?? ''));
}
