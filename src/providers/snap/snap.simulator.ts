/**
 * SNAP notifications as a provider sends them: real-shaped bodies per service and the family's
 * headers and signature (snap.sandbox-signing.ts). Used by the sandbox (which plays the provider),
 * by `npm run simulate -- snap <profile>` and by tests. Facts from SNAP.md and ASPI's service pages
 * (VA payment 25, intrabank notify 34, QR MPM notify 52, direct-debit notify 56).
 */
import type { KeyLike } from 'node:crypto';
import { jakartaParts, referenceOrDefault, uniqueDigits } from '../../sandbox/simulation.js';
import type { EventStatus } from '../../events/normalized-transaction.js';
import { signSnapNotification, type SnapFamily, snapTimestamp } from './snap.sandbox-signing.js';

/** Service code → the path after `/v1.0` the provider posts to (ASPI). */
export const SNAP_SERVICE_PATHS = {
  '25': '/v1.0/transfer-va/payment',
  '34': '/v1.0/transfer-va/notify-payment-intrabank',
  '52': '/v1.0/qr/qr-mpm-notify',
  '56': '/v1.0/debit/notify',
} as const;
export type SnapServiceCode = keyof typeof SNAP_SERVICE_PATHS;

export function isSnapService(code: string): code is SnapServiceCode {
  return Object.hasOwn(SNAP_SERVICE_PATHS, code);
}

/** Virtual-account services: the notification itself says "paid"; other states by inquiry. */
const VA_SERVICES = new Set<SnapServiceCode>(['25', '34']);

/** latestTransactionStatus as ASPI's SNAP pages define it (QR, debit, transfer status). */
export const ASPI_TRANSACTION_STATUS: Readonly<Record<string, EventStatus>> = {
  '00': 'succeeded',
  '03': 'pending',
  '04': 'refunded',
  '05': 'cancelled',
  '06': 'failed',
};

/** transactionStatusDesc of each ASPI latestTransactionStatus code. */
const STATUS_DESCRIPTION: Readonly<Record<string, string>> = {
  '00': 'Success',
  '01': 'Initiated',
  '02': 'Paying',
  '03': 'Pending',
  '04': 'Refunded',
  '05': 'Canceled',
  '06': 'Failed',
  '07': 'Not found',
};

/** NICEPAY SNAP VA status inquiry: `00` paid, `03` pending, `04` expired (NICEPAY SNAP docs). */
export const NICEPAY_SNAP_TRANSACTION_STATUS: Readonly<Record<string, EventStatus>> = {
  '00': 'succeeded',
  '03': 'pending',
  '04': 'expired',
};

/** Who the sandbox is when it plays one SNAP provider for one gateway account. */
export interface SnapProviderIdentity {
  /** The gateway's account id: notifications go to `/callbacks/snap/<account>/v1.0/…`. */
  account: string;
  family: SnapFamily;
  /** X-PARTNER-ID. */
  partnerId: string;
  /** X-CLIENT-KEY (A) and the clientId of the token request (B). */
  clientKey: string;
  /** CHANNEL-ID. */
  channelId: string;
  /** A, C, and B's token request: the provider's private key. */
  privateKey?: KeyLike;
  /** B, D. */
  clientSecret?: string;
  /** D: X-VERSION. */
  version?: string;
  /**
   * The provider's view of the callback URL's path before the service path (B, C), e.g. the
   * public path behind an ingress prefix. Default: the path the gateway receives.
   */
  signedPathPrefix?: string;
  /** D: the registered notification URL before the service path. Default: gateway URL + path. */
  notifyUrlBase?: string;
  /** Per service, the whole signed path (B, C) or notification URL (D), when not prefix + path. */
  signedPaths?: Partial<Record<SnapServiceCode, string>>;
  /** VA prefix (bank/company code), left-padded with spaces to 8. */
  partnerServiceId: string;
  services: readonly SnapServiceCode[];
  /** latestTransactionStatus code → normalized status (ASPI's unless the provider differs). */
  statusTable: Readonly<Record<string, EventStatus>>;
}

/** One transaction the provider notifies about. */
export interface SnapTransaction {
  account: string;
  service: SnapServiceCode;
  /** The merchant's reference: trxId (VA), originalPartnerReferenceNo (QR, debit). */
  reference: string;
  /** The provider's id: paymentRequestId / tXidVA (VA), originalReferenceNo (QR, debit). */
  providerReference: string;
  partnerServiceId: string;
  customerNo: string;
  customerName: string;
  amount: string;
  currency: string;
  trxDateTime: string;
  /** latestTransactionStatus code in the account's table. */
  status: string;
}

