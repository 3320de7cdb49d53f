import { createLogger } from '../platform/logger';
import type { CheckoutFlow, CheckoutResult } from './checkout';
import type { ClusterView } from './cluster';
import type { DownstreamHealth } from './health';
import { buildHttpApp } from './http';
import { OrderStore } from './order-store';

/** The HTTP layer alone, with a checkout flow that waits until released: back-pressure, not queueing. */
describe('POST /checkout back-pressure', () => {
  it('answers 503 with Retry-After once maxInFlight checkouts are running, and recovers', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const flow = {
      checkout: async () => {
        await gate;
        return { orderId: 'ord_x', status: 'Order Approved', state: 'queued', suggestedBooks: [], traceId: null, events: [] } satisfies CheckoutResult;
      },
    } as unknown as CheckoutFlow;
    const app = buildHttpApp({
      flow,
      store: new OrderStore<CheckoutResult>(10),
      health: {} as DownstreamHealth,
      cluster: {} as ClusterView,
      catalog: [],
      corsOrigins: [],
      maxInFlight: 2,
      logger: createLogger('test', 'error'),
    });
    const url = await app.listen({ host: '127.0.0.1', port: 0 });
    const post = () =>
      fetch(`${url}/checkout`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user: {}, creditCard: {}, items: [] }) });
    const running = [post(), post()];
    await new Promise((r) => setTimeout(r, 50));
    const refused = await post();
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(await refused.json()).toEqual({ error: { code: 'OVERLOADED', message: expect.any(String) } });
    release();
    expect((await Promise.all(running)).map((r) => r.status)).toEqual([200, 200]);
    expect((await post()).status).toBe(200);
    await app.close();
  });
});
