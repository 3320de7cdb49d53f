/**
 * fast-check generators for the redaction properties, shared by test/logger.test.ts (the logger) and
 * test/collector.test.ts (the real collector, whose card_redaction processor has the logger's rules):
 * identifiers the services make (order ids, UUIDs, trace and span ids, leaning towards decimal digits, the case
 * most like a card number) and Luhn-valid card numbers in the ways they are written.
 */
import fc from 'fast-check';
import { CARD_FIELDS, luhnValid } from '../../src/platform/redaction';

export const DIGITS = [...'0123456789'];
export const HEX = [...'0123456789abcdef'];
/** Mostly decimal digits: the identifiers that look most like card numbers are the ones worth trying. */
export const idChar = fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...DIGITS) }, { weight: 1, arbitrary: fc.constantFrom(...'abcdef') });
export const chars = (n: number, unit: fc.Arbitrary<string>) => fc.string({ unit, minLength: n, maxLength: n });
export const uuid = fc.oneof(
  fc.uuid(),
  fc.tuple(chars(8, idChar), chars(4, idChar), chars(4, idChar), chars(4, idChar), chars(12, idChar)).map((g) => g.join('-')),
  // The case issue 16 found: the last two groups all digits.
  fc.tuple(fc.uuid(), chars(4, fc.constantFrom(...DIGITS)), chars(12, fc.constantFrom(...DIGITS))).map(([u, a, b]) => `${u.slice(0, 18)}-${a}-${b}`),
);
/** As the orchestrator makes them: `ord_` + randomUUID(). */
export const orderId = uuid.map((u) => `ord_${u}`);
export const traceId = fc.oneof(chars(32, fc.constantFrom(...HEX)), chars(32, idChar), chars(32, fc.constantFrom(...DIGITS)));
/** Decimal digits only too (1 random span id in about 1,800): 16 digits standing alone, a card's length. */
export const spanId = fc.oneof(chars(16, fc.constantFrom(...HEX)), chars(16, idChar), chars(16, fc.constantFrom(...DIGITS)));
/**
 * A span id of 16 decimal digits that passes Luhn is a card number as far as its text goes (about 1 random span id
 * in 18,000): standing alone in free text it is masked, by the logger and the collector alike, and nothing can
 * tell it apart. The logger's own `span_id` field is added after redaction and never scanned (tested in
 * test/logger.test.ts with such an id), and OTLP carries a record's ids in fields of their own, never in
 * attributes; elsewhere the properties leave that case out, and only that case.
 */
export const cardShaped = (id: string) => /^\d{16}$/.test(id) && luhnValid(id);
export const identifier = fc.oneof(orderId, uuid, traceId, spanId.filter((id) => !cardShaped(id)));

/** 13–19 digits with a valid Luhn check digit. */
export const cardDigits = fc
  .integer({ min: 13, max: 19 })
  .chain((n) => chars(n - 1, fc.constantFrom(...DIGITS)))
  .map((body) => body + DIGITS.find((d) => luhnValid(body + d))!);
/** How cards are written: whole, or in the groupings of their length, with spaces or hyphens. */
export const GROUPINGS: Record<number, number[][]> = {
  13: [[4, 4, 4, 1]],
  14: [[4, 4, 4, 2], [4, 6, 4]],
  15: [[4, 4, 4, 3], [4, 6, 5]],
  16: [[4, 4, 4, 4]],
  17: [[4, 4, 4, 4, 1]],
  18: [[4, 4, 4, 4, 2]],
  19: [[4, 4, 4, 4, 3]],
};
export const cardNumber = fc.tuple(cardDigits, fc.constantFrom('', ' ', '-'), fc.nat()).map(([digits, separator, pick]) => {
  if (separator === '') return { digits, text: digits };
  const options = GROUPINGS[digits.length];
  let at = 0;
  const groups = options[pick % options.length].map((size) => digits.slice(at, (at += size)));
  return { digits, text: groups.join(separator) };
});
/** What may stand right before and after a card number in a message. */
export const before = fc.constantFrom('', 'card ', 'pan=', '(', '"', 'number: ', 'card-');
export const after = fc.constantFrom('', ' seen', ')', ',', '.', '"', ' 123');
/** Field names that do not say "card" (those are replaced whole, whatever the value). */
export const fieldName = fc.string({ maxLength: 12 }).filter((k) => !CARD_FIELDS.test(k));
/**
 * Whether an identifier stands as a token of its own in `head + j1 + id + j2 + tail`: glued to letters or digits
 * (no joiner) it is part of a longer token, e.g. a span id followed by "3" is a 17-digit number, which no
 * redaction can tell from a card number.
 */
export const standsAlone = (head: string, j1: string, j2: string, tail: string) => !(j1 === '' && /\w$/.test(head)) && !(j2 === '' && /^\w/.test(tail));
/** Text that may stand right before or after an identifier: anything at all (see standsAlone). */
export const text = fc.string({ maxLength: 24 });
export const joiner = fc.constantFrom('', ' ', '=', ':', '"', '/', '-', ', ');

export const masked = (output: string, card: { digits: string; text: string }) =>
  !output.includes(card.text) && !output.replace(/[ -]/g, '').includes(card.digits);
