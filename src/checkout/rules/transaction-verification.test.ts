import { checkCardFormat, checkItems, checkUserData, luhnValid, parseExpiry } from './transaction-verification';

const codeOf = (o: { ok: boolean; code?: string }) => (o.ok ? 'OK' : o.code);

describe('event A: items', () => {
  it('accepts named items with positive whole quantities', () => {
    expect(checkItems([{ name: 'Dune', quantity: 1 }, { name: 'Emma', quantity: 3 }]).ok).toBe(true);
  });
  it.each([
    [[], 'ITEMS_EMPTY'],
    [[{ name: ' ', quantity: 1 }], 'ITEM_NAME_MISSING'],
    [[{ name: 'Dune', quantity: 0 }], 'ITEM_QUANTITY_INVALID'],
    [[{ name: 'Dune', quantity: -2 }], 'ITEM_QUANTITY_INVALID'],
    [[{ name: 'Dune', quantity: 1.5 }], 'ITEM_QUANTITY_INVALID'],
  ])('rejects %j with %s', (items, code) => {
    expect(codeOf(checkItems(items))).toBe(code);
  });
});

describe('event B: user data', () => {
  const good = {
    user: { name: 'John Doe', contact: 'john.doe@example.com' },
    billingAddress: { street: '123 Main St', city: 'Springfield', state: 'IL', zip: '62701', country: 'USA' },
    termsAccepted: true,
  };
  it('accepts a complete order, with an e-mail or a phone contact', () => {
    expect(checkUserData(good).ok).toBe(true);
    expect(checkUserData({ ...good, user: { name: 'Jo', contact: '+372 5555 1234' } }).ok).toBe(true);
  });
  it('accepts a missing state (not every country has one)', () => {
    expect(checkUserData({ ...good, billingAddress: { ...good.billingAddress, state: '' } }).ok).toBe(true);
  });
  it.each([
    [{ user: { name: '', contact: 'a@b.co' } }, 'USER_NAME_MISSING'],
    [{ user: undefined }, 'USER_NAME_MISSING'],
    [{ user: { name: 'Jo', contact: '  ' } }, 'USER_CONTACT_MISSING'],
    [{ user: { name: 'Jo', contact: 'not a contact' } }, 'USER_CONTACT_INVALID'],
    [{ billingAddress: { ...good.billingAddress, city: '' } }, 'BILLING_ADDRESS_INCOMPLETE'],
    [{ billingAddress: undefined }, 'BILLING_ADDRESS_INCOMPLETE'],
    [{ termsAccepted: false }, 'TERMS_NOT_ACCEPTED'],
  ])('rejects %j with %s', (change, code) => {
    expect(codeOf(checkUserData({ ...good, ...change }))).toBe(code);
  });
  it('names every missing address field', () => {
    const outcome = checkUserData({ ...good, billingAddress: { street: '', city: '', state: '', zip: '', country: 'EE' } });
    expect(outcome).toMatchObject({ ok: false, message: expect.stringContaining('street, city, zip') });
  });
});

describe('event C: card format', () => {
  const today = new Date(Date.UTC(2026, 10, 25)); // 25 November 2026
  const card = { number: '4111111111111111', expirationDate: '12/28', cvv: '123' };
  it('accepts the course default card and grouped numbers', () => {
    expect(checkCardFormat(card, today).ok).toBe(true);
    expect(checkCardFormat({ ...card, number: '4111 1111 1111 1111' }, today).ok).toBe(true);
    expect(checkCardFormat({ ...card, number: '378282246310005', cvv: '1234' }, today).ok).toBe(true);
  });
  it('treats a card as valid through its expiry month', () => {
    expect(checkCardFormat({ ...card, expirationDate: '11/26' }, today).ok).toBe(true);
    expect(checkCardFormat({ ...card, expirationDate: '11/2026' }, today).ok).toBe(true);
    expect(codeOf(checkCardFormat({ ...card, expirationDate: '10/26' }, today))).toBe('CARD_EXPIRED');
  });
  it.each([
    [{ number: '4111111111111112' }, 'CARD_NUMBER_INVALID'],
    [{ number: '41111' }, 'CARD_NUMBER_INVALID'],
    [{ number: '4111-1111-1111-111x' }, 'CARD_NUMBER_INVALID'],
    [{ expirationDate: '13/27' }, 'CARD_EXPIRY_INVALID'],
    [{ expirationDate: '2027-01' }, 'CARD_EXPIRY_INVALID'],
    [{ cvv: '12' }, 'CARD_CVV_INVALID'],
    [{ cvv: '12a' }, 'CARD_CVV_INVALID'],
  ])('rejects %j with %s', (change, code) => {
    expect(codeOf(checkCardFormat({ ...card, ...change }, today))).toBe(code);
  });
  it('never echoes card data in a rejection', () => {
    const outcome = checkCardFormat({ number: '4111111111111112', expirationDate: '01/20', cvv: '987' }, today);
    expect(JSON.stringify(outcome)).not.toMatch(/4111|987/);
  });
  it('computes Luhn and parses expiries', () => {
    expect(luhnValid('79927398713')).toBe(true);
    expect(luhnValid('79927398710')).toBe(false);
    expect(parseExpiry('7/2030')).toEqual({ year: 2030, month: 7 });
    expect(parseExpiry('00/30')).toBeUndefined();
  });
});
