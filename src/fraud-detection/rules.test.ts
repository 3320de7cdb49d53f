import fc from 'fast-check';
import type { Order } from '../gen/causeway/v1/checkout';
import { loadFraudRulesConfig } from './config';
import { FraudRules } from './rules';
import { VelocityWindow } from './velocity';

const order = (change: Partial<Order> = {}): Order => ({
  orderId: 'o1',
  user: { name: 'John Doe', contact: 'john.doe@example.com' },
  creditCard: { number: '4111111111111111', expirationDate: '12/30', cvv: '123' },
  items: [{ name: 'Dune', quantity: 1 }],
  billingAddress: undefined,
  shippingMethod: 'Standard',
  termsAccepted: true,
  giftWrapping: false,
  ...change,
});
const codeOf = (o: { ok: boolean; code?: string }) => (o.ok ? 'OK' : o.code);

describe('event D: user fraud', () => {
  const config = loadFraudRulesConfig({ FRAUD_CONTACT_VELOCITY_LIMIT: '3', FRAUD_CONTACT_VELOCITY_WINDOW_MS: '1000' });

  it('passes the course default customer', () => {
    expect(new FraudRules(loadFraudRulesConfig({})).checkUser(order(), 0).ok).toBe(true);
  });
  it('rejects blocklisted users and disposable domains', () => {
    const rules = new FraudRules(config);
    expect(codeOf(rules.checkUser(order({ user: { name: 'X', contact: 'Blocked@Example.com' } }), 0))).toBe('USER_BLOCKLISTED');
    expect(codeOf(rules.checkUser(order({ user: { name: 'X', contact: 'x@mailinator.com' } }), 0))).toBe('USER_DISPOSABLE_EMAIL');
    expect(codeOf(rules.checkUser(order({ user: { name: 'X', contact: 'x@eu.mailinator.com' } }), 0))).toBe('USER_DISPOSABLE_EMAIL');
    expect(codeOf(rules.checkUser(order({ user: { name: 'X', contact: 'x@notmailinator.com' } }), 0))).toBe('OK');
  });
  it('fires velocity only above the configured limit, and forgets after the window', () => {
    const rules = new FraudRules(config);
    expect([0, 10, 20].map((t) => codeOf(rules.checkUser(order(), t)))).toEqual(['OK', 'OK', 'OK']);
    expect(codeOf(rules.checkUser(order(), 30))).toBe('USER_VELOCITY_EXCEEDED');
    expect(codeOf(rules.checkUser(order({ user: { name: 'Ann', contact: 'ann@example.com' } }), 40))).toBe('OK');
    expect(codeOf(rules.checkUser(order(), 1031))).toBe('OK');
  });
});

describe('event E: card fraud', () => {
  const config = loadFraudRulesConfig({ FRAUD_CARD_VELOCITY_LIMIT: '2', FRAUD_MAX_ITEM_QUANTITY: '10' });
  it('passes the course default card', () => {
    expect(new FraudRules(config).checkCard(order(), 0).ok).toBe(true);
  });
  it('rejects repeated-digit numbers and absurd quantities', () => {
    const rules = new FraudRules(config);
    expect(codeOf(rules.checkCard(order({ creditCard: { number: '0000 0000 0000 0000', expirationDate: '', cvv: '' } }), 0))).toBe(
      'CARD_REPEATED_DIGITS',
    );
    expect(codeOf(rules.checkCard(order({ items: [{ name: 'Dune', quantity: 11 }] }), 0))).toBe('QUANTITY_ABSURD');
  });
  it('counts card velocity per card', () => {
    const rules = new FraudRules(config);
    const other = order({ creditCard: { number: '5555555555554444', expirationDate: '', cvv: '' } });
    expect([1, 2, 3].map((t) => codeOf(rules.checkCard(order(), t)))).toEqual(['OK', 'OK', 'CARD_VELOCITY_EXCEEDED']);
    expect(codeOf(rules.checkCard(other, 4))).toBe('OK');
  });
});

describe('VelocityWindow', () => {
  it('bounds the number of keys it remembers', () => {
    const window = new VelocityWindow(1000, 2);
    window.record('a', 0);
    window.record('b', 0);
    window.record('c', 0);
    expect(window.keyCount).toBe(2);
    expect(window.record('a', 1)).toBe(1); // 'a' was evicted as least recent
  });

  it('counts exactly the events of the last window, for any sequence of keys and rising times', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom('a', 'b', 'c'), fc.integer({ min: 0, max: 300 })), { maxLength: 400 }), (steps) => {
        const window = new VelocityWindow(1000);
        const seen: [string, number][] = [];
        let now = 0;
        for (const [key, gap] of steps) {
          now += gap;
          seen.push([key, now]);
          const expected = seen.filter(([k, t]) => k === key && t > now - 1000).length;
          expect(window.record(key, now)).toBe(expected);
        }
      }),
    );
  });

  it("keeps a busy key's memory within about twice its window, and counts a time that goes back as the latest", () => {
    const window = new VelocityWindow(1000);
    for (let t = 0; t < 100_000; t++) window.record('busy', t);
    expect(window.record('busy', 100_000)).toBe(1000);
    const times = (window as unknown as { hits: Map<string, { at: number[] }> }).hits.get('busy')!.at;
    expect(times.length).toBeLessThanOrEqual(2 * 1000 + 66);
    // A clock step back by a second: counted (1001 in the window), and not expired before the times before it.
    expect(window.record('busy', 99_000)).toBe(1001);
    expect(window.record('busy', 100_999)).toBe(3); // 100,000 twice (the second the step back), and this one
  });
});
