const DECIMAL = /^-?\d+(\.\d+)?$/;

/** True for a plain decimal numeral such as `20`, `3000.00` or `-1.5` (no exponent, no separators). */
export function isDecimalString(value: unknown): value is string {
  return typeof value === 'string' && DECIMAL.test(value);
}

/**
 * Money as a decimal string, never a float. Strings are kept as written (trimmed) when they are
 * plain decimals; JSON numbers are turned into their shortest round-trip text, which is exact
 * for every amount written with at most 15 significant digits (10000.1 stays "10000.1").
 * Anything else (NaN, Infinity, exponents, unsafe integers) is refused with `null`.
 */
export function toDecimalString(value: unknown): string | null {
  if (typeof value === 'string') {
    const text = value.trim();
    return DECIMAL.test(text) ? text : null;
  }
  if (typeof value === 'number' && Number.isFinite(value)) {
    if (Number.isInteger(value) && !Number.isSafeInteger(value)) return null;
    const text = String(value);
    return DECIMAL.test(text) ? text : null;
  }
  if (typeof value === 'bigint') return value.toString();
  return null;
}

/** A plain decimal numeral as an integer of its digits and the number of fraction digits. */
function scaled(value: string): { units: bigint; scale: number } {
  if (!DECIMAL.test(value)) throw new Error(`not a decimal numeral: ${value}`);
  const [whole, fraction = ''] = value.split('.');
  // "-0.5" → "-05" → -5n: the sign stays with the digits.
  return { units: BigInt(whole + fraction), scale: fraction.length };
}

function atScale(value: { units: bigint; scale: number }, scale: number): bigint {
  return value.units * 10n ** BigInt(scale - value.scale);
}

/** Exact comparison of two decimal numerals: negative, zero or positive like a sort comparator. */
export function compareDecimals(a: string, b: string): number {
  const x = scaled(a);
  const y = scaled(b);
  const scale = Math.max(x.scale, y.scale);
  const difference = atScale(x, scale) - atScale(y, scale);
  return difference < 0n ? -1 : difference > 0n ? 1 : 0;
}

/** Exact sum of decimal numerals, in canonical form (see canonicalDecimal). */
export function sumDecimals(values: readonly string[]): string {
  const parts = values.map(scaled);
  const scale = Math.max(0, ...parts.map((part) => part.scale));
  const total = parts.reduce((sum, part) => sum + atScale(part, scale), 0n);
  return canonicalDecimal(formatScaled(total, scale));
}

function formatScaled(units: bigint, scale: number): string {
  const negative = units < 0n;
  const digits = (negative ? -units : units).toString().padStart(scale + 1, '0');
  const text = scale === 0 ? digits : `${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
  return negative ? `-${text}` : text;
}

/**
 * One spelling per amount, so equal amounts compare equal as text: no leading zeros, no trailing
 * fraction zeros, no "-0" (`"1500.00"` → `"1500"`, `"0.50"` → `"0.5"`).
 */
export function canonicalDecimal(value: string): string {
  if (!DECIMAL.test(value)) throw new Error(`not a decimal numeral: ${value}`);
  const negative = value.startsWith('-');
  const [whole, fraction = ''] = (negative ? value.slice(1) : value).split('.');
  const integer = whole.replace(/^0+(?=\d)/, '');
  const decimals = fraction.replace(/0+$/, '');
  const text = decimals ? `${integer}.${decimals}` : integer;
  return negative && /[1-9]/.test(text) ? `-${text}` : text;
}
