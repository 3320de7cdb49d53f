import { seededRandom } from '../../raft/random';
import { BLOCKED_CONTACT, checkoutBody, countBy, DECLINED_TEST_CARD, luhnCheckDigit, outcomeOf, parseMix, pickKind, randomCard } from './mix';

const luhnValid = (card: string) => luhnCheckDigit(card.slice(0, -1)) === Number(card.at(-1));

describe('npm run load: the order mix', () => {
  it('parses weights, bare kinds count 1, and refuses what it does not know', () => {
    expect([...parseMix('good=70, fraud=10,declined')]).toEqual([
      ['good', 70],
      ['fraud', 10],
      ['declined', 1],
    ]);
    expect(() => parseMix('good=70,robbery=5')).toThrow(/unknown kind "robbery"/);
    expect(() => parseMix('good=-1')).toThrow(/≥ 0/);
    expect(() => parseMix('good=x')).toThrow(/number/);
    expect(() => parseMix('good=0')).toThrow(/at least one kind/);
    expect(() => parseMix('good,good')).toThrow(/twice/);
    expect(() => parseMix('good=1=2')).toThrow(/kind=weight/);
  });

  it('draws kinds in proportion to their weights, and never a kind weighted 0', () => {
    const random = seededRandom(7);
    const mix = parseMix('good=3,fraud=1,invalid=0');
    const kinds = Array.from({ length: 20_000 }, () => pickKind(mix, random));
    const counts = Object.fromEntries(countBy(kinds, (k) => k));
    expect(counts.invalid).toBeUndefined();
    expect(counts.good / kinds.length).toBeGreaterThan(0.73);
    expect(counts.good / kinds.length).toBeLessThan(0.77);
  });

  it('makes Luhn-valid cards that are never the declined test card, and known check digits', () => {
    expect(luhnCheckDigit('411111111111111')).toBe(1);
    expect(luhnCheckDigit('400000000000000')).toBe(2);
    const random = seededRandom(3);
    for (let i = 0; i < 2000; i++) {
      const card = randomCard(random);
      expect(card).toMatch(/^4\d{15}$/);
      expect(luhnValid(card)).toBe(true);
      expect(card).not.toBe(DECLINED_TEST_CARD);
    }
  });

  it('builds each kind as the rules will judge it', () => {
    const random = seededRandom(11);
    const titles = ['Emma', 'Dune', 'Ulysses'];
    const good = checkoutBody('good', 1, random, titles, 'Dune') as any;
    expect(good.items.length).toBeGreaterThanOrEqual(1);
    expect(new Set(good.items.map((i: { name: string }) => i.name)).size).toBe(good.items.length);
    expect(good.items.every((i: { name: string }) => titles.includes(i.name))).toBe(true);
    expect(luhnValid(good.creditCard.number)).toBe(true);
    // Two good orders never share a customer or (with near certainty) a card: velocity rules must not trip.
    const other = checkoutBody('good', 2, random, titles, 'Dune') as any;
    expect(other.user.contact).not.toBe(good.user.contact);
    expect((checkoutBody('same-book', 3, random, titles, 'Dune') as any).items).toEqual([{ name: 'Dune', quantity: 1 }]);
    expect((checkoutBody('fraud', 4, random, titles, 'Dune') as any).user.contact).toBe(BLOCKED_CONTACT);
    expect((checkoutBody('declined', 5, random, titles, 'Dune') as any).creditCard.number).toBe(DECLINED_TEST_CARD);
    expect(luhnValid((checkoutBody('invalid', 6, random, titles, 'Dune') as any).creditCard.number)).toBe(false);
  });

  it('counts an answer by what it says', () => {
    expect(outcomeOf(200, { status: 'Order Approved' })).toBe('approved');
    expect(outcomeOf(200, { status: 'Order Rejected', rejection: { code: 'USER_BLOCKLISTED' } })).toBe('rejected: USER_BLOCKLISTED');
    expect(outcomeOf(503, { error: { code: 'SERVICE_UNAVAILABLE' } })).toBe('HTTP 503: SERVICE_UNAVAILABLE');
    expect(outcomeOf(0, undefined)).toBe('no answer');
  });
});
