/**
 * Card data never reaches a log line or a span. First by construction: no code
 * logs the order's card, and a field whose name says it carries card data is
 * replaced whole, whatever its value. Then, as a safety net, a value that
 * contains a card number in plain text is masked; the net must never touch an
 * identifier, so it matches only
 *
 * - 13–19 digits that pass the Luhn check (1 random digit run in 10 does),
 * - written whole or in a card's grouping with one kind of separator, a space
 *   or a hyphen: 4-4-4-4 (13–16 digits, the last group 1–4), 4-4-4-4-1…3
 *   (17–19) or 4-6-5 / 4-6-4 (American Express, Diners),
 * - standing alone: not touching a letter, digit or underscore on either side
 *   (so never a piece of a trace id, span id or longer token), and not joined
 *   by a hyphen to a group of hex digits (so never a piece of a UUID such as
 *   `ord_c29b6c95-36ac-4870-8513-256339762056`, whose last groups can be all
 *   digits).
 *
 * The collector applies the same rules, Luhn check included, in its
 * card_redaction processor (deploy/otelcol/cardredaction, used by
 * otel/collector.yaml): a change here belongs there too.
 */

/** Field names that carry card data: their values are replaced whole. `number` is the card's in this codebase. */
export const CARD_FIELDS = /^(?:cvv2?|cvc2?|csc|pan|number|card|card_?number|credit_?card|expiration_?date|expiry|exp_?date)$/i;

export const REDACTED = '[redacted]';

/** Longest shapes first, so a 19-digit grouping is not taken for its first 16 digits. */
const CARD_SHAPES = ['\\d{4}([ -])\\d{4}\\1\\d{4}\\1\\d{4}\\1\\d{1,3}', '\\d{4}([ -])\\d{4}\\2\\d{4}\\2\\d{1,4}', '\\d{4}([ -])\\d{6}\\3\\d{4,5}', '\\d{13,19}'];

/** Not preceded by a token character, nor by a whole group of hex digits and a hyphen (UUIDs); likewise after. */
const NOT_AFTER = '(?<![0-9A-Za-z_])(?<!(?:^|[^0-9A-Za-z_])[0-9A-Fa-f]+-)';
const NOT_BEFORE = '(?![0-9A-Za-z_])(?!-[0-9A-Fa-f]+(?:$|[^0-9A-Za-z_]))';
const CARD_LIKE = new RegExp(`${NOT_AFTER}(?:${CARD_SHAPES.join('|')})${NOT_BEFORE}`, 'g');

/** The Luhn (mod 10) check every payment card number passes. */
export function luhnValid(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
    sum += d;
  }
  return sum % 10 === 0;
}

/** The fewest digits a card number has: a text with fewer holds none, and skips the regular expression. */
const MIN_CARD_DIGITS = 13;

function hasEnoughDigits(text: string): boolean {
  let digits = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57 && ++digits >= MIN_CARD_DIGITS) return true;
  }
  return false;
}

/** Masks every card number written in `text` (see the rules above); everything else is left exactly as it was. */
export function maskCardNumbers(text: string): string {
  // Most log values (messages, event names, clocks) hold a few digits at most: counting them is far cheaper than
  // the regular expression's lookarounds at every position.
  if (!hasEnoughDigits(text)) return text;
  return text.replace(CARD_LIKE, (match) => {
    const digits = match.replace(/\D/g, '');
    if (luhnValid(digits)) return REDACTED;
    // A 4-4-4-4 card followed by a short group (its CVV, say) is still a card.
    const groups = match.split(/[ -]/);
    if (groups.length === 5 && luhnValid(groups.slice(0, 4).join(''))) return `${REDACTED}${match.slice(19)}`;
    return match;
  });
}

/** A log record's metadata with card fields replaced and card numbers masked, at any depth (up to 6 levels). */
export function redact(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return maskCardNumbers(value);
  if (depth > 6 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  // fromEntries defines each key as a plain property, `__proto__` included (an assignment would drop it).
  return Object.fromEntries(Object.entries(value).map(([key, v]) => [key, CARD_FIELDS.test(key) ? REDACTED : redact(v, depth + 1)]));
}
