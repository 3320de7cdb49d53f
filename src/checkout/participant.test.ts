import { ServerError, Status } from 'nice-grpc';
import { ClearRefusal, type Order } from '../gen/causeway/v1/checkout';
import { createLogger } from '../platform/logger';
import { OrderArrivals } from './order-arrivals';
import { OrderCache } from './order-cache';
import { participantHandlers } from './participant';

const SG = 'suggestions';
const order = (orderId: string) => ({ orderId, items: [{ name: 'Dune', quantity: 1 }] }) as unknown as Order;
const clock = (tv: number, fd: number, sg: number) => ({ entries: { 'transaction-verification': tv, 'fraud-detection': fd, suggestions: sg } });

function handlers() {
  const orders = new OrderCache<Order>(SG, 60_000);
  const arrivals = new OrderArrivals(orders, 1000);
  return participantHandlers(orders, arrivals, { now: () => 0 }, createLogger('test', 'error'));
}

describe('participant ClearOrders', () => {
  it('refuses an order whose final clock is not a clock, on its own: the others in the batch are cleared', async () => {
    const h = handlers();
    await h.initOrder({ order: order('ord_bad') });
    await h.initOrder({ order: order('ord_good') });
    const { outcomes } = await h.clearOrders({
      orders: [
        { orderId: 'ord_bad', finalClock: { entries: { suggestions: 1.5 } } },
        { orderId: 'ord_good', finalClock: clock(3, 2, 1) },
      ],
    });
    expect(outcomes.map((o) => [o.cleared, o.refusal])).toEqual([
      [false, ClearRefusal.CLEAR_REFUSAL_INVALID_CLOCK],
      [true, ClearRefusal.CLEAR_REFUSAL_UNSPECIFIED],
    ]);
    expect(outcomes[0].reason).toMatch(/^order ord_bad: clock entry suggestions=1.5 is not a non-negative integer/);
    // Kept: a proper final clock clears it later.
    expect((await h.clearOrder({ orderId: 'ord_bad', finalClock: clock(0, 0, 0) })).cleared).toBe(true);
  });

  it('ClearOrder answers each refusal with its status', async () => {
    const h = handlers();
    await h.initOrder({ order: order('ord_1') });
    const code = (p: Promise<unknown>) => p.then(() => Status.OK, (e: ServerError) => e.code);
    expect(await code(h.clearOrder({ orderId: 'ord_1', finalClock: { entries: { suggestions: -1 } } }))).toBe(Status.INVALID_ARGUMENT);
    expect(await code(h.clearOrder({ orderId: 'ord_unknown', finalClock: clock(0, 0, 0) }))).toBe(Status.NOT_FOUND);
    expect(await code(h.clearOrder({ orderId: 'ord_1', finalClock: clock(0, 0, 0) }))).toBe(Status.OK);
  });
});
