import {
  createHash,
  createHmac,
  createPublicKey,
  createSign,
  createVerify,
  type KeyObject,
} from 'node:crypto';
import { constantTimeEqual } from '../../common/constant-time.js';

/**
 * SNAP's signatures (SNAP.md): the body hash over the minified body, the string to sign of each
 * family, SHA256withRSA and HMAC-SHA512 in base64.
 */

/**
 * JSON text with the whitespace OUTSIDE string values removed, character for character otherwise:
 * escapes (`\u00e9`, `\"`) and spaces inside strings stay as sent. Never a re-serialization.
 */
export function minifyJson(text: string): string {
  let out = '';
  let inString = false;
  for (let i = 0; i < text.length; i += 1) {
    const char = text[i];
    if (inString) {
      out += char;
      if (char === '\\') {
        i += 1;
        if (i < text.length) out += text[i];
      } else if (char === '"') inString = false;
    } else if (char === '"') {
      inString = true;
      out += char;
    } else if (char !== ' ' && char !== '\t' && char !== '\n' && char !== '\r') out += char;
  }
  return out;
}

/** Lower-case hex SHA-256 of bytes. */
function sha256HexOf(bytes: Buffer | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * The body hashes a signature may have been computed over, in the order tried: the raw bytes as
 * received, then the minified text (when it differs).
 */
export function bodyHashes(rawBody: Buffer): string[] {
  const raw = sha256HexOf(rawBody);
  const minified = minifyJson(rawBody.toString('utf8'));
  const min = sha256HexOf(Buffer.from(minified, 'utf8'));
  return min === raw ? [raw] : [raw, min];
}

/** Family B / status API requests: `POST:path:token:bodyHash:timestamp`. */
export function tokenStringToSign(
  path: string,
  token: string,
  bodyHash: string,
  timestamp: string,
) {
  return `POST:${path}:${token}:${bodyHash}:${timestamp}`;
}

/** Family C: `POST:path:bodyHash:timestamp`. */
export function bodyStringToSign(path: string, bodyHash: string, timestamp: string) {
  return `POST:${path}:${bodyHash}:${timestamp}`;
}

/** Family D: `notifyUrl:version:bodyHash:timestamp`. */
export function notifyUrlStringToSign(
  notifyUrl: string,
  version: string,
  bodyHash: string,
  timestamp: string,
) {
  return `${notifyUrl}:${version}:${bodyHash}:${timestamp}`;
}

/** Family A and the B2B token request: `clientKey|timestamp`. */
export function clientKeyStringToSign(clientKey: string, timestamp: string) {
  return `${clientKey}|${timestamp}`;
}

const publicKeys = new Map<string, KeyObject>();

/** A PEM public key parsed once (accounts are replaced whole on reload; the cache is bounded). */
export function publicKeyOf(pem: string): KeyObject {
  let key = publicKeys.get(pem);
  if (!key) {
    key = createPublicKey(pem);
    if (publicKeys.size >= 256) publicKeys.clear();
    publicKeys.set(pem, key);
  }
  return key;
}

/** Whether `signature` (base64) is a SHA256withRSA signature of `text` by `publicKeyPem`. */
export function rsaVerifies(publicKeyPem: string, text: string, signature: string): boolean {
  const bytes = Buffer.from(signature, 'base64');
  if (bytes.length === 0) return false;
  try {
    return createVerify('RSA-SHA256').update(text, 'utf8').verify(publicKeyOf(publicKeyPem), bytes);
  } catch {
    return false;
  }
}

/** SHA256withRSA, base64 (the gateway's own requests: status API access token). */
export function rsaSign(privateKeyPem: string, text: string): string {
  return createSign('RSA-SHA256').update(text, 'utf8').sign(privateKeyPem, 'base64');
}

/** HMAC-SHA512, base64. */
export function hmacSha512(secret: string, text: string): string {
  return createHmac('sha512', secret).update(text, 'utf8').digest('base64');
}

/** Constant-time comparison of a presented HMAC-SHA512 (base64) with the expected one. */
export function hmacVerifies(secret: string, text: string, signature: string): boolean {
  return constantTimeEqual(signature, hmacSha512(secret, text));
}
