import { BadRequestException } from '@nestjs/common';
import { canonicalDecimal } from '../../common/decimal.js';
import type { EventStatus, NormalizedTransaction } from '../../events/normalized-transaction.js';
import { isRecord, rfc3339Time, textOf } from '../../verification/status-api.js';
import {
  SNAP_SERVICES,
  type SnapProfile,
  type SnapServiceName,
  statusOf,
} from '../../config/snap/snap.profile.js';

/**
 * What SNAP bodies say, read the same way from a notification and from a status answer (the two
 * must agree for a hint to be confirmed). Field names are SNAP's own (ASPI): VA services carry
 * `virtualAccountNo`, `trxId` (merchant), `paymentRequestId` / `referenceNo` (provider) and
 * `paidAmount`; debit and QR notifications `originalPartnerReferenceNo` (merchant),
 * `originalReferenceNo` (provider) and `amount`.
 */

const MERCHANT_REFERENCE = ['trxId', 'originalPartnerReferenceNo', 'partnerReferenceNo'];
const PROVIDER_ID = ['paymentRequestId', 'originalReferenceNo', 'referenceNo'];
const AMOUNT = ['paidAmount', 'amount', 'totalAmount'];
const TIME = ['trxDateTime', 'paidTime', 'finishedTime', 'transactionDate', 'paymentTime'];

/** The first of `names` that `fields` carries as non-empty text (trimmed). */
export function firstText(
  fields: Record<string, unknown>,
  names: readonly string[],
): string | null {
  for (const name of names) {
    const text = textOf(fields[name])?.trim();
    if (text) return text;
  }
  return null;
}

/** `{value, currency}` → the canonical decimal and the currency; null when absent or malformed. */
export function moneyOf(
  fields: Record<string, unknown>,
  names: readonly string[] = AMOUNT,
): { amount: string; currency: string } | null {
  for (const name of names) {
    const money = fields[name];
    if (!isRecord(money)) continue;
    const value = textOf(money.value)?.trim() ?? '';
    const currency = textOf(money.currency)?.trim().toUpperCase() ?? '';
    if (!/^\d+(\.\d{1,4})?$/.test(value) || !/^[A-Z]{3}$/.test(currency)) return null;
    return { amount: canonicalDecimal(value), currency };
  }
  return null;
}

export function paymentMethodOf(
  fields: Record<string, unknown>,
  service: SnapServiceName | null,
): string | null {
  if (
    fields.virtualAccountNo !== undefined ||
    service === 'va-payment' ||
    service === 'va-notify-intrabank'
  )
    return 'virtual_account';
  if (service === 'debit-notify') return 'direct_debit';
  if (service === 'qr-mpm-notify') return 'qris';
  return null;
}

/**
 * The status code the body carries: the profile's status fields in order (latestTransactionStatus,
 * the transaction's, before paymentFlagStatus, the last attempt's), each at the top level or in
 * `additionalInfo`.
 */
export function statusCodeOf(fields: Record<string, unknown>, profile: SnapProfile): string | null {
  const sections = isRecord(fields.additionalInfo) ? [fields, fields.additionalInfo] : [fields];
  for (const field of profile.statusFields) {
    for (const section of sections) {
      const code = firstText(section, [field]);
      if (code) return code;
    }
  }
  return null;
}

export interface SnapNormalized {
  transaction: NormalizedTransaction;
  warning: string | null;
}

/**
 * A verified notification → the normalized transaction. VA services without a status field are
 * payments (`succeeded`); every other body must state its status. Problems are a 400 with each
 * one listed: the pipeline quarantines the authentic callback.
 */
export function normalizeSnap(
  fields: Record<string, unknown>,
  profile: SnapProfile,
  service: SnapServiceName | null,
): SnapNormalized {
  const problems: string[] = [];
  const merchantReference = firstText(fields, MERCHANT_REFERENCE);
  if (!merchantReference)
    problems.push(`merchant reference missing (one of ${MERCHANT_REFERENCE.join(', ')})`);
  const money = moneyOf(fields);
  if (!money)
    problems.push(
      `amount missing or malformed (one of ${AMOUNT.join(', ')} as {"value":"10000.00","currency":"IDR"})`,
    );
  const code = statusCodeOf(fields, profile);
  const implied: EventStatus | null =
    service !== null
      ? SNAP_SERVICES[service].impliedStatus
      : fields.virtualAccountNo !== undefined
        ? 'succeeded'
        : null;
  if (code === null && implied === null)
    problems.push(`status missing (one of ${profile.statusFields.join(', ')})`);
  if (problems.length > 0) {
    throw new BadRequestException({
      message: `${profile.displayName} notification: ${problems.join('; ')}`,
      errors: problems,
    });
  }
  const { status, warning } =
    code === null
      ? { status: implied!, warning: null }
      : statusOf(profile.statusMap, code, profile.displayName);
  const time = firstText(fields, TIME);
  const occurredAt = time ? rfc3339Time(time) : null;
  return {
    transaction: {
      domain: 'payment',
      status,
      providerStatus: code ?? (service ? `${service} notification` : 'payment notification'),
      providerTransactionId: firstText(fields, PROVIDER_ID),
      merchantReference: merchantReference!,
      amount: money!.amount,
      currency: money!.currency,
      fee: null,
      paymentMethod: paymentMethodOf(fields, service),
      channel: profile.name.toUpperCase(),
      product: null,
      occurredAt: occurredAt ? new Date(occurredAt) : null,
      raw: fields,
    },
    warning,
  };
}