/** Body variants the minify pitfall and the escapes are tested with. */
export interface SnapBodyOptions {
  /** `pretty`: indented (whitespace between tokens, which the signed hash does not cover). */
  layout?: 'minified' | 'pretty';
  /** String values with runs of spaces (whitespace inside strings is data, never stripped). */
  spacesInStrings?: boolean;
  /** Non-ASCII characters written as `\u00e9` escapes, as Java serializers do. */
  unicodeEscapes?: boolean;
}

export interface SnapNotificationOptions extends SnapBodyOptions {
  /** The path the request is sent to (default: the gateway's path of the service). */
  path?: string;
  /** The path signed (B, C) when it differs from the received one. */
  signedPath?: string;
  /** D: the notifyUrl signed. */
  notifyUrl?: string;
  timestamp?: string;
  externalId?: string;
  /** B: the bearer token the gateway issued. */
  accessToken?: string;
  /** Re-signed with another key / secret (a forgery). */
  privateKey?: KeyLike;
  clientSecret?: string;
}

/** A request as the provider sends it (same shape as the sandbox's SandboxCallback). */
export interface SnapRequest {
  method: 'POST';
  path: string;
  headers: Record<string, string>;
  body: string;
}

/** `8` characters, left-padded with spaces: how SNAP writes partnerServiceId. */
export function paddedPartnerServiceId(id: string): string {
  return id.trim().padStart(8, ' ');
}

/** The gateway path a provider notifies `service` of `account` at. */
export function snapCallbackPath(account: string, service: SnapServiceCode): string {
  return `/callbacks/snap/${encodeURIComponent(account)}${SNAP_SERVICE_PATHS[service]}`;
}

/** The access-token path of family B at the gateway. */
export function snapTokenPath(account: string): string {
  return `/callbacks/snap/${encodeURIComponent(account)}/v1.0/access-token/b2b`;
}

/** The code in `table` for `status` (a code of the table or a normalized status); null if none. */
export function snapStatusCode(
  table: Readonly<Record<string, EventStatus>>,
  status: string,
): string | null {
  if (Object.hasOwn(table, status)) return status;
  const wanted = status.trim().toLowerCase();
  return Object.keys(table).find((code) => table[code] === wanted) ?? null;
}

/** A new transaction of `identity` (first service unless given), fresh ids, in `status`'s code. */
export function newSnapTransaction(
  identity: SnapProviderIdentity,
  input: { service?: SnapServiceCode; status?: string; reference?: string; amount?: string } = {},
): SnapTransaction {
  const service = input.service ?? identity.services[0];
  if (!service) throw new Error(`SNAP account ${identity.account} accepts no service`);
  const status = snapStatusCode(identity.statusTable, input.status ?? 'succeeded');
  if (status === null) {
    throw new Error(
      `SNAP account ${identity.account} has no status ${JSON.stringify(input.status)}: expected one of ${Object.entries(
        identity.statusTable,
      )
        .map(([code, normalized]) => `${code} (${normalized})`)
        .join(', ')}`,
    );
  }
  const now = jakartaParts();
  return {
    account: identity.account,
    service,
    reference: referenceOrDefault(input.reference),
    providerReference: `${identity.partnerId.replace(/[^A-Za-z0-9]/g, '').slice(0, 10)}${now.date}${now.time}${uniqueDigits(6)}`,
    partnerServiceId: paddedPartnerServiceId(identity.partnerServiceId),
    customerNo: uniqueDigits(12),
    customerName: 'Budi Santoso',
    amount: input.amount ?? '10000.00',
    currency: 'IDR',
    trxDateTime: snapTimestamp(),
    status,
  };
}

