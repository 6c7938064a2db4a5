/**
 * Personal data (Indonesia's PDP law, UU 27/2022): e-mail addresses, phone numbers, payment card
 * numbers, names and addresses of customers. The gateway stores the raw callback whole (the
 * admin's record, under retention) but logs none of it and, by default, publishes it masked.
 * See docs/security.md "Personal data".
 */

/** A customer number: `0812****214` (first four, last three); short ones entirely hidden. */
export function maskNumber(value: string): string {
  if (value.length <= 7) return '*'.repeat(value.length);
  return `${value.slice(0, 4)}****${value.slice(-3)}`;
}

/** `budi.santoso@example.com` → `b***@example.com`. */
function maskEmail(local: string, domain: string): string {
  return `${local.slice(0, 1)}***@${domain}`;
}

/** A card number: every digit but the last four hidden, separators kept out. */
function maskCard(digits: string): string {
  return `${'*'.repeat(digits.length - 4)}${digits.slice(-4)}`;
}

/** Luhn checksum: what makes a run of 13–19 digits a card number rather than an id. */
function luhn(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i += 1) {
    let d = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

const EMAIL = /([A-Za-z0-9._%+-]+)@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)/g;
/** 13–19 digits in one run, or four groups of four separated by a space or a dash. */
const CARD = /(?<![\w])(?:\d{13,19}|\d{4}(?:[ -]\d{4}){3}(?:[ -]?\d{1,3})?)(?![\w])/g;
/** Indonesian mobile numbers (+62 8…, 62 8…, 08…), separators allowed; and other +country numbers. */
const PHONE =
  /(?<![\w+])(?:(?:\+?62|0)[ -]?8\d(?:[ -]?\d){6,11}|\+[1-9]\d(?:[ -]?\d){6,13})(?![\w])/g;

const isDigit = (code: number) => code >= 48 && code <= 57;
/** `\w` of a regular expression without the `u` flag: ASCII letters, digits, `_`. */
const isWordCharacter = (code: number) =>
  isDigit(code) || (code >= 65 && code <= 90) || (code >= 97 && code <= 122) || code === 95;

/**
 * False when none of EMAIL, CARD and PHONE can match. EMAIL needs an `@`. CARD and PHONE both
 * start where no word character precedes them (PHONE also not a `+`) and hold at least 9 digits
 * (a card 13, or 16 in groups; a phone `0` `8` and seven more, separators allowed), a single space
 * or dash allowed between two digits; PHONE's other form needs a `+`. So a text with no `@`, no
 * `+`, and no run of 9 digits that starts after a non-word character (or at the start, or after a
 * separator inside the run) holds nothing to mask. Most values of a callback (ids, amounts, codes,
 * dates, hex signatures, the log's own messages) are told apart by one pass over their characters,
 * without the three regular expressions and their copies of the string (issue 28).
 */
function mayHoldPersonalText(text: string): boolean {
  let inRun = false;
  let counting = false;
  let digits = 0;
  for (let i = 0; i < text.length; i += 1) {
    const code = text.charCodeAt(i);
    if (code === 64 /* @ */ || code === 43 /* + */) return true;
    if (isDigit(code)) {
      if (!inRun) {
        inRun = true;
        // A match cannot start right after a letter or `_` (the expressions' lookbehind).
        counting = i === 0 || !isWordCharacter(text.charCodeAt(i - 1));
        digits = 0;
      }
      if (counting && ++digits >= 9) return true;
    } else if (
      (code === 32 || code === 45) /* space, - */ &&
      inRun &&
      isDigit(text.charCodeAt(i + 1))
    ) {
      // The run goes on; a match may also start after this separator.
      if (!counting) {
        counting = true;
        digits = 0;
      }
    } else inRun = false;
  }
  return false;
}

/**
 * Free text with every e-mail address, card number (Luhn) and phone number in it masked: for a
 * provider's answer or message before it is logged or published ("Trx ke 081234567890 sukses"
 * → "Trx ke 0812****890 sukses").
 */
export function maskPersonalText(text: string): string {
  return mayHoldPersonalText(text) ? maskPersonalTextAlways(text) : text;
}

