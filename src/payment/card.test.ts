import { checkCard, DEFAULT_DECLINED_CARDS, parseDeclineList } from './card';
import { luhnValid } from '../platform/redaction';

const declined = new Set(['4000000000000002']);

describe('checkCard (Tokenize input)', () => {
  it('keeps the last four digits and whether the card is declined, for a valid card in any grouping', () => {
    expect(checkCard('4242 4242 4242 4242', '12/30', declined)).toEqual({ ok: true, card: { maskedCard: '**** 4242', declined: false } });
    expect(checkCard('4000-0000-0000-0002', '01/29', declined)).toEqual({ ok: true, card: { maskedCard: '**** 0002', declined: true } });
    expect(checkCard('4111111111111111', '12/2030', declined)).toMatchObject({ ok: true });
  });

  it.each([
    ['a number failing Luhn', '4242424242424241', '12/30', /Luhn/],
    ['too few digits', '42424242424', '12/30', /12 to 19 digits/],
    ['letters', '4242x42424242424', '12/30', /12 to 19 digits/],
    ['an empty number', '', '12/30', /12 to 19 digits/],
    ['month 13', '4242424242424242', '13/30', /MM\/YY/],
    ['month 00', '4242424242424242', '00/30', /MM\/YY/],
    ['no slash', '4242424242424242', '1230', /MM\/YY/],
    ['an empty expiry', '4242424242424242', '', /MM\/YY/],
  ])('refuses %s, without echoing the number', (_, number, expiry, message) => {
    const outcome = checkCard(number, expiry, declined);
    expect(outcome.ok).toBe(false);
    if (outcome.ok) return;
    expect(outcome.problem).toMatch(message);
    if (number.length > 4) expect(outcome.problem).not.toContain(number.slice(0, 8));
  });
});

describe('the decline list (PAYMENT_DECLINED_CARDS)', () => {
  it('defaults to a documented Luhn-valid test number', () => {
    expect(DEFAULT_DECLINED_CARDS).toEqual(['4000000000000002']);
    expect(DEFAULT_DECLINED_CARDS.every((c) => luhnValid(c))).toBe(true);
  });

  it('strips spaces and hyphens, and refuses an entry that is not a card number by its position only', () => {
    expect(parseDeclineList(['4000 0000 0000 0002', '5555-5555-5555-4444'])).toEqual({ cards: new Set(['4000000000000002', '5555555555554444']) });
    expect(parseDeclineList(['4000000000000002', 'abc'])).toEqual({ badEntry: 2 });
  });
});