/** The notification body's fields for the transaction's service (ASPI's field names). */
function notificationFields(tx: SnapTransaction, options: SnapBodyOptions) {
  const name = options.spacesInStrings
    ? `  ${tx.customerName.replace(' ', '   ')}  `
    : options.unicodeEscapes
      ? 'José Müller'
      : tx.customerName;
  const note = options.spacesInStrings ? 'Pembayaran  VA  ke  toko' : 'Pembayaran VA';
  const money = { value: tx.amount, currency: tx.currency };
  const virtualAccountNo = `${tx.partnerServiceId}${tx.customerNo}`;
  switch (tx.service) {
    case '25':
      return {
        partnerServiceId: tx.partnerServiceId,
        customerNo: tx.customerNo,
        virtualAccountNo,
        virtualAccountName: name,
        paymentRequestId: tx.providerReference,
        channelCode: 6011,
        hashedSourceAccountNo: '',
        sourceBankCode: '014',
        paidAmount: money,
        cumulativePaymentAmount: null,
        paidBills: '',
        totalAmount: money,
        trxDateTime: tx.trxDateTime,
        referenceNo: tx.providerReference.slice(-15),
        journalNum: uniqueDigits(6),
        paymentType: 1,
        flagAdvise: 'N',
        subCompany: '00000',
        billDetails: [],
        freeTexts: [{ english: note, indonesia: note }],
        trxId: tx.reference,
        additionalInfo: { tXidVA: tx.providerReference, description: note },
      };
    case '34':
      return {
        partnerServiceId: tx.partnerServiceId,
        customerNo: tx.customerNo,
        virtualAccountNo,
        virtualAccountName: name,
        virtualAccountEmail: 'budi@example.com',
        virtualAccountPhone: '6281234567890',
        trxId: tx.reference,
        paymentRequestId: tx.providerReference,
        paidAmount: money,
        totalAmount: money,
        trxDateTime: tx.trxDateTime,
        referenceNo: tx.providerReference.slice(-15),
        additionalInfo: { tXidVA: tx.providerReference, description: note },
      };
    case '52':
      return {
        originalReferenceNo: tx.providerReference,
        originalPartnerReferenceNo: tx.reference,
        latestTransactionStatus: tx.status,
        transactionStatusDesc: STATUS_DESCRIPTION[tx.status] ?? 'Unknown',
        customerNumber: `62812${tx.customerNo.slice(-7)}`,
        accountType: 'SAVINGS',
        destinationNumber: tx.customerNo,
        destinationAccountName: name,
        amount: money,
        bankCode: '014',
        additionalInfo: { issuer: 'DANA', paidTime: tx.trxDateTime, description: note },
      };
    case '56':
      return {
        originalPartnerReferenceNo: tx.reference,
        originalReferenceNo: tx.providerReference,
        originalExternalId: uniqueDigits(16),
        latestTransactionStatus: tx.status,
        transactionStatusDesc: STATUS_DESCRIPTION[tx.status] ?? 'Unknown',
        amount: money,
        createdTime: tx.trxDateTime,
        finishedTime: tx.trxDateTime,
        additionalInfo: { customerName: name, description: note },
      };
  }
}

/** Every non-ASCII character as a `\uXXXX` escape (the JSON stays the same value). */
function escapeNonAscii(text: string): string {
  return text.replace(
    /[\u0080-\uffff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/** The body text the provider sends. */
export function snapNotificationBody(tx: SnapTransaction, options: SnapBodyOptions = {}): string {
  const fields = notificationFields(tx, options);
  const text = JSON.stringify(fields, null, options.layout === 'pretty' ? 2 : undefined);
  return options.unicodeEscapes ? escapeNonAscii(text) : text;
}

/** Whether the provider sends a notification for the transaction's current status. */
export function snapNotifies(tx: SnapTransaction): boolean {
  return VA_SERVICES.has(tx.service) ? tx.status === '00' : true;
}

/**
 * The complete notification request: body, SNAP headers and the family's X-SIGNATURE. `gatewayUrl`
 * is where the provider believes the merchant is (family D signs the full notification URL).
 */
export function snapNotification(
  identity: SnapProviderIdentity,
  tx: SnapTransaction,
  gatewayUrl: string,
  options: SnapNotificationOptions = {},
): SnapRequest {
  const path = options.path ?? snapCallbackPath(identity.account, tx.service);
  const servicePath = SNAP_SERVICE_PATHS[tx.service];
  const body = snapNotificationBody(tx, options);
  const timestamp = options.timestamp ?? snapTimestamp();
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'x-timestamp': timestamp,
    'x-partner-id': identity.partnerId,
    'x-external-id': options.externalId ?? uniqueDigits(18),
    'channel-id': identity.channelId,
  };
  const configured = identity.signedPaths?.[tx.service];
  const signedPath =
    options.signedPath ??
    configured ??
    (identity.signedPathPrefix === undefined ? path : `${identity.signedPathPrefix}${servicePath}`);
  const notifyUrl =
    options.notifyUrl ??
    configured ??
    (identity.notifyUrlBase === undefined
      ? `${gatewayUrl}${path}`
      : `${identity.notifyUrlBase}${servicePath}`);
  if (identity.family === 'rsa-clientkey') headers['x-client-key'] = identity.clientKey;
  if (identity.family === 'hmac-notifyurl') headers['x-version'] = identity.version ?? '1.0';
  if (identity.family === 'hmac-token') {
    if (!options.accessToken) throw new Error('a hmac-token notification needs the access token');
    headers.authorization = `Bearer ${options.accessToken}`;
  }
  headers['x-signature'] = signSnapNotification({
    family: identity.family,
    body,
    timestamp,
    signedPath,
    clientKey: identity.clientKey,
    privateKey: options.privateKey ?? identity.privateKey,
    clientSecret: options.clientSecret ?? identity.clientSecret,
    accessToken: options.accessToken,
    notifyUrl,
    version: identity.version ?? '1.0',
  });
  return { method: 'POST', path, headers, body };
}
