import { OrderArrivals } from './order-arrivals';

describe('OrderArrivals: an event call waiting for its InitOrder', () => {
  const known = new Set<string>();
  const orders = { has: (id: string) => known.has(id) };
  const settled = async (p: Promise<void>) => {
    let done = false;
    void p.then(() => (done = true));
    await new Promise((r) => setImmediate(r));
    return done;
  };

  it('goes on at once for an order already here, and for an empty id (no InitOrder will bring it)', async () => {
    known.add('ord_here');
    const arrivals = new OrderArrivals(orders, 60_000);
    expect(await settled(arrivals.whenKnown('ord_here'))).toBe(true);
    expect(await settled(arrivals.whenKnown(''))).toBe(true);
    expect(arrivals.waiters).toBe(0);
  });

  it('waits until InitOrder brings the order, then every call waiting for it goes on', async () => {
    const arrivals = new OrderArrivals(orders, 60_000);
    const first = arrivals.whenKnown('ord_late');
    const second = arrivals.whenKnown('ord_late');
    const other = arrivals.whenKnown('ord_other');
    expect(await settled(first)).toBe(false);
    expect(arrivals.waiters).toBe(3);

    arrivals.arrived('ord_late');
    expect(await settled(first)).toBe(true);
    expect(await settled(second)).toBe(true);
    expect(await settled(other)).toBe(false);
    expect(arrivals.waiters).toBe(1);
    arrivals.arrived('ord_other');
    await other;
    expect(arrivals.waiters).toBe(0);
  });

  it('gives up after waitMs, so that the call answers NOT_FOUND, and keeps nothing of it', async () => {
    const arrivals = new OrderArrivals(orders, 30);
    const started = performance.now();
    await arrivals.whenKnown('ord_never');
    expect(performance.now() - started).toBeGreaterThanOrEqual(25);
    expect(arrivals.waiters).toBe(0);
    arrivals.arrived('ord_never'); // too late: nobody is waiting, nothing happens
    expect(arrivals.waiters).toBe(0);
  });

  it('does not wait at all when waitMs is 0', async () => {
    const arrivals = new OrderArrivals(orders, 0);
    expect(await settled(arrivals.whenKnown('ord_never'))).toBe(true);
  });
});
