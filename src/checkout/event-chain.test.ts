import type { ChainResult, Handoff } from '../gen/causeway/v1/checkout';
import { createLogger } from '../platform/logger';
import { EventChain } from './event-chain';
import { OrderCache } from './order-cache';
import { fail, pass, passWith } from './rules/outcome';

const logger = createLogger('test', 'error');
const TV = 'transaction-verification';

function chainWithOrder(order: string) {
  const orders = new OrderCache<string>(TV, 60_000);
  orders.init('ord_1', order, 0);
  return new EventChain(orders, logger);
}

const start: Handoff = { orderId: 'ord_1', clock: { entries: {} }, causeTraceparent: '' };
const tvOf = (handoff: Handoff) => handoff.clock?.entries[TV];

describe('EventChain', () => {
  it("hands the last event's value, and the clock after every event, to whoever continues the chain", async () => {
    const chain = chainWithOrder('Dune');
    const next = jest.fn(async (): Promise<Partial<ChainResult>> => ({ suggestedBooks: [] }));
    const result = await chain.run(
      start,
      [
        ['A', () => pass],
        ['B', (order) => passWith(order.length)],
      ],
      next,
    );
    expect(next).toHaveBeenCalledTimes(1);
    const [handoff, value] = next.mock.calls[0] as unknown as [Handoff, number];
    expect(value).toBe(4);
    expect(tvOf(handoff)).toBe(2);
    expect(result.events.map((e) => [e.event, e.failed, e.clock?.entries[TV]])).toEqual([
      ['A', false, 1],
      ['B', false, 2],
    ]);
  });

  it('types the value of the last event for the continuation', async () => {
    const chain = chainWithOrder('Dune');
    const result = await chain.run(start, [['A', (order) => passWith([{ bookId: 'bk-1', title: order, author: 'Frank Herbert' }])]], async (_h, books) => ({
      suggestedBooks: books,
    }));
    expect(result.suggestedBooks).toEqual([{ bookId: 'bk-1', title: 'Dune', author: 'Frank Herbert' }]);
    expect(result.rejection).toBeUndefined();
  });

  it('stops at a rejected event: later events do not run, the chain is not continued, no books', async () => {
    const chain = chainWithOrder('Dune');
    const later = jest.fn(() => pass);
    const next = jest.fn(async () => ({ suggestedBooks: [{ bookId: 'bk-1', title: 'Emma', author: 'Jane Austen' }] }));
    const result = await chain.run(
      start,
      [
        ['A', () => fail('ITEMS_EMPTY', 'the cart is empty')],
        ['B', later],
      ],
      next,
    );
    expect(later).not.toHaveBeenCalled();
    expect(next).not.toHaveBeenCalled();
    expect(result).toEqual({
      events: [expect.objectContaining({ event: 'A', service: TV, failed: true })],
      rejection: { event: 'A', code: 'ITEMS_EMPTY', message: 'the cart is empty' },
      suggestedBooks: [],
    });
  });

  it('appends the events the continuation reports after its own', async () => {
    const chain = chainWithOrder('Dune');
    const downstream = { event: 'D', service: 'fraud-detection', clock: { entries: {} }, failed: true };
    const result = await chain.run(start, [['A', () => pass]], async () => ({
      events: [downstream],
      rejection: { event: 'D', code: 'USER_BLOCKLISTED', message: 'no' },
    }));
    expect(result.events.map((e) => e.event)).toEqual(['A', 'D']);
    expect(result.rejection?.code).toBe('USER_BLOCKLISTED');
    expect(result.suggestedBooks).toEqual([]);
  });
});
