import type { Order } from '../gen/causeway/v1/checkout';
import { projections, toQueuedOrder } from './checkout';

/** Who sees the card: each service only what its events need, the queue and the executors only its last four digits. */
const order: Order = {
  orderId: 'ord_1',
  user: { name: 'John Doe', contact: 'john.doe@example.com' },
  creditCard: { number: '5555 5555 5555 4444', expirationDate: '12/30', cvv: '9071' },
  items: [{ name: 'Dune', quantity: 2 }],
  billingAddress: { street: '123 Main St', city: 'Springfield', state: 'IL', zip: '62701', country: 'USA' },
  shippingMethod: 'Standard',
  termsAccepted: true,
  giftWrapping: false,
};
const CARD_DATA = ['5555 5555 5555 4444', '5555555555554444', '12/30', '9071'];
const leaks = (value: unknown) => CARD_DATA.filter((secret) => JSON.stringify(value).includes(secret));

describe('projections of an order for each checkout service', () => {
  it('gives transaction-verification the whole card (events B and C check it)', () => {
    expect(projections['transaction-verification'](order)).toEqual(order);
  });

  it('gives fraud-detection the card number only: no expiry, no CVV, no billing address', () => {
    const seen = projections['fraud-detection'](order);
    expect(seen.creditCard).toEqual({ number: '5555 5555 5555 4444', expirationDate: '', cvv: '' });
    expect(seen.billingAddress).toBeUndefined();
    expect(seen.user).toEqual(order.user);
    expect(leaks(seen)).toEqual(['5555 5555 5555 4444']);
  });

  it('gives suggestions no card, no user and no address, only what event F needs', () => {
    const seen = projections.suggestions(order);
    expect(seen.creditCard).toBeUndefined();
    expect(seen.user).toBeUndefined();
    expect(seen.billingAddress).toBeUndefined();
    expect(seen.items).toEqual(order.items);
    expect(leaks(seen)).toEqual([]);
  });

  it('does not change the order it projects', () => {
    const before = structuredClone(order);
    for (const project of Object.values(projections)) project(order);
    expect(order).toEqual(before);
  });
});

describe('the order as queued (and replicated by the executors)', () => {
  it('keeps only the last four digits of the card, and nothing else of it', () => {
    const queued = toQueuedOrder(order, '00-trace-span-01', 1234);
    expect(queued).toEqual({
      orderId: 'ord_1',
      shippingMethod: 'Standard',
      items: [{ name: 'Dune', quantity: 2 }],
      customerName: 'John Doe',
      maskedCard: '**** 4444',
      traceparent: '00-trace-span-01',
      enqueuedAtMs: 1234,
    });
    expect(leaks(queued)).toEqual([]);
  });

  it('masks a number too short to show four digits, or a missing card, whole', () => {
    expect(toQueuedOrder({ ...order, creditCard: { number: '123', expirationDate: '', cvv: '' } }, '', 0).maskedCard).toBe('****');
    expect(toQueuedOrder({ ...order, creditCard: undefined }, '', 0).maskedCard).toBe('****');
  });
});
