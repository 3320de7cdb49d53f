import { VectorClock } from '../vector-clock/vector-clock';
import { DuplicateOrderError, OrderCache, UnknownOrderError } from './order-cache';

const clock = (tv: number, fd: number, sg: number) =>
  VectorClock.from({ 'transaction-verification': tv, 'fraud-detection': fd, suggestions: sg });

describe('OrderCache', () => {
  it('caches an order with a zero clock, and refuses to initialise it twice', () => {
    const orders = new OrderCache<string>('fraud-detection', 1000);
    expect(orders.init('o1', 'order', 0).equals(VectorClock.zero())).toBe(true);
    expect(() => orders.init('o1', 'order', 0)).toThrow(DuplicateOrderError);
  });

  it('records an event as merge-then-tick of its own entry', () => {
    const orders = new OrderCache<string>('fraud-detection', 1000);
    orders.init('o1', 'order', 0);
    const d = orders.recordEvent('o1', clock(2, 0, 0));
    expect(d.clock.equals(clock(2, 1, 0))).toBe(true);
    expect(d.order).toBe('order');
    const e = orders.recordEvent('o1', clock(3, 1, 0));
    expect(e.clock.equals(clock(3, 2, 0))).toBe(true);
  });

  it('clears only when the local clock is ≤ the final clock', () => {
    const orders = new OrderCache<string>('suggestions', 1000);
    orders.init('o1', 'order', 0);
    orders.recordEvent('o1', clock(3, 2, 0)); // local (3,2,1)
    const refused = orders.clear('o1', clock(3, 2, 0));
    expect(refused.cleared).toBe(false);
    expect(orders.size).toBe(1);
    expect(orders.clear('o1', clock(3, 2, 1)).cleared).toBe(true);
    expect(orders.size).toBe(0);
    expect(() => orders.clear('o1', clock(3, 2, 1))).toThrow(UnknownOrderError);
  });

  it('clears a service that never saw an event (zero ≤ anything)', () => {
    const orders = new OrderCache<string>('suggestions', 1000);
    orders.init('o1', 'order', 0);
    expect(orders.clear('o1', clock(1, 0, 0)).cleared).toBe(true);
  });

  it('forgets orders after their time to live, so nothing leaks', () => {
    const orders = new OrderCache<string>('suggestions', 1000);
    orders.init('old', 'a', 0);
    orders.init('new', 'b', 500);
    expect(orders.sweep(999)).toBe(0);
    expect(orders.sweep(1000)).toBe(1);
    expect(orders.clockOf('old')).toBeUndefined();
    expect(() => orders.recordEvent('old', clock(1, 0, 0))).toThrow(UnknownOrderError);
    expect(orders.size).toBe(1);
  });
});
