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
