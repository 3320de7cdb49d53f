import type { FastifyInstance } from 'fastify';
import { createLogger } from '../platform/logger';
import type { CheckoutFlow, CheckoutResult } from './checkout';
import type { ClusterView } from './cluster';
import type { DownstreamHealth } from './health';
import { buildHttpApp } from './http';
import { OrderStore } from './order-store';
import type { BooksInventory } from './books';
import type { CommitStep } from './api-types';
import type { CommitRecord } from './commit-view';

/** The HTTP layer alone, with a checkout flow that waits until released: back-pressure, not queueing. */
describe('POST /checkout back-pressure', () => {
  it('answers 503 with Retry-After once maxInFlight checkouts are running, and recovers', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let arrived = 0;
    let bothArrived!: () => void;
    const bothRunning = new Promise<void>((r) => (bothArrived = r));
    const flow = {
      checkout: async () => {
        if (++arrived === 2) bothArrived();
        await gate;
        return { orderId: 'ord_x', status: 'Order Approved', state: 'queued', suggestedBooks: [], traceId: null, events: [] } satisfies CheckoutResult;
      },
    } as unknown as CheckoutFlow;
    const app = buildHttpApp({
      flow,
      store: OrderStore.open(':memory:', { retentionMs: 60_000 }),
      health: {} as DownstreamHealth,
      cluster: {} as ClusterView,
      catalog: [],
      books: {} as BooksInventory,
      corsOrigins: [],
      maxInFlight: 2,
      logger: createLogger('test', 'error'),
    });
    const url = await app.listen({ host: '127.0.0.1', port: 0 });
    const post = () =>
      fetch(`${url}/checkout`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user: {}, creditCard: {}, items: [] }) });
    const running = [post(), post()];
    await bothRunning;
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

