import { createCipheriv, createHash } from 'node:crypto';
import { S88PAY } from './credentials.js';

/**
 * S88Pay's encryption, written independently of the gateway: AES-256-CBC/PKCS#7, key =
 * SHA-256(api_key) raw, IV = first 16 hex characters of SHA-256(secret_key) as ASCII,
 * ciphertext → base64 → percent-encoding.
 */
export function s88payEncrypt(
  plaintext: string | Buffer,
  credentials: { apiKey: string; secretKey: string } = S88PAY,
  options: { pad?: boolean } = {},
): string {
  const key = createHash('sha256').update(credentials.apiKey).digest();
  const iv = Buffer.from(
    createHash('sha256').update(credentials.secretKey).digest('hex').slice(0, 16),
    'ascii',
  );
  const cipher = createCipheriv('aes-256-cbc', key, iv);
  cipher.setAutoPadding(options.pad ?? true);
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return encodeURIComponent(ciphertext.toString('base64'));
}

/** `k=v&k=v` the way S88Pay's test vector shows it: values written as they are, `&` and `=` escaped. */
export function s88payFormText(fields: Record<string, string | number>): string {
  return Object.entries(fields)
    .map(([k, v]) => `${k}=${String(v).replace(/[%&=]/g, (c) => encodeURIComponent(c))}`)
    .join('&');
}

let sequence = 0;

export interface S88payCallbackOptions {
  /** How the plaintext is written: JSON (current docs) or k=v text. */
  format?: 'json' | 'form';
  credentials?: { apiKey: string; secretKey: string };
  /** Replaces (or, with undefined, removes) the codes sent in clear beside `key`. */
  beside?: Partial<Record<'transaction_code' | 'transaction_no', string | undefined>>;
}

/** The decrypted payload of a completed deposit, unique per call; overrides with undefined remove a field. */
export function s88payPayload(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  sequence += 1;
  const stamp = `${Date.now()}`.slice(-8) + String(sequence).padStart(4, '0');
  const fields: Record<string, unknown> = {
    transaction_no: `DP-${stamp}`,
    transaction_code: `ORD-${stamp}`,
    transaction_status: 2,
    transaction_amount: '150000.00',
    transaction_fee: '1500.00',
    currency_code: 'IDR',
    transaction_ref: '',
    merchant_code: 'SKU20230101012023',
    merchant_api_key: S88PAY.apiKey,
    payment_code: 'PAY01D',
    transaction_timestamp: 1763701512,
    ...overrides,
  };
  for (const [name, value] of Object.entries(fields)) if (value === undefined) delete fields[name];
  return fields;
}

/** The HTTP body S88Pay posts for `payload`: `key` plus the two codes in clear. */
export function s88payCallback(
  payload: Record<string, unknown>,
  options: S88payCallbackOptions = {},
) {
  const plaintext =
    options.format === 'form'
      ? s88payFormText(payload as Record<string, string | number>)
      : JSON.stringify(payload);
  const body: Record<string, unknown> = {
    key: s88payEncrypt(plaintext, options.credentials),
    transaction_code: payload.transaction_code,
    transaction_no: payload.transaction_no,
    ...options.beside,
  };
  for (const [name, value] of Object.entries(body)) if (value === undefined) delete body[name];
  return body;
}

export function postJson(url: string, body: unknown, headers: Record<string, string> = {}) {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}
