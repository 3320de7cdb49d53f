import type { QueuedOrder } from '../gen/causeway/v1/order_queue';
import { OrderQueueState, priorityOf, RecentIds, StaleTermError } from './queue-state';

function order(orderId: string, shippingMethod = 'Standard'): QueuedOrder {
  return {
    orderId,
    shippingMethod,
    items: [{ name: 'Dune', quantity: 1 }],
    customerName: 'John Doe',
    maskedCard: '**** 1111',
    traceparent: '',
    enqueuedAtMs: 0,
    paymentToken: '',
    amountCents: 0,
  };
}

/** Leases everything ready, one at a time, and returns the ids in delivery order. */
function drain(queue: OrderQueueState, now: number, term = 1): string[] {
  const ids: string[] = [];
  for (let lease = queue.lease('c1', term, 1, 1000, now); lease.length > 0; lease = queue.lease('c1', term, 1, 1000, now)) {
    ids.push(lease[0].order!.orderId);
  }
  return ids;
}

describe('OrderQueueState', () => {
  it('maps shipping methods to priorities, unknown ones to Standard', () => {
    expect(priorityOf('Next-Day')).toBe('Next-Day');
    expect(priorityOf('Express')).toBe('Express');
    expect(priorityOf('Standard')).toBe('Standard');
    expect(priorityOf('Carrier pigeon')).toBe('Standard');
    expect(priorityOf('')).toBe('Standard');
  });

  it('delivers Next-Day before Express before Standard when they arrive together', () => {
    const queue = new OrderQueueState();
    queue.enqueue(order('s1', 'Standard'), 1000);
    queue.enqueue(order('e1', 'Express'), 1000);
    queue.enqueue(order('x1', 'Bicycle'), 1000);
    queue.enqueue(order('n1', 'Next-Day'), 1000);
    expect(queue.stats().readyByPriority).toEqual({ 'Next-Day': 1, Express: 1, Standard: 2 });
    expect(drain(queue, 1000)).toEqual(['n1', 'e1', 's1', 'x1']);
  });

  it('is FIFO within a priority, also for orders enqueued in the same millisecond', () => {
    const queue = new OrderQueueState();
    for (const id of ['a', 'b', 'c']) queue.enqueue(order(id, 'Express'), 500);
    queue.enqueue(order('d', 'Express'), 501);
    expect(drain(queue, 600)).toEqual(['a', 'b', 'c', 'd']);
  });

  it('ages waiting orders so a stream of Next-Day orders cannot starve Standard ones', () => {
    const queue = new OrderQueueState();
    queue.enqueue(order('standard', 'Standard'), 0);
    queue.enqueue(order('express', 'Express'), 0);
    // A Next-Day order 4.999 s later still jumps the Express one (bonus 10 s against 5 s)...
    queue.enqueue(order('next-day-early', 'Next-Day'), 4_999);
    // ...and at 10 s a fresh Next-Day order loses to the Standard order that waited 10 s.
    queue.enqueue(order('next-day-late', 'Next-Day'), 10_000);
    queue.enqueue(order('next-day-later', 'Next-Day'), 10_001);
    expect(drain(queue, 10_001)).toEqual(['next-day-early', 'express', 'standard', 'next-day-late', 'next-day-later']);
  });

  it('leases up to max orders with their expiry and first delivery', () => {
    const queue = new OrderQueueState();
    for (const id of ['a', 'b', 'c']) queue.enqueue(order(id), 0);
    const leases = queue.lease('c1', 1, 2, 300, 50);
    expect(leases.map((l) => [l.order!.orderId, l.expiresAtMs, l.delivery])).toEqual([
      ['a', 350, 1],
      ['b', 350, 1],
    ]);
    expect(queue.stats()).toMatchObject({ depth: 3, ready: 1, leased: 2 });
    // Leased orders are invisible to other consumers until the lease ends.
    expect(queue.lease('c2', 1, 10, 300, 60).map((l) => l.order!.orderId)).toEqual(['c']);
    expect(queue.lease('c2', 1, 10, 300, 60)).toEqual([]);
  });

  it('makes an expired lease ready again at its old place, with delivery + 1', () => {
    const queue = new OrderQueueState();
    queue.enqueue(order('old'), 0);
    queue.enqueue(order('young'), 10);
    const [first] = queue.lease('c1', 1, 1, 300, 100);
    expect(first.order!.orderId).toBe('old');
    expect(queue.expireLeases(399)).toEqual([]);
    expect(queue.expireLeases(400)).toEqual([{ orderId: 'old', consumerId: 'c1', delivery: 1 }]);
    const [again] = queue.lease('c2', 1, 1, 300, 400);
    // Ahead of the younger order, and still carrying its original enqueue time.
    expect(again.order!.orderId).toBe('old');
    expect(again.order!.enqueuedAtMs).toBe(0);
    expect(again.delivery).toBe(2);
    expect(queue.stats().redeliveredTotal).toBe(1);
  });

  it('expires leases implicitly when leasing', () => {
    const queue = new OrderQueueState();
    queue.enqueue(order('a'), 0);
    queue.lease('c1', 1, 1, 100, 0);
    expect(queue.lease('c2', 1, 1, 100, 99)).toEqual([]);
    const [lease] = queue.lease('c2', 1, 1, 100, 100);
    expect([lease.order!.orderId, lease.delivery]).toEqual(['a', 2]);
  });

  it('removes acked orders for good, whoever holds the lease', () => {
    const queue = new OrderQueueState();
    queue.enqueue(order('leased'), 0);
    queue.enqueue(order('ready'), 1);
    queue.enqueue(order('kept'), 2);
    queue.lease('c1', 1, 1, 100, 0);
    expect(queue.ack('c2', 1, ['leased', 'ready', 'unknown'])).toEqual(['leased', 'ready']);
    expect(queue.ack('c2', 1, ['leased'])).toEqual([]);
    expect(queue.stats()).toMatchObject({ depth: 1, ready: 1, leased: 0, ackedTotal: 2 });
    // The acked lease does not come back when its time runs out.
    expect(queue.expireLeases(1000)).toEqual([]);
    expect(drain(queue, 1000)).toEqual(['kept']);
  });

  it('recognises a duplicate enqueue of a queued or an acked order', () => {
    const queue = new OrderQueueState();
    expect(queue.enqueue(order('a'), 0)).toEqual({ duplicate: false, depth: 1 });
    expect(queue.enqueue(order('a'), 5)).toEqual({ duplicate: true, depth: 1 });
    queue.lease('c1', 1, 1, 100, 10);
    queue.ack('c1', 1, ['a']);
    expect(queue.enqueue(order('a'), 20)).toEqual({ duplicate: true, depth: 0 });
    expect(queue.stats().enqueuedTotal).toBe(1);
  });

  it('forgets only the oldest acked ids beyond its memory', () => {
    const queue = new OrderQueueState(2);
    for (const id of ['a', 'b', 'c']) queue.enqueue(order(id), 0);
    queue.markAcked(['a', 'b', 'c']);
    expect(queue.knows('a')).toBe(false);
    expect(queue.knows('b')).toBe(true);
    expect(queue.knows('c')).toBe(true);
    const recent = new RecentIds(2);
    for (const id of ['x', 'y', 'x', 'z']) recent.add(id);
    expect([...recent.values()]).toEqual(['y', 'z']);
  });

  it("voids a deposed leader's leases as soon as a newer term shows up", () => {
    const queue = new OrderQueueState();
    queue.enqueue(order('a'), 0);
    queue.enqueue(order('b'), 0);
    expect(queue.lease('old-leader', 3, 10, 60_000, 0).map((l) => l.order!.orderId)).toEqual(['a', 'b']);
    // No waiting for the 60 s visibility timeout: the new leader gets both at once.
    const leases = queue.lease('new-leader', 4, 10, 60_000, 1);
    expect(leases.map((l) => [l.order!.orderId, l.delivery])).toEqual([
      ['a', 2],
      ['b', 2],
    ]);
    expect(() => queue.ack('old-leader', 3, ['a'])).toThrow(StaleTermError);
  });

  it('refuses a consumer with a stale term and accepts a higher one', () => {
    const queue = new OrderQueueState();
    queue.enqueue(order('a'), 0);
    queue.enqueue(order('b'), 1);
    expect(queue.lease('leader-5', 5, 1, 100, 0)).toHaveLength(1);
    expect(() => queue.lease('leader-4', 4, 1, 100, 0)).toThrow(StaleTermError);
    expect(() => queue.ack('leader-4', 4, ['a'])).toThrow('consumer leader-4 has term 4 but the queue has seen term 5');
    expect(() => queue.nack('leader-4', 4, ['a'])).toThrow(StaleTermError);
    expect(queue.stats()).toMatchObject({ depth: 2, leased: 1, highestTerm: 5 });
    // A new leader: accepted, and from now on the old one is fenced too.
    expect(queue.ack('leader-6', 6, ['a'])).toEqual(['a']);
    expect(queue.term).toBe(6);
    expect(() => queue.lease('leader-5', 5, 1, 100, 0)).toThrow(StaleTermError);
    expect(queue.observeTerm(6)).toBe(false);
    expect(queue.observeTerm(7)).toBe(true);
  });

  it('releases on nack only the leases the consumer holds, back at their place', () => {
    const queue = new OrderQueueState();
    queue.enqueue(order('a'), 0);
    queue.enqueue(order('b'), 1);
    queue.enqueue(order('c'), 2);
    queue.lease('c1', 1, 1, 10_000, 0); // a
    queue.lease('c2', 1, 1, 10_000, 0); // b
    expect(queue.nack('c1', 1, ['a', 'b', 'c', 'unknown'])).toBe(1);
    expect(queue.stats()).toMatchObject({ ready: 2, leased: 1 });
    const [again] = queue.lease('c3', 1, 1, 10_000, 5);
    expect([again.order!.orderId, again.delivery]).toEqual(['a', 2]);
  });
});
