import { VectorClock } from '../vector-clock/vector-clock';
import { DuplicateOrderError, OrderLedger, UnknownOrderError } from './order-ledger';

const clock = (tv: number, fd: number, sg: number) =>
  VectorClock.from({ 'transaction-verification': tv, 'fraud-detection': fd, suggestions: sg });

describe('OrderLedger', () => {
  it('caches an order with a zero clock, and refuses to initialise it twice', () => {
    const ledger = new OrderLedger<string>('fraud-detection', 1000);
    expect(ledger.init('o1', 'order', 0).equals(VectorClock.zero())).toBe(true);
    expect(() => ledger.init('o1', 'order', 0)).toThrow(DuplicateOrderError);
  });

  it('records an event as merge-then-tick of its own entry', () => {
    const ledger = new OrderLedger<string>('fraud-detection', 1000);
    ledger.init('o1', 'order', 0);
    const d = ledger.recordEvent('o1', clock(2, 0, 0));
    expect(d.clock.equals(clock(2, 1, 0))).toBe(true);
    expect(d.order).toBe('order');
    const e = ledger.recordEvent('o1', clock(3, 1, 0));
    expect(e.clock.equals(clock(3, 2, 0))).toBe(true);
  });

  it('clears only when the local clock is ≤ the final clock', () => {
    const ledger = new OrderLedger<string>('suggestions', 1000);
    ledger.init('o1', 'order', 0);
    ledger.recordEvent('o1', clock(3, 2, 0)); // local (3,2,1)
    const refused = ledger.clear('o1', clock(3, 2, 0));
    expect(refused.cleared).toBe(false);
    expect(ledger.size).toBe(1);
    expect(ledger.clear('o1', clock(3, 2, 1)).cleared).toBe(true);
    expect(ledger.size).toBe(0);
    expect(() => ledger.clear('o1', clock(3, 2, 1))).toThrow(UnknownOrderError);
  });

  it('clears a service that never saw an event (zero ≤ anything)', () => {
    const ledger = new OrderLedger<string>('suggestions', 1000);
    ledger.init('o1', 'order', 0);
    expect(ledger.clear('o1', clock(1, 0, 0)).cleared).toBe(true);
  });

  it('forgets orders after their time to live, so nothing leaks', () => {
    const ledger = new OrderLedger<string>('suggestions', 1000);
    ledger.init('old', 'a', 0);
    ledger.init('new', 'b', 500);
    expect(ledger.sweep(999)).toBe(0);
    expect(ledger.sweep(1000)).toBe(1);
    expect(ledger.clockOf('old')).toBeUndefined();
    expect(() => ledger.recordEvent('old', clock(1, 0, 0))).toThrow(UnknownOrderError);
    expect(ledger.size).toBe(1);
  });
});
