import { createHash, createHmac, createSign, generateKeyPairSync, randomUUID } from 'node:crypto';

/**
 * A test-only SNAP signer, written from SNAP.md (not from the gateway's code): the four families'
 * strings to sign, SHA256withRSA and HMAC-SHA512 in base64, the body hash over the minified body.
 */

export interface RsaPair {
  publicKey: string;
  privateKey: string;
}

export function rsaPair(): RsaPair {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    publicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}

/** Whitespace outside strings removed (a deliberately separate implementation from the gateway's). */
export function minified(text: string): string {
  return text.replace(/("(?:[^"\\]|\\.)*")|\s+/g, (_m, quoted: string | undefined) => quoted ?? '');
}

export const bodyHash = (text: string) =>
  createHash('sha256').update(minified(text), 'utf8').digest('hex');

export const rsaSign = (privateKey: string, text: string) =>
  createSign('RSA-SHA256').update(text, 'utf8').sign(privateKey, 'base64');

export const hmac = (secret: string, text: string) =>
  createHmac('sha512', secret).update(text, 'utf8').digest('base64');

/** ISO 8601 with +07:00, `offsetMs` from now. */
export function jakartaTimestamp(offsetMs = 0): string {
  const at = new Date(Date.now() + offsetMs + 7 * 3_600_000);
  return `${at.toISOString().slice(0, 19)}+07:00`;
}

export type Family = 'rsa-clientkey' | 'hmac-token' | 'rsa-body' | 'hmac-notifyurl';

export interface SignOptions {
  family: Family;
  /** The path (family D: URL) the provider signs. */
  signedPath: string;
  body: string;
  timestamp?: string;
  privateKey?: string;
  secret?: string;
  clientKey?: string;
  token?: string;
  version?: string;
  partnerId?: string;
  externalId?: string;
}

/** The headers a SNAP provider of `family` sends with `body`. */
export function snapHeaders(options: SignOptions): Record<string, string> {
  const timestamp = options.timestamp ?? jakartaTimestamp();
  const hash = bodyHash(options.body);
  let signature: string;
  const extra: Record<string, string> = {};
  switch (options.family) {
    case 'rsa-clientkey':
      signature = rsaSign(options.privateKey!, `${options.clientKey}|${timestamp}`);
      extra['x-client-key'] = options.clientKey!;
      break;
    case 'rsa-body':
      signature = rsaSign(options.privateKey!, `POST:${options.signedPath}:${hash}:${timestamp}`);
      break;
    case 'hmac-token':
      signature = hmac(
        options.secret!,
        `POST:${options.signedPath}:${options.token}:${hash}:${timestamp}`,
      );
      extra.authorization = `Bearer ${options.token}`;
      break;
    case 'hmac-notifyurl':
      signature = hmac(
        options.secret!,
        `${options.signedPath}:${options.version ?? '1.0'}:${hash}:${timestamp}`,
      );
      extra['x-version'] = options.version ?? '1.0';
      break;
  }
  return {
    'content-type': 'application/json',
    'x-timestamp': timestamp,
    'x-signature': signature,
    'x-partner-id': options.partnerId ?? 'PARTNER-1',
    'x-external-id': options.externalId ?? randomUUID().replace(/-/g, '').slice(0, 20),
    'channel-id': '95221',
    ...extra,
  };
}

let sequence = 0;

/** A VA payment notification (service 25) for `trxId`, as compact JSON text. */
export function vaPayment(trxId: string, value = '10000.00', extra: Record<string, unknown> = {}) {
  sequence += 1;
  return JSON.stringify({
    partnerServiceId: '   12345',
    customerNo: String(600 + sequence).padStart(6, '0'),
    virtualAccountNo: `   12345${String(600 + sequence).padStart(6, '0')}`,
    virtualAccountName: 'Budi Santoso',
    trxId,
    paymentRequestId: `PAY-${trxId}`,
    paidAmount: { value, currency: 'IDR' },
    trxDateTime: '2024-11-20T14:14:15+07:00',
    ...extra,
  });
}

export async function postSnap(
  url: string,
  body: string,
  headers: Record<string, string>,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(url, { method: 'POST', headers, body });
  const text = await res.text();
  return { status: res.status, json: JSON.parse(text) as Record<string, unknown> };
}