describe('POST /checkout line', () => {
  const until = async (ok: () => boolean) => {
    while (!ok()) await new Promise((r) => setTimeout(r, 5));
  };

  /**
   * The HTTP layer with one checkout at a time and room for four, behind a flow that records each checkout it
   * starts (by its comment) and holds it until the test releases it; counts the requests the server has read and
   * the connections it has seen close.
   */
  async function serveLine() {
    const started: string[] = [];
    const releases = new Map<string, () => void>();
    const flow = {
      checkout: async (body: { userComment: string }) => {
        started.push(body.userComment);
        await new Promise<void>((r) => releases.set(body.userComment, r));
        return { orderId: `ord_${body.userComment}`, status: 'Order Approved', state: 'queued', suggestedBooks: [], traceId: null, events: [] } satisfies CheckoutResult;
      },
    } as unknown as CheckoutFlow;
    const app = buildHttpApp({
      flow,
      store: OrderStore.open(':memory:', { retentionMs: 60_000 }),
      health: {} as DownstreamHealth,
      cluster: {} as ClusterView,
      catalog: [],
      books: {} as BooksInventory,
      corsOrigins: [],
      maxInFlight: 4,
      checkoutConcurrency: 1,
      logger: createLogger('test', 'error'),
    });
    const url = await app.listen({ host: '127.0.0.1', port: 0 });
    const seen = { arrived: 0, closed: 0 };
    app.server.on('request', () => seen.arrived++);
    app.server.on('connection', (socket) => socket.on('close', () => seen.closed++));
    const post = (name: string, signal?: AbortSignal) =>
      fetch(`${url}/checkout`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ user: {}, creditCard: {}, items: [], userComment: name }),
        signal,
      });
    return { app, started, releases, seen, post };
  }

  it('runs checkoutConcurrency at once and answers the ones in line in arrival order', async () => {
    const { app, started, releases, seen, post } = await serveLine();
    // One at a time: each is sent once the server has read the one before (its body too, on a request this small).
    const answers: Promise<Response>[] = [];
    for (const name of ['first', 'second', 'third', 'fourth']) {
      answers.push(post(name));
      await until(() => seen.arrived === answers.length);
    }
    await until(() => started.length === 1);
    // Four in progress (one running, three in line): a fifth is turned away, and nothing else has started.
    const refused = await post('fifth');
    expect(refused.status).toBe(503);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('OVERLOADED');
    expect(started).toEqual(['first']);
    for (const [i, name] of ['first', 'second', 'third', 'fourth'].entries()) {
      await until(() => releases.has(name));
      expect(started).toEqual(['first', 'second', 'third', 'fourth'].slice(0, i + 1));
      releases.get(name)!();
      expect((await answers[i]).status).toBe(200);
    }
    await app.close();
  });

  it('does not run a checkout whose client closed the connection while it waited its turn', async () => {
    const { app, started, releases, seen, post } = await serveLine();
    const first = post('first');
    await until(() => releases.has('first'));
    const leaving = new AbortController();
    const gone = post('gone', leaving.signal).catch((err: Error) => err.name);
    await until(() => seen.arrived === 2);
    leaving.abort();
    expect(await gone).toBe('AbortError');
    // The server has seen the connection close before the turn comes.
    await until(() => seen.closed === 1);
    const third = post('third');
    await until(() => seen.arrived === 3);
    releases.get('first')!();
    expect((await first).status).toBe(200);
    // The turn went to `gone` first (arrival order) and then to `third`: `gone` never ran.
    await until(() => started.length === 2);
    expect(started).toEqual(['first', 'third']);
    await until(() => releases.has('third'));
    releases.get('third')!();
    expect((await third).status).toBe(200);
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
      store: OrderStore.open(':memory:', { retentionMs: 60_000 }),
      health: {} as DownstreamHealth,
      cluster: {} as ClusterView,
      catalog: [],
      books: {} as BooksInventory,
      leaderKiller: killLeader && { killLeader },
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

describe('GET /orders/:id', () => {
  const answer = (orderId: string): CheckoutResult => ({
    orderId,
    status: 'Order Approved',
    state: 'queued',
    suggestedBooks: [],
    traceId: '8ab763c5ceb7008161d6ba4b7c801da7',
    events: [{ event: 'A', service: 'transaction-verification', vectorClock: { 'transaction-verification': 1 }, passed: true }],
  });

  /** The app listening on a free port, with a `call` that returns status and JSON body. */
  async function appWith(store: OrderStore, cluster: Partial<ClusterView>) {
    const app = buildHttpApp({
      flow: { checkout: async () => answer(`ord_${Math.random()}`) } as unknown as CheckoutFlow,
      store,
      health: {} as DownstreamHealth,
      cluster: cluster as ClusterView,
      catalog: [],
      books: {} as BooksInventory,
      corsOrigins: [],
      maxInFlight: 10,
      logger: createLogger('test', 'error'),
    });
    const url = await app.listen({ host: '127.0.0.1', port: 0 });
    const call = async (method: 'GET' | 'POST', path: string, body?: unknown) => {
      const res = await fetch(`${url}${path}`, { method, headers: { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
      return { statusCode: res.status, body: (await res.json()) as any };
    };
    return { call, close: () => app.close() };
  }

  const checkoutBody = { user: {}, creditCard: {}, items: [] };

  it('answers a checkout only once the order is in the store, and serves it from there', async () => {
    const store = OrderStore.open(':memory:', { retentionMs: 60_000 });
    const app = await appWith(store, { findExecution: async () => undefined });
    const posted = await app.call('POST', '/checkout', checkoutBody);
    expect(posted.statusCode).toBe(200);
    const body = posted.body as CheckoutResult;
    expect(store.get(body.orderId)).toEqual(body);
    const got = await app.call('GET', `/orders/${body.orderId}`);
    expect(got.body).toEqual(body);
    await app.close();
    await store.close();
  });

  it('asks the cluster about a queued order and records the execution it learns', async () => {
    const store = OrderStore.open(':memory:', { retentionMs: 60_000 });
    await store.put(answer('ord_q'));
    const execution = { executor: 'executor-3', term: 4, index: 17 };
    const asked: string[] = [];
    const app = await appWith(store, { findExecution: async (id: string) => (asked.push(id), execution) });
    const got = await app.call('GET', '/orders/ord_q');
    expect(got.body).toEqual({ ...answer('ord_q'), state: 'executed', execution });
    expect(store.get('ord_q')).toEqual({ ...answer('ord_q'), state: 'executed', execution });
    // Executed is final: the cluster is not asked again.
    await app.call('GET', '/orders/ord_q');
    expect(asked).toEqual(['ord_q']);
    await app.close();
    await store.close();
  });

  it('shows the commit and the payment, and asks again while the commit is not finished, then no more', async () => {
    const store = OrderStore.open(':memory:', { retentionMs: 60_000 });
    await store.put(answer('ord_c'));
    const execution = { executor: 'executor-1', term: 2, index: 9 };
    const deciding: CommitRecord = {
      decision: 'commit',
      participants: { 'books-database': 'YES', payment: 'YES' },
      coordinator: 'executor-1',
      term: 2,
      finished: false,
      prepareStartedMs: 500,
      votedMs: { 'books-database': 520, payment: 510 },
      decidedMs: 520,
      amountCents: 2_400,
    };
    const finished: CommitRecord = {
      ...deciding,
      finished: true,
      votes: deciding.participants,
      participants: { 'books-database': 'committed', payment: 'captured' },
      finishedMs: { 'books-database': 540, payment: 530 },
    };
    const answers = [deciding, finished];
    const asked: string[] = [];
    const app = await appWith(store, { findExecution: async (id: string) => (asked.push(id), { ...execution, commit: answers[asked.length - 1] }) });
    const first = await app.call('GET', '/orders/ord_c');
    expect(first.body).toMatchObject({
      state: 'executed',
      execution,
      commit: { decision: 'commit', participants: { 'books-database': 'YES', payment: 'YES' }, coordinator: 'executor-1', term: 2, finished: false },
      payment: { status: 'pending', amountCents: 2_400 },
    });
    expect(first.body.commit.timeline.map((s: CommitStep) => s.step)).toEqual(['prepare', 'vote', 'vote', 'decision']);
    const second = await app.call('GET', '/orders/ord_c');
    expect(second.body).toMatchObject({
      commit: { participants: { 'books-database': 'committed', payment: 'captured' }, finished: true },
      payment: { status: 'captured', amountCents: 2_400 },
    });
    expect(second.body.commit.timeline.map((s: CommitStep) => s.sinceStartMs)).toEqual([0, 10, 20, 20, 30, 40]);
    expect(store.get('ord_c')).toEqual(second.body);
    // Finished is final: the cluster is not asked again.
    expect((await app.call('GET', '/orders/ord_c')).body).toEqual(second.body);
    expect(asked).toEqual(['ord_c', 'ord_c']);
    await app.close();
    await store.close();
  });

  it.each([
    ['unknown', 'ord_nope'],
    ['very long', `ord_${'9'.repeat(10_000)}`],
    ['SQL', encodeURIComponent("ord_x' OR '1'='1")],
    ['NUL and control characters', '%00%01%1b%7f'],
    ['an encoded slash and dots', '..%2f..%2forders.db'],
    ['non-ASCII', encodeURIComponent('заказ-🙂')],
    ['invalid UTF-8', '%ff%fe'],
    ['a lone surrogate, encoded', '%ed%a0%80'],
  ])('answers 404 in the error shape for a %s id, never 500', async (_what, id) => {
    const store = OrderStore.open(':memory:', { retentionMs: 60_000 });
    const app = await appWith(store, {});
    const res = await app.call('GET', `/orders/${id}`);
    expect([400, 404]).toContain(res.statusCode);
    expect(res.body).toEqual({ error: { code: expect.any(String), message: expect.any(String) } });
    expect(res.body.error.message.length).toBeLessThan(200);
    await app.close();
    await store.close();
  });

  it('answers 503, not a false approval, when the order cannot be recorded', async () => {
    const store = OrderStore.open(':memory:', { retentionMs: 60_000 });
    await store.close();
    const app = await appWith(store, {});
    const res = await app.call('POST', '/checkout', checkoutBody);
    expect(res.statusCode).toBe(503);
    expect(res.body).toEqual({ error: { code: 'ORDER_NOT_RECORDED', message: expect.any(String) } });
    await app.close();
  });
});

/** PUT /books/:bookId/stock as the HTTP layer alone sees it: refusals come before the body is looked at. */
describe('PUT /books/:bookId/stock', () => {
  const apps: FastifyInstance[] = [];
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
  });
  const TOKEN = 'test-admin-token-0123456789';

  async function serve(adminToken: string | undefined) {
    const set: [string, number][] = [];
    const books = {
      setStock: async (bookId: string, stock: number) => {
        set.push([bookId, stock]);
        return bookId === 'bk-001' ? { bookId, title: 'The Hobbit', author: 'J.R.R. Tolkien', genres: [], year: 1937, priceCents: 1599, stock } : undefined;
      },
    } as unknown as BooksInventory;
    const app = buildHttpApp({
      flow: {} as CheckoutFlow,
      store: OrderStore.open(':memory:', { retentionMs: 60_000 }),
      health: {} as DownstreamHealth,
      cluster: {} as ClusterView,
      catalog: [],
      books,
      adminToken,
      corsOrigins: ['http://localhost:8080'],
      maxInFlight: 2,
      logger: createLogger('test', 'error'),
    });
    apps.push(app);
    const url = await app.listen({ host: '127.0.0.1', port: 0 });
    const put = async (bookId: string, body: string, headers: Record<string, string> = {}) => {
      const res = await fetch(`${url}/books/${bookId}/stock`, { method: 'PUT', headers: { 'content-type': 'application/json', ...headers }, body });
      return { status: res.status, body: (await res.json()) as { error?: { code: string; message: string } } & Record<string, unknown> };
    };
    return { put, set };
  }
  const auth = { authorization: `Bearer ${TOKEN}` };

  it('is disabled without a configured token (403 ADMIN_DISABLED), whatever the request carries', async () => {
    const { put, set } = await serve(undefined);
    expect(await put('bk-001', '{"stock": 3}', auth)).toEqual({ status: 403, body: { error: { code: 'ADMIN_DISABLED', message: expect.any(String) } } });
    expect((await put('bk-001', 'not json')).body.error?.code).toBe('ADMIN_DISABLED');
    expect(set).toEqual([]);
  });

  it('answers 401 without the right Bearer token, before looking at the body', async () => {
    const { put, set } = await serve(TOKEN);
    for (const headers of [{} as Record<string, string>, { authorization: 'Bearer wrong-token-0123456789' }, { authorization: TOKEN }, { authorization: `Basic ${TOKEN}` }, { authorization: `Bearer ${TOKEN}x` }]) {
      expect(await put('bk-001', '{"stock": 3}', headers)).toEqual({ status: 401, body: { error: { code: 'UNAUTHORIZED', message: expect.any(String) } } });
    }
    expect((await put('bk-001', '{', { authorization: 'Bearer nope' })).status).toBe(401);
    expect(set).toEqual([]);
  });

  it('refuses bad bodies with 400 and the error shape, and an unknown book with 404', async () => {
    const { put, set } = await serve(TOKEN);
    for (const body of ['{"stock": -1}', '{"stock": 1.5}', '{"stock": "3"}', '{}', '{"stock": 3, "price": 1}', '{"stock": 1000000001}', '[3]', '{', '']) {
      const res = await put('bk-001', body, auth);
      expect(res.status).toBe(400);
      expect(res.body.error).toEqual({ code: expect.any(String), message: expect.any(String) });
    }
    expect(await put('bk-999', '{"stock": 3}', auth)).toEqual({ status: 404, body: { error: { code: 'BOOK_NOT_FOUND', message: expect.any(String) } } });
    expect(set).toEqual([['bk-999', 3]]);
  });

  it('sets the stock with the token, and refuses a foreign page even with it', async () => {
    const { put, set } = await serve(TOKEN);
    expect(await put('bk-001', '{"stock": 0}', auth)).toEqual({ status: 200, body: expect.objectContaining({ bookId: 'bk-001', stock: 0 }) });
    expect((await put('bk-001', '{"stock": 5}', { ...auth, origin: 'https://evil.example' })).body.error?.code).toBe('FORBIDDEN_ORIGIN');
    expect(set).toEqual([['bk-001', 0]]);
  });
});
