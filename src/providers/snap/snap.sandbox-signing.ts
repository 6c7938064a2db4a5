/**
 * The provider side of SNAP signatures (Bank Indonesia's Standar Nasional Open API Pembayaran), as
 * the sandbox, the simulator and the tests sign notifications. Written from the standard
 * (/work/shared/design/SNAP.md, ASPI's SNAP pages) and the providers' SDK documentation — never
 * from the gateway's verifier, so the two cannot share one misreading.
 *
 *   A rsa-clientkey   SHA256withRSA(providerPrivateKey, X-CLIENT-KEY + "|" + X-TIMESTAMP)
 *   B hmac-token      HMAC-SHA512(clientSecret, POST:path:token:bodyHash:X-TIMESTAMP)
 *   C rsa-body        SHA256withRSA(providerPrivateKey, POST:path:bodyHash:X-TIMESTAMP)
 *   D hmac-notifyurl  HMAC-SHA512(clientSecret, notifyUrl:X-VERSION:bodyHash:X-TIMESTAMP)
 *
 * bodyHash is the lower-case hex SHA-256 of the minified body; every signature is base64 (SNAP's
 * X-SIGNATURE is base64 for both the asymmetric and the symmetric form).
 */
import { createHash, createHmac, createSign, createVerify, type KeyLike } from 'node:crypto';

export type SnapFamily = 'rsa-clientkey' | 'hmac-token' | 'rsa-body' | 'hmac-notifyurl';

export const SNAP_FAMILIES: readonly SnapFamily[] = [
  'rsa-clientkey',
  'hmac-token',
  'rsa-body',
  'hmac-notifyurl',
];

/**
 * The JSON text without the whitespace between tokens. Whitespace inside string values is data and
 * stays (one SDK strips it there too: a bug that breaks every name with a space). Escapes are kept
 * as written: `\u00e9` stays six characters, the body is never parsed and re-serialized.
 */
export function minifySnapJson(text: string): string {
  let out = '';
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      out += c;
      if (c === '\\') out += text[++i] ?? '';
      else if (c === '"') inString = false;
    } else if (c === '"') {
      inString = true;
      out += c;
    } else if (c !== ' ' && c !== '\t' && c !== '\n' && c !== '\r') {
      out += c;
    }
  }
  return out;
}

/** Lower-case hex SHA-256 of the minified body: the bodyHash of families B, C and D. */
export function snapBodyHash(body: string): string {
  return createHash('sha256').update(minifySnapJson(body), 'utf8').digest('hex');
}

/** X-TIMESTAMP as SNAP writes it: ISO 8601 in Jakarta time, `2024-11-20T14:14:15+07:00`. */
export function snapTimestamp(date = new Date()): string {
  const local = new Date(date.getTime() + 7 * 3_600_000).toISOString();
  return `${local.slice(0, 19)}+07:00`;
}

/** What one notification is signed with; which fields matter depends on the family. */
export interface SnapSigningInput {
  family: SnapFamily;
  /** The exact body text sent. */
  body: string;
  timestamp: string;
  /** The provider's view of the URL path (B, C): not necessarily the path the gateway receives. */
  signedPath?: string;
  /** A: the X-CLIENT-KEY header, the first part of the signed string. */
  clientKey?: string;
  /** A, C: the provider's RSA private key (PEM or KeyObject). */
  privateKey?: KeyLike;
  /** B, D: the client secret. */
  clientSecret?: string;
  /** B: the access token the merchant (the gateway) issued. */
  accessToken?: string;
  /** D: the notification URL as registered at the provider, and X-VERSION. */
  notifyUrl?: string;
  version?: string;
}

function required(input: SnapSigningInput, name: keyof SnapSigningInput): string {
  const value = input[name];
  if (typeof value !== 'string' || value === '')
    throw new Error(`SNAP ${input.family} signing needs ${name}`);
  return value;
}

/** The string the family signs. */
export function snapStringToSign(input: SnapSigningInput): string {
  const bodyHash = () => snapBodyHash(input.body);
  switch (input.family) {
    case 'rsa-clientkey':
      return `${required(input, 'clientKey')}|${input.timestamp}`;
    case 'hmac-token':
      return `POST:${required(input, 'signedPath')}:${required(input, 'accessToken')}:${bodyHash()}:${input.timestamp}`;
    case 'rsa-body':
      return `POST:${required(input, 'signedPath')}:${bodyHash()}:${input.timestamp}`;
    case 'hmac-notifyurl':
      return `${required(input, 'notifyUrl')}:${required(input, 'version')}:${bodyHash()}:${input.timestamp}`;
  }
}

/** SHA256withRSA, base64: the asymmetric SNAP signature. */
export function snapRsaSign(privateKey: KeyLike, text: string): string {
  return createSign('RSA-SHA256').update(text, 'utf8').sign(privateKey, 'base64');
}

/** Checks an asymmetric SNAP signature (base64) of `text` with a public key. */
export function snapRsaVerify(publicKey: KeyLike, text: string, signature: string): boolean {
  try {
    return createVerify('RSA-SHA256')
      .update(text, 'utf8')
      .verify(publicKey, Buffer.from(signature, 'base64'));
  } catch {
    return false;
  }
}

/** HMAC-SHA512, base64: the symmetric SNAP signature. */
export function snapHmacSign(secret: string, text: string): string {
  return createHmac('sha512', secret).update(text, 'utf8').digest('base64');
}

/** X-SIGNATURE of one notification, with the family's real algorithm. */
export function signSnapNotification(input: SnapSigningInput): string {
  const text = snapStringToSign(input);
  if (input.family === 'rsa-clientkey' || input.family === 'rsa-body') {
    if (!input.privateKey) throw new Error(`SNAP ${input.family} signing needs privateKey`);
    return snapRsaSign(input.privateKey, text);
  }
  return snapHmacSign(required(input, 'clientSecret'), text);
}

/**
 * Headers of the access-token request a provider of family B sends to the merchant before
 * notifying: `X-SIGNATURE` = SHA256withRSA of `clientId|X-TIMESTAMP` with the provider's key.
 */
export function snapTokenRequestHeaders(
  clientId: string,
  privateKey: KeyLike,
  timestamp = snapTimestamp(),
): Record<string, string> {
  return {
    'content-type': 'application/json',
    'x-client-key': clientId,
    'x-timestamp': timestamp,
    'x-signature': snapRsaSign(privateKey, `${clientId}|${timestamp}`),
  };
}

/** The token request's body (SNAP's B2B grant). */
export const SNAP_TOKEN_REQUEST_BODY = JSON.stringify({ grantType: 'client_credentials' });
