import { ValidateBy } from 'class-validator';

/**
 * Control characters (C0, DEL, C1), lone surrogates and the Unicode line separators: nothing an
 * identifier, a code or a search term ever holds, and NUL is what PostgreSQL text cannot store.
 */
const NOT_PRINTABLE = /[\p{Cc}\p{Cs}\u2028\u2029]/u;

export function isPrintableText(value: string): boolean {
  return !NOT_PRINTABLE.test(value);
}

/**
 * class-validator: a string without control characters. For identifiers, references and codes,
 * which become database keys: refused (400) rather than altered, since an altered id would name
 * another transaction. The message never repeats the value.
 */
export function IsPrintable(): PropertyDecorator {
  return ValidateBy({
    name: 'isPrintable',
    validator: {
      validate: (value: unknown) => typeof value !== 'string' || isPrintableText(value),
      defaultMessage: (args) => `${args?.property} must not contain control characters`,
    },
  });
}

/** Text for a column that holds what a client sent (messages, addresses): NUL and other controls escaped. */
export function storableText(value: string): string {
  return value.replace(
    /[\p{Cc}\p{Cs}\u2028\u2029]/gu,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}
