import { createCipheriv, createDecipheriv, createHash } from 'node:crypto';
import { isPrintableText } from '../../common/printable.js';

/** S88Pay's pair of credentials, exactly as issued (the api_key may contain `%3D`: never decode it). */
export interface S88payCredentials {
  apiKey: string;
  secretKey: string;
}

/**
 * Why a `key` was refused. `readsCiphertext` marks failures found only by decrypting (padding,
 * plaintext shape): the provider answers all of those with one message, because telling them
 * apart would be a padding oracle on unauthenticated AES-CBC.
 */
export class S88payDecryptionError extends Error {
  constructor(
    message: string,
    readonly readsCiphertext = true,
  ) {
    super(message);
  }
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const FIELD_NAME = /^[A-Za-z0-9_.[\]-]+$/;

/** AES-256 key: the 32 raw bytes of SHA-256(api_key). */
export function s88payAesKey(apiKey: string): Buffer {
  return createHash('sha256').update(apiKey, 'utf8').digest();
}

/** IV: the first 16 characters of lowercase hex SHA-256(secret_key), as 16 ASCII bytes. */
export function s88payIv(secretKey: string): Buffer {
  return Buffer.from(
    createHash('sha256').update(secretKey, 'utf8').digest('hex').slice(0, 16),
    'ascii',
  );
}

/** The AES-256 key and IV of a credential pair, derived once per configured key. */
export interface S88payCipherKey {
  aesKey: Buffer;
  iv: Buffer;
}

export function s88payCipherKey(credentials: S88payCredentials): S88payCipherKey {
  return { aesKey: s88payAesKey(credentials.apiKey), iv: s88payIv(credentials.secretKey) };
}

/**
 * The wire `key` → ciphertext: percent-decode (%XX only; `+` is a base64 digit, never a space),
 * strict base64-decode (Buffer.from would silently skip junk), whole AES blocks. Failures here do
 * not depend on the credentials (`readsCiphertext` false).
 */
export function s88payCiphertext(wireKey: string): Buffer {
  let base64: string;
  try {
    base64 = decodeURIComponent(wireKey);
  } catch {
    throw new S88payDecryptionError(
      'key is not percent-encoded base64 (malformed %-escape)',
      false,
    );
  }
  if (!BASE64.test(base64))
    throw new S88payDecryptionError('key is not percent-encoded base64', false);
  const ciphertext = Buffer.from(base64, 'base64');
  if (ciphertext.length === 0 || ciphertext.length % 16 !== 0) {
    throw new S88payDecryptionError('key is not a whole number of AES blocks', false);
  }
  return ciphertext;
}

/** AES-256-CBC/PKCS#7 decrypt, then strict UTF-8. */
export function decryptS88payCiphertext(ciphertext: Buffer, key: S88payCipherKey): string {
  let plain: Buffer;
  try {
    const decipher = createDecipheriv('aes-256-cbc', key.aesKey, key.iv);
    plain = Buffer.concat([decipher.update(ciphertext), decipher.final()]);
  } catch {
    // A wrong api_key or secret_key almost always shows up here, as bad PKCS#7 padding.
    throw new S88payDecryptionError(
      'key does not decrypt with the configured credentials: bad padding',
    );
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(plain);
  } catch {
    throw new S88payDecryptionError(
      'key does not decrypt with the configured credentials: the plaintext is not text',
    );
  }
}

/** The wire `key` → plaintext with one credential pair. */
export function decryptS88payKey(wireKey: string, credentials: S88payCredentials): string {
  return decryptS88payCiphertext(s88payCiphertext(wireKey), s88payCipherKey(credentials));
}

/** plaintext → the wire `key`; the inverse of decryptS88payKey (for samples and tooling). */
export function encryptS88payKey(plaintext: string, credentials: S88payCredentials): string {
  const cipher = createCipheriv(
    'aes-256-cbc',
    s88payAesKey(credentials.apiKey),
    s88payIv(credentials.secretKey),
  );
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return encodeURIComponent(ciphertext.toString('base64'));
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * `k=v&k=v` text. Values are %XX-decoded but `+` is kept literally: S88Pay's own encoding of the
 * same payload leaves `+` as data (its key is base64), and its fields (codes, amounts, timestamps)
 * never hold spaces, so a literal `+` (`+07:00`, a reference) is far likelier than an encoded space.
 */
function parseFormText(text: string): Record<string, string> | null {
  const entries: Array<[string, string]> = [];
  const seen = new Set<string>();
  for (const pair of text.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    if (eq <= 0) return null;
    let name: string;
    let value: string;
    try {
      name = decodeURIComponent(pair.slice(0, eq));
      value = decodeURIComponent(pair.slice(eq + 1));
    } catch {
      return null;
    }
    // A repeated field would make "the" transaction_code ambiguous.
    if (!FIELD_NAME.test(name) || seen.has(name)) return null;
    seen.add(name);
    entries.push([name, value]);
  }
  // fromEntries defines own properties, so a `__proto__` field cannot touch the prototype.
  return entries.length > 0 ? Object.fromEntries(entries) : null;
}

/** How many member names JSON text holds (strings followed by `:`), at any depth. */
function jsonMemberNames(text: string): number {
  let names = 0;
  for (let i = 0; i < text.length; i += 1) {
    if (text[i] !== '"') continue;
    // Skip to the closing quote.
    for (i += 1; i < text.length && text[i] !== '"'; i += 1) if (text[i] === '\\') i += 1;
    let j = i + 1;
    while (j < text.length && /\s/.test(text[j])) j += 1;
    if (text[j] === ':') names += 1;
  }
  return names;
}

const scalar = (value: unknown) =>
  value === null || ['string', 'number', 'boolean'].includes(typeof value);

/**
 * The decrypted plaintext as an object of fields: a JSON object (current docs) or `k=v&k=v`
 * text (seen in a public integration and in S88Pay's own test vector).
 *
 * AES-CBC without a MAC is malleable: a captured key can be altered or spliced block by block,
 * and every such change turns at least one 16-byte block into noise. So only a strictly
 * well-formed plaintext counts: printable text (no control character, in the text or in any
 * decoded value), one flat object of scalar fields, no field named twice. Anything else is what
 * tampering looks like and is refused like a wrong key.
 */
export function parseS88payPlaintext(plaintext: string): Record<string, unknown> {
  const refused = () =>
    new S88payDecryptionError(
      'key does not decrypt with the configured credentials into a well-formed payload',
    );
  if (!isPrintableText(plaintext.replace(/[\t\n\r]/g, ' '))) throw refused();
  const fields = parseJsonObject(plaintext) ?? parseFormText(plaintext.trim());
  // Also what a wrong key gives in the rare case its garbage happens to end in valid padding.
  if (!fields) throw refused();
  for (const value of Object.values(fields)) {
    if (!scalar(value) || (typeof value === 'string' && !isPrintableText(value))) throw refused();
  }
  return fields;
}

/** A JSON object with every member named once; null when the text is not one. */
function parseJsonObject(text: string): Record<string, unknown> | null {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return null;
  }
  // JSON.parse keeps the last of a repeated name silently: count the names in the text.
  if (!isPlainObject(json) || jsonMemberNames(text) !== Object.keys(json).length) return null;
  return json;
}
