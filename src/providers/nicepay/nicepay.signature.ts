import { sha256Hex } from '../../common/constant-time.js';

/** merchantToken = lowercase hex SHA-256(iMid + tXid + amt + merchantKey). */
export function nicepayMerchantToken(
  iMid: string,
  tXid: string,
  amt: string,
  merchantKey: string,
): string {
  return sha256Hex(iMid + tXid + amt + merchantKey);
}
