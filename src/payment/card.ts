import { luhnValid } from '../platform/redaction';

/**
 * What the payment service reads of a card, once, in Tokenize: whether the number and the expiry are well formed,
 * its last four digits, and whether it is on the decline list. Pure. Nothing here keeps, logs or echoes the number:
 * messages name the field, never its value.
 */

/** A documented Luhn-valid test number ("generic decline" in the card networks' test ranges): declined by default. */
export const DEFAULT_DECLINED_CARDS: readonly string[] = ['4000000000000002'];

/** Spaces and hyphens between groups are allowed; what remains must be 12–19 digits (ISO/IEC 7812). */
export function cardDigits(number: string): string | undefined {
  const compact = number.replace(/[\s-]/g, '');
  return /^\d{12,19}$/.test(compact) ? compact : undefined;
}

/** MM/YY (the checkout's form), or MM/YYYY as event C also accepts it; the month 01–12. */
export function expiryValid(expiry: string): boolean {
  const match = /^\s*(\d{1,2})\s*\/\s*(\d{2}|\d{4})\s*$/.exec(expiry);
  if (!match) return false;
  const month = Number(match[1]);
  return month >= 1 && month <= 12;
}

export const maskCard = (digits: string): string => `**** ${digits.slice(-4)}`;

export interface CardCheck {
  maskedCard: string;
  declined: boolean;
}

/** Why a card cannot be tokenized, or what is kept of it. */
export type CardOutcome = { ok: true; card: CardCheck } | { ok: false; problem: string };

/** Checks a card for Tokenize against a decline list of digit strings (see parseDeclineList). */
export function checkCard(number: string, expiry: string, declined: ReadonlySet<string>): CardOutcome {
  const digits = cardDigits(number);
  if (!digits) return { ok: false, problem: 'card_number must be 12 to 19 digits (spaces and hyphens between groups allowed)' };
  if (!luhnValid(digits)) return { ok: false, problem: 'card_number fails the Luhn check' };
  if (!expiryValid(expiry)) return { ok: false, problem: 'expiration_date must be MM/YY' };
  return { ok: true, card: { maskedCard: maskCard(digits), declined: declined.has(digits) } };
}

/**
 * PAYMENT_DECLINED_CARDS: comma-separated numbers, spaces and hyphens stripped. An entry that is not 12–19 digits
 * is refused (undefined returned with its position, never its text: it is a card number).
 */
export function parseDeclineList(entries: readonly string[]): { cards: Set<string> } | { badEntry: number } {
  const cards = new Set<string>();
  for (const [i, entry] of entries.entries()) {
    const digits = cardDigits(entry);
    if (!digits) return { badEntry: i + 1 };
    cards.add(digits);
  }
  return { cards };
}
