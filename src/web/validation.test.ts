import { checkCardFormat, checkItems, checkUserData, type ItemFields } from '../checkout/rules/transaction-verification';
import { toOrder } from '../orchestrator/checkout';
import { toCheckoutRequest, validate, type FormErrors, type FormValues } from './validation';

/**
 * The form and the server must agree: the same form, sent the way the checkout
 * page sends it and read the way the orchestrator reads it, fails events A–C on
 * the server exactly when the form shows an error, on the field the rule is about.
 */

const good: FormValues = {
  name: 'John Doe',
  contact: 'john.doe@example.com',
  street: '123 Main St',
  city: 'Springfield',
  state: 'IL',
  zip: '62701',
  country: 'USA',
  cardNumber: '4111 1111 1111 1111',
  expiry: '12/30',
  cvv: '123',
  terms: true,
};
const cart: ItemFields[] = [{ name: 'The Hobbit', quantity: 1 }];
const extras = { userComment: '', shippingMethod: 'Standard', giftWrapping: false };

/** The field of the form each rule code is about. */
const FIELD: Record<string, (keyof FormErrors)[]> = {
  ITEMS_EMPTY: ['items'],
  ITEM_NAME_MISSING: ['items'],
  ITEM_QUANTITY_INVALID: ['items'],
  USER_NAME_MISSING: ['name'],
  USER_CONTACT_MISSING: ['contact'],
  USER_CONTACT_INVALID: ['contact'],
  BILLING_ADDRESS_INCOMPLETE: ['street', 'city', 'zip', 'country'],
  TERMS_NOT_ACCEPTED: ['terms'],
  CARD_NUMBER_INVALID: ['cardNumber'],
  CARD_EXPIRY_INVALID: ['expiry'],
  CARD_EXPIRED: ['expiry'],
  CARD_CVV_INVALID: ['cvv'],
};

/** The codes with which the server's events A, B and C reject this form. */
function serverRejections(values: FormValues, items: ItemFields[], now: Date): string[] {
  const order = toOrder('ord_form', toCheckoutRequest(values, items, extras));
  const outcomes = [checkItems(order.items), checkUserData(order), checkCardFormat(order.creditCard, now)];
  return outcomes.flatMap((outcome) => (outcome.ok ? [] : [outcome.code]));
}

function expectAgreement(values: FormValues, items: ItemFields[], now: Date): string[] {
  const errors = validate(values, items, now);
  const codes = serverRejections(values, items, now);
  expect(Object.keys(errors).length === 0).toBe(codes.length === 0);
  for (const code of codes) expect(FIELD[code].some((field) => errors[field] !== undefined)).toBe(true);
  return codes;
}

/**
 * An instant whose local-time getters read as in a zone `offsetHours` from UTC,
 * whatever the machine's TZ: code that wrongly reads the local calendar sees that
 * zone's date, while the UTC getters are untouched.
 */
function instantSeenFrom(iso: string, offsetHours: number): Date {
  const instant = new Date(iso);
  const local = new Date(instant.getTime() + offsetHours * 3_600_000);
  return Object.assign(instant, {
    getFullYear: () => local.getUTCFullYear(),
    getMonth: () => local.getUTCMonth(),
    getDate: () => local.getUTCDate(),
    getHours: () => local.getUTCHours(),
  });
}

describe('the checkout form and the server rules agree', () => {
  const now = new Date(Date.UTC(2026, 10, 25, 12));

  it('on a good order: no errors, no rejection', () => {
    expect(expectAgreement(good, cart, now)).toEqual([]);
    expect(expectAgreement({ ...good, contact: '+372 5555 1234', state: '' }, cart, now)).toEqual([]);
  });

  it.each<[string, Partial<FormValues>, ItemFields[], string]>([
    ['an empty cart', {}, [], 'ITEMS_EMPTY'],
    ['a fractional quantity', {}, [{ name: 'Dune', quantity: 1.5 }], 'ITEM_QUANTITY_INVALID'],
    ['a blank name', { name: '  ' }, cart, 'USER_NAME_MISSING'],
    ['no contact', { contact: '' }, cart, 'USER_CONTACT_MISSING'],
    ['a contact with 7 digits in words', { contact: 'call me on 5551234' }, cart, 'USER_CONTACT_INVALID'],
    ['a missing city', { city: '' }, cart, 'BILLING_ADDRESS_INCOMPLETE'],
    ['terms not accepted', { terms: false }, cart, 'TERMS_NOT_ACCEPTED'],
    ['a number failing Luhn', { cardNumber: '4111111111111112' }, cart, 'CARD_NUMBER_INVALID'],
    ['a month 13', { expiry: '13/27' }, cart, 'CARD_EXPIRY_INVALID'],
    ['a past expiry', { expiry: '10/26' }, cart, 'CARD_EXPIRED'],
    ['a short CVV', { cvv: '12' }, cart, 'CARD_CVV_INVALID'],
  ])('on %s', (_what, change, items, code) => {
    expect(expectAgreement({ ...good, ...change }, items, now)).toEqual([code]);
  });

  it('on every rule at once', () => {
    const bad = { ...good, name: '', contact: 'x', street: '', cardNumber: '1', expiry: '1/1', cvv: '', terms: false };
    expect(expectAgreement(bad, [], now)).toEqual(['ITEMS_EMPTY', 'USER_NAME_MISSING', 'CARD_NUMBER_INVALID']);
    expect(Object.keys(validate(bad, [], now)).sort()).toEqual(['cardNumber', 'contact', 'cvv', 'expiry', 'items', 'name', 'street', 'terms']);
  });

  describe('on a card expiring this month, at the month boundary, far from UTC', () => {
    const card = { ...good, expiry: '11/26' };
    it('still valid on 30 November UTC, where it is already 1 December (UTC+14)', () => {
      expect(expectAgreement(card, cart, instantSeenFrom('2026-11-30T12:00:00Z', 14))).toEqual([]);
    });
    it('expired on 1 December UTC, where it is still 30 November (UTC−11)', () => {
      expect(expectAgreement(card, cart, instantSeenFrom('2026-12-01T05:00:00Z', -11))).toEqual(['CARD_EXPIRED']);
    });
  });
});
