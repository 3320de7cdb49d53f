import { createLogger } from '../platform/logger';
import { OrderRetention } from './order-retention';
import { OrderStore } from './order-store';

const DAY = 24 * 60 * 60 * 1000;

describe('OrderRetention', () => {
  it('deletes every expired order in chunks, keeps the rest, and sweeps at start', async () => {
    const time = { at: 0, now: () => time.at };
    const store = OrderStore.open(':memory:', { retentionMs: 30 * DAY, time });
    const put = (orderId: string) =>
      store.put({ orderId, status: 'Order Rejected', state: 'rejected', suggestedBooks: [], traceId: null, events: [] });
    await Promise.all(Array.from({ length: 25 }, (_, i) => put(`ord_old_${i}`)));
    time.at = 10 * DAY;
    await put('ord_recent');
    time.at = 31 * DAY;

    const sweep = jest.spyOn(store, 'sweep');
    const retention = new OrderRetention(store, createLogger('test', 'error'), { intervalMs: 60_000, chunk: 10 });
    expect(await retention.sweep()).toBe(25);
    expect(sweep.mock.calls).toEqual([[10], [10], [10]]);
    expect(store.get('ord_old_0')).toBeUndefined();
    expect(store.get('ord_recent')).toBeDefined();

    time.at = 41 * DAY;
    retention.start();
    retention.stop();
    expect(store.get('ord_recent')).toBeUndefined();
    await store.close();
  });
});
