import { fail, pass, type RuleOutcome } from '../checkout/rules/outcome';
import type { Address, CreditCard, Item, Order } from '../gen/causeway/v1/checkout';

/** The rules of events A, B and C. Pure functions of the order (and, for C, today's date). */

const blank = (s: string | undefined) => !s || s.trim().length === 0;

/** A: the order has items, each with a name and a positive whole quantity. */
export function checkItems(items: readonly Item[]): RuleOutcome {
  if (items.length === 0) return fail('ITEMS_EMPTY', 'the cart is empty');
  for (const [i, item] of items.entries()) {
    if (blank(item.name)) return fail('ITEM_NAME_MISSING', `item ${i + 1} has no name`);
    if (!Number.isInteger(item.quantity) || item.quantity < 1) {
      return fail('ITEM_QUANTITY_INVALID', `item "${item.name}" has quantity ${item.quantity}; it must be a whole number of at least 1`);
    }
  }
  return pass;
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const PHONE = /^\+?[\d\s().-]{7,20}$/;

function missingAddressFields(address: Address | undefined): string[] {
  const required = ['street', 'city', 'zip', 'country'] as const;
  return required.filter((field) => blank(address?.[field]));
}

/** B: name, contact (an e-mail address or phone number) and billing address are filled in, terms accepted. */
export function checkUserData(order: Pick<Order, 'user' | 'billingAddress' | 'termsAccepted'>): RuleOutcome {
  if (blank(order.user?.name)) return fail('USER_NAME_MISSING', 'the name is missing');
  const contact = order.user?.contact?.trim() ?? '';
  if (contact === '') return fail('USER_CONTACT_MISSING', 'the contact (e-mail or phone) is missing');
  if (!EMAIL.test(contact) && !(PHONE.test(contact) && contact.replace(/\D/g, '').length >= 7)) {
    return fail('USER_CONTACT_INVALID', 'the contact is neither an e-mail address nor a phone number');
  }
  const missing = missingAddressFields(order.billingAddress);
  if (missing.length > 0) {
    return fail('BILLING_ADDRESS_INCOMPLETE', `the billing address is missing: ${missing.join(', ')}`);
  }
  if (!order.termsAccepted) return fail('TERMS_NOT_ACCEPTED', 'the terms and conditions were not accepted');
  return pass;
}

/** Luhn (mod 10) checksum over a string of digits. */
export function luhnValid(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

/** Card numbers are 12–19 digits (ISO/IEC 7812); spaces and dashes between groups are allowed. */
export function normaliseCardNumber(number: string): string | undefined {
  const compact = number.replace(/[\s-]/g, '');
  return /^\d{12,19}$/.test(compact) ? compact : undefined;
}

/** Parses MM/YY or MM/YYYY into {year, month}; undefined when malformed. */
export function parseExpiry(expiry: string): { year: number; month: number } | undefined {
  const match = /^\s*(\d{1,2})\s*\/\s*(\d{2}|\d{4})\s*$/.exec(expiry);
  if (!match) return undefined;
  const month = Number(match[1]);
  const year = match[2].length === 2 ? 2000 + Number(match[2]) : Number(match[2]);
  if (month < 1 || month > 12) return undefined;
  return { year, month };
}

/** C: the card number passes Luhn, the expiry is well formed and not past, the CVV is 3–4 digits. */
export function checkCardFormat(card: CreditCard | undefined, today: Date): RuleOutcome {
  const digits = normaliseCardNumber(card?.number ?? '');
  // Messages never echo the card data itself.
  if (!digits || !luhnValid(digits)) return fail('CARD_NUMBER_INVALID', 'the card number is not a valid card number');
  const expiry = parseExpiry(card?.expirationDate ?? '');
  if (!expiry) return fail('CARD_EXPIRY_INVALID', 'the expiry date must be MM/YY or MM/YYYY');
  // A card is valid through the last day of its expiry month.
  const thisMonth = today.getUTCFullYear() * 12 + today.getUTCMonth();
  if (expiry.year * 12 + (expiry.month - 1) < thisMonth) return fail('CARD_EXPIRED', 'the card has expired');
  if (!/^\d{3,4}$/.test(card?.cvv?.trim() ?? '')) return fail('CARD_CVV_INVALID', 'the CVV must be 3 or 4 digits');
  return pass;
}
