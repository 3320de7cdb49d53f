/**
 * The checkout form's checks and the request it sends. The checks are the
 * server's own rules of events A, B and C (src/checkout/rules/), run field by
 * field so the shopper hears about every typo before submitting. Only the wording
 * is the form's; the server stays the authority.
 */
import type { CheckoutRequest } from './api';
import {
  checkBillingAddress,
  checkCardExpiry,
  checkCardNumber,
  checkContact,
  checkCvv,
  checkItems,
  checkName,
  checkTermsAccepted,
  missingAddressFields,
  type ItemFields,
} from '../checkout/rules/transaction-verification';
import type { RuleOutcome } from '../checkout/rules/outcome';

export interface FormValues {
  name: string;
  contact: string;
  street: string;
  city: string;
  state: string;
  zip: string;
  country: string;
  cardNumber: string;
  expiry: string;
  cvv: string;
  terms: boolean;
}

export type FormErrors = Partial<Record<keyof FormValues | 'items', string>>;

/** What the form says for each rule code; a code without wording here shows the rule's own message. */
const WORDING: Record<string, string> = {
  ITEMS_EMPTY: 'Your cart is empty.',
  ITEM_NAME_MISSING: 'A book in your cart has no title.',
  ITEM_QUANTITY_INVALID: 'Each book needs a whole number of copies, at least 1.',
  USER_NAME_MISSING: 'Please enter your name.',
  USER_CONTACT_MISSING: 'Please enter an e-mail address or phone number.',
  USER_CONTACT_INVALID: 'This is neither an e-mail address nor a phone number.',
  BILLING_ADDRESS_INCOMPLETE: 'Required for the billing address.',
  CARD_NUMBER_INVALID: 'This card number is not valid.',
  CARD_EXPIRY_INVALID: 'Use MM/YY.',
  CARD_EXPIRED: 'This card has expired.',
  CARD_CVV_INVALID: 'The CVV is the 3 or 4 digits on the back.',
  TERMS_NOT_ACCEPTED: 'Please accept the terms and conditions.',
};

/** The form's errors, by field; empty when events A–C would pass this order at `now`. */
export function validate(values: FormValues, items: readonly ItemFields[], now = new Date()): FormErrors {
  const errors: FormErrors = {};
  const check = (field: keyof FormErrors, outcome: RuleOutcome) => {
    if (!outcome.ok) errors[field] = WORDING[outcome.code] ?? outcome.message;
  };
  check('items', checkItems(items));
  check('name', checkName(values.name));
  check('contact', checkContact(values.contact));
  const address = { street: values.street, city: values.city, state: values.state, zip: values.zip, country: values.country };
  const addressOutcome = checkBillingAddress(address);
  for (const field of missingAddressFields(address)) check(field, addressOutcome);
  check('cardNumber', checkCardNumber(values.cardNumber));
  check('expiry', checkCardExpiry(values.expiry, now));
  check('cvv', checkCvv(values.cvv));
  check('terms', checkTermsAccepted(values.terms));
  return errors;
}

/** The form as the POST /checkout body; `extras` are the fields no rule checks. */
export function toCheckoutRequest(
  values: FormValues,
  items: readonly ItemFields[],
  extras: { userComment: string; shippingMethod: string; giftWrapping: boolean },
): CheckoutRequest {
  return {
    user: { name: values.name, contact: values.contact },
    creditCard: { number: values.cardNumber, expirationDate: values.expiry, cvv: values.cvv },
    userComment: extras.userComment,
    items: items.map(({ name, quantity }) => ({ name, quantity })),
    billingAddress: { street: values.street, city: values.city, state: values.state, zip: values.zip, country: values.country },
    shippingMethod: extras.shippingMethod,
    giftWrapping: extras.giftWrapping,
    termsAndConditionsAccepted: values.terms,
  };
}
