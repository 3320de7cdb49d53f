import { fail, pass, type RuleOutcome } from './outcome';

/**
 * The rules of events A, B and C (transaction-verification). Pure functions of
 * the order (and, for C, the current instant), and browser-safe: the web app's
 * checkout form runs these same functions field by field before submitting, so
 * nothing here may import Node or the generated protobuf code. The inputs are the
 * shapes of the order's fields, which the protobuf Order and the form both have.
 */

export interface ItemFields {
  name: string;
  quantity: number;
}

export interface UserFields {
  name: string;
  contact: string;
}

export interface AddressFields {
  street: string;
  city: string;
  state?: string;
  zip: string;
  country: string;
}

export interface CardFields {
  number: string;
  expirationDate: string;
  cvv: string;
}

const blank = (s: string | undefined) => !s || s.trim().length === 0;

const firstFailure = (...outcomes: RuleOutcome[]): RuleOutcome => outcomes.find((outcome) => !outcome.ok) ?? pass;

/** A: the order has items, each with a name and a positive whole quantity. */
export function checkItems(items: readonly ItemFields[]): RuleOutcome {
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

/** B, the name: filled in. */
export function checkName(name: string | undefined): RuleOutcome {
  return blank(name) ? fail('USER_NAME_MISSING', 'the name is missing') : pass;
}

/** B, the contact: an e-mail address or a phone number (at least 7 digits). */
export function checkContact(contact: string | undefined): RuleOutcome {
  const trimmed = contact?.trim() ?? '';
  if (trimmed === '') return fail('USER_CONTACT_MISSING', 'the contact (e-mail or phone) is missing');
  if (!EMAIL.test(trimmed) && !(PHONE.test(trimmed) && trimmed.replace(/\D/g, '').length >= 7)) {
    return fail('USER_CONTACT_INVALID', 'the contact is neither an e-mail address nor a phone number');
  }
  return pass;
}

/** The billing address fields B requires (not every country has a state). */
export const REQUIRED_ADDRESS_FIELDS = ['street', 'city', 'zip', 'country'] as const;

export function missingAddressFields(address: AddressFields | undefined): (typeof REQUIRED_ADDRESS_FIELDS)[number][] {
  return REQUIRED_ADDRESS_FIELDS.filter((field) => blank(address?.[field]));
}

/** B, the billing address: every required field filled in. */
export function checkBillingAddress(address: AddressFields | undefined): RuleOutcome {
  const missing = missingAddressFields(address);
  return missing.length > 0 ? fail('BILLING_ADDRESS_INCOMPLETE', `the billing address is missing: ${missing.join(', ')}`) : pass;
}

/** B, the terms: accepted. */
export function checkTermsAccepted(accepted: boolean): RuleOutcome {
  return accepted ? pass : fail('TERMS_NOT_ACCEPTED', 'the terms and conditions were not accepted');
}

/** B: name, contact (an e-mail address or phone number) and billing address are filled in, terms accepted. */
export function checkUserData(order: { user?: UserFields; billingAddress?: AddressFields; termsAccepted: boolean }): RuleOutcome {
  return firstFailure(
    checkName(order.user?.name),
    checkContact(order.user?.contact),
    checkBillingAddress(order.billingAddress),
    checkTermsAccepted(order.termsAccepted),
  );
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

// Messages never echo the card data itself.

/** C, the number: 12–19 digits passing Luhn. */
export function checkCardNumber(number: string | undefined): RuleOutcome {
  const digits = normaliseCardNumber(number ?? '');
  return digits && luhnValid(digits) ? pass : fail('CARD_NUMBER_INVALID', 'the card number is not a valid card number');
}

/**
 * C, the expiry: well formed and not past. A card is valid through the last day
 * of its expiry month, counted in UTC wherever the check runs (server or browser),
 * so both give the same answer at the same instant.
 */
export function checkCardExpiry(expirationDate: string | undefined, now: Date): RuleOutcome {
  const expiry = parseExpiry(expirationDate ?? '');
  if (!expiry) return fail('CARD_EXPIRY_INVALID', 'the expiry date must be MM/YY or MM/YYYY');
  const thisMonth = now.getUTCFullYear() * 12 + now.getUTCMonth();
  return expiry.year * 12 + (expiry.month - 1) < thisMonth ? fail('CARD_EXPIRED', 'the card has expired') : pass;
}

/** C, the CVV: 3 or 4 digits. */
export function checkCvv(cvv: string | undefined): RuleOutcome {
  return /^\d{3,4}$/.test(cvv?.trim() ?? '') ? pass : fail('CARD_CVV_INVALID', 'the CVV must be 3 or 4 digits');
}

/** C: the card number passes Luhn, the expiry is well formed and not past, the CVV is 3–4 digits. */
export function checkCardFormat(card: CardFields | undefined, now: Date): RuleOutcome {
  return firstFailure(checkCardNumber(card?.number), checkCardExpiry(card?.expirationDate, now), checkCvv(card?.cvv));
}
