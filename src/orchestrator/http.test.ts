import type { FastifyInstance } from 'fastify';
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

/** Control endpoints as the HTTP layer alone sees them: local mode only, and never for a foreign page. */
describe('POST /cluster/kill-leader', () => {
  const apps: FastifyInstance[] = [];
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
  });

  /** A kill-leader function (or none: not local mode) behind a listening app; returns a client for the endpoint. */
  async function serve(killLeader?: () => Promise<{ killed: string; term: number }>, corsOrigins = ['http://localhost:8080']) {
    const app = buildHttpApp({
      flow: {} as CheckoutFlow,
      store: new OrderStore<CheckoutResult>(10),
      health: {} as DownstreamHealth,
      cluster: {} as ClusterView,
      catalog: [],
      killLeader,
      corsOrigins,
      maxInFlight: 2,
      logger: createLogger('test', 'error'),
    });
    apps.push(app);
    // Over a real socket: Fastify's inject pulls in an ESM-only module that jest does not load.
    const url = await app.listen({ host: '127.0.0.1', port: 0 });
    return async (headers: Record<string, string> = {}) => {
      const res = await fetch(`${url}/cluster/kill-leader`, { method: 'POST', headers });
      return { status: res.status, body: (await res.json()) as { error?: { code: string } } & Record<string, unknown> };
    };
  }

  it('does not exist outside local mode (404, not 403)', async () => {
    const kill = await serve(undefined);
    const res = await kill({ origin: 'http://localhost:8080' });
    expect(res.status).toBe(404);
    expect(res.body.error?.code).toBe('NOT_FOUND');
  });

  it('refuses a foreign Origin, a null Origin and a cross-site fetch with 403, without killing anything', async () => {
    let kills = 0;
    // `*` opens the shop's API to every page, never a control endpoint.
    const kill = await serve(async () => ({ killed: 'executor-1', term: 2 + kills++ }), ['http://localhost:8080', '*']);
    const foreign: Record<string, string>[] = [
      { origin: 'http://evil.example' },
      { origin: 'null' },
      { origin: 'http://localhost:8080.evil.example' },
      { 'sec-fetch-site': 'cross-site' },
      { origin: 'http://localhost:8080', 'sec-fetch-site': 'cross-site' },
    ];
    for (const headers of foreign) {
      const res = await kill(headers);
      expect([headers, res.status]).toEqual([headers, 403]);
      expect(res.body).toEqual({ error: { code: 'FORBIDDEN_ORIGIN', message: expect.any(String) } });
    }
    expect(kills).toBe(0);
  });

  it('accepts the shop’s own pages and clients that send no Origin (curl)', async () => {
    const kill = await serve(async () => ({ killed: 'executor-1', term: 3 }));
    const own: Record<string, string>[] = [{ origin: 'http://localhost:8080', 'sec-fetch-site': 'same-site' }, {}, { 'sec-fetch-site': 'none' }];
    for (const headers of own) {
      const res = await kill(headers);
      expect([headers, res.status, res.body]).toEqual([headers, 200, { killed: 'executor-1', term: 3 }]);
    }
  });
});
