import { sha256Hex } from '../../common/constant-time.js';

// Source: the PPOB server's API document (seed 003, section 1 "Transaction Request & Response").

/** Prepaid and inquiry orders; postpaid payments of an inquiry. */
export const PPOB_TOPUP_PATH = '/trx/topup';
export const PPOB_PAYMENT_PATH = '/trx/payment';

/** `Gw-datetime`: Asia/Jakarta wall clock (UTC+7, no daylight saving), `YYYY-mm-DD HH:MM:SS`. */
export function ppobDatetime(date = new Date()): string {
  const local = new Date(date.getTime() + 7 * 3_600_000).toISOString();
  return `${local.slice(0, 10)} ${local.slice(11, 19)}`;
}

/** `Gw-signature` = lowercase hex SHA-256(username + datetime + token). */
export function ppobSignature(username: string, datetime: string, token: string): string {
  return sha256Hex(`${username}${datetime}${token}`);
}