/** maskPersonalText without its pre-check: the three expressions always run (tests compare). */
export function maskPersonalTextAlways(text: string): string {
  return text
    .replace(EMAIL, (_m, local: string, domain: string) => maskEmail(local, domain))
    .replace(CARD, (match) => {
      const digits = match.replace(/[ -]/g, '');
      return luhn(digits) ? maskCard(digits) : match;
    })
    .replace(PHONE, (match) => maskNumber(match.replace(/[ -]/g, '')));
}

/**
 * Field names that hold a customer's personal data at any provider (compared lower case without
 * `_` and `-`): names, e-mail, phone, address parts, card and identity numbers, birth dates.
 * `goodsNm`, `bankNm` and other names of things are not among them. SNAP's `virtualAccountName`
 * is the customer's name.
 */
const PERSONAL_FIELD =
  /^(?:(?:billing|customer|delivery|payer|buyer|cust|card(?:holder)?|account|va|virtualaccount)?(?:nm|name|fullname|firstname|lastname|holdername|holder)|(?:billing|customer|delivery|payer|buyer|cust)(?:city|state|country)|.*(?:email|mail|phone|msisdn|mobile|handphone|telp|addr|address|postcd|postcode|zipcode|birth|dob|ktp|npwp)|nik|(?:masked)?(?:cardno|cardnumber|card|pan|ccnumber))$/;

/** True when a field of that name holds personal data wherever it appears. */
export function isPersonalField(name: string): boolean {
  let personal = personalFieldNames.get(name);
  if (personal === undefined) {
    personal = PERSONAL_FIELD.test(name.toLowerCase().replace(/[_-]/g, ''));
    // A provider sends the same few dozen field names in every callback; the bound keeps a
    // stream of made-up names from growing the cache.
    if (personalFieldNames.size < 1024) personalFieldNames.set(name, personal);
  }
  return personal;
}
const personalFieldNames = new Map<string, boolean>();

/** A personal field's value, masked whatever it is: strings keep a hint of their shape. */
function maskField(value: unknown): unknown {
  if (typeof value === 'string') {
    if (value === '') return value;
    const email = /^([^@\s]+)@(\S+)$/.exec(value);
    if (email) return maskEmail(email[1], email[2]);
    const digits = value.replace(/[ +()-]/g, '');
    if (/^\d{8,}$/.test(digits)) return maskNumber(digits);
    return `${value.slice(0, 1)}***`;
  }
  if (typeof value === 'number') return maskField(String(value));
  if (Array.isArray(value)) return value.map(maskField);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, maskField(v)]));
  }
  return value;
}

/**
 * A provider's raw fields with personal data masked, same shape: a personal field (by name,
 * nested objects included) is masked whole; every other string has the e-mail addresses, card
 * numbers and phone numbers in it masked. Values in `keep` (the transaction's own ids, which a
 * consumer matches on) are left as they are even where they look like a number to mask.
 */
export function maskPersonalData(
  raw: Record<string, unknown>,
  keep: ReadonlySet<string> = new Set(),
): Record<string, unknown> {
  const walk = (value: unknown, depth: number): unknown => {
    if (typeof value === 'string') return keep.has(value) ? value : maskPersonalText(value);
    if (depth > 32 || value === null || typeof value !== 'object') return value;
    if (Array.isArray(value)) return value.map((item) => walk(item, depth + 1));
    // One new object per object, no entry arrays (this runs for every field of every event).
    const masked: Record<string, unknown> = {};
    for (const key of Object.keys(value)) {
      const inner = (value as Record<string, unknown>)[key];
      const result = isPersonalField(key) ? maskField(inner) : walk(inner, depth + 1);
      // A field named __proto__ stays an own field, as Object.fromEntries would keep it.
      if (key === '__proto__')
        Object.defineProperty(masked, key, {
          value: result,
          enumerable: true,
          writable: true,
          configurable: true,
        });
      else masked[key] = result;
    }
    return masked;
  };
  return walk(raw, 0) as Record<string, unknown>;
}
