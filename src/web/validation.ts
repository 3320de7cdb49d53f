/**
 * The checkout form's checks, mirroring the server's events A, B and C so the
 * shopper hears about a typo before submitting. The server stays the authority.
 */

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

export function luhnValid(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

export function validate(values: FormValues, itemCount: number, today = new Date()): FormErrors {
  const errors: FormErrors = {};
  const blank = (s: string) => s.trim() === '';
  if (itemCount === 0) errors.items = 'Your cart is empty.';
  if (blank(values.name)) errors.name = 'Please enter your name.';
  const contact = values.contact.trim();
  if (contact === '') errors.contact = 'Please enter an e-mail address or phone number.';
  else if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(contact) && contact.replace(/\D/g, '').length < 7) {
    errors.contact = 'This is neither an e-mail address nor a phone number.';
  }
  for (const field of ['street', 'city', 'zip', 'country'] as const) {
    if (blank(values[field])) errors[field] = 'Required for the billing address.';
  }
  const digits = values.cardNumber.replace(/[\s-]/g, '');
  if (!/^\d{12,19}$/.test(digits) || !luhnValid(digits)) errors.cardNumber = 'This card number is not valid.';
  const expiry = /^\s*(\d{1,2})\s*\/\s*(\d{2}|\d{4})\s*$/.exec(values.expiry);
  if (!expiry || Number(expiry[1]) < 1 || Number(expiry[1]) > 12) errors.expiry = 'Use MM/YY.';
  else {
    const year = expiry[2].length === 2 ? 2000 + Number(expiry[2]) : Number(expiry[2]);
    if (year * 12 + Number(expiry[1]) - 1 < today.getFullYear() * 12 + today.getMonth()) errors.expiry = 'This card has expired.';
  }
  if (!/^\d{3,4}$/.test(values.cvv.trim())) errors.cvv = 'The CVV is the 3 or 4 digits on the back.';
  if (!values.terms) errors.terms = 'Please accept the terms and conditions.';
  return errors;
}
