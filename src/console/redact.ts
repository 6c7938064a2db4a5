/**
 * What the callback inspector shows of a stored request: secrets and tokens never, personal data
 * masked. Field names decide (the providers' bodies are flat forms or shallow JSON).
 */
/** Words of a field or header name: `merchantToken`, `x-req-signature`, `va_number` → words. */
const words = (key: string) =>
  key
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/);
const SECRET_WORDS = new Set([
  'sign',
  'signature',
  'token',
  'secret',
  'key',
  'password',
  'passwd',
  'auth',
  'authorization',
  'hash',
  'pin',
  'otp',
  'cvv',
  'cvc',
  'credential',
  'credentials',
]);
const PERSONAL_WORDS = new Set([
  'name',
  'nm',
  'email',
  'mail',
  'phone',
  'msisdn',
  'mobile',
  'address',
  'card',
  'vacct',
  'va',
  'destination',
  'customer',
  'billing',
  'nik',
  'ktp',
  'birth',
  'dob',
]);
const isSecret = (key: string) => words(key).some((w) => SECRET_WORDS.has(w));
const isPersonal = (key: string) =>
  words(key).some((w) => PERSONAL_WORDS.has(w)) || /^(vacctno|billingnm|cardno)$/i.test(key);

export const REDACTED = '[redacted]';

/** `Budi Santoso` → `B*** S***`; digits keep their last 4. */
export function maskPersonal(value: string): string {
  if (/^[\d\s+-]{6,}$/.test(value))
    return `${'*'.repeat(Math.max(0, value.length - 4))}${value.slice(-4)}`;
  return value
    .split(/(\s+|@)/)
    .map((part) => (/^\s+$|^@$/.test(part) || part.length === 0 ? part : `${part[0]}***`))
    .join('');
}

export function redactValue(key: string, value: unknown): unknown {
  if (isSecret(key)) return REDACTED;
  if (value !== null && typeof value === 'object') return redactFields(value);
  if (isPersonal(key) && (typeof value === 'string' || typeof value === 'number'))
    return maskPersonal(String(value));
  return value;
}

export function redactFields(value: unknown): unknown {
  if (Array.isArray(value)) return value.map((item) => redactFields(item));
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, redactValue(k, v)]),
  );
}

export function redactHeaders(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(headers).map(([k, v]) => [k, isSecret(k) ? REDACTED : v]),
  );
}

/** A stored body as shown: JSON and forms field by field; anything else only its size. */
export function redactBody(body: string, encoding: 'utf8' | 'base64'): string {
  if (encoding === 'base64') return `(${Buffer.from(body, 'base64').length} bytes, not text)`;
  try {
    return JSON.stringify(redactFields(JSON.parse(body)), null, 2);
  } catch {
    // not JSON
  }
  if (/^[^=&\s]+=[^&]*(&[^=&\s]+=[^&]*)*$/.test(body)) {
    const form = new URLSearchParams(body);
    return [...form.entries()].map(([k, v]) => `${k}=${String(redactValue(k, v))}`).join('\n');
  }
  return `(${body.length} characters of text; not a form or JSON, not shown: it may hold a secret)`;
}
