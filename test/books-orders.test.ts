/**
 * Orders against the books database, over real processes (`npm start`'s launcher: the checkout services, the
 * queue, three executors, three database replicas, the orchestrator): stock set through the admin endpoint, orders
 * placed over HTTP, their outcome read back from GET /orders/:id and the stock from GET /books.
 */
import { createChannel, createClient } from 'nice-grpc';
import { BooksDatabaseDefinition } from '../src/gen/causeway/v1/books_database';
import type { BookView, CheckoutResult } from '../src/orchestrator/api-types';
import { booksById, coursePageOrder, getJson, postCheckout, startSystem, waitFor, type RunningSystem } from './support/system';

const TOKEN = 'books-orders-test-admin-token';

let system: RunningSystem;

beforeAll(async () => {
  system = await startSystem({
    CAUSEWAY_ADMIN_TOKEN: TOKEN,
    // Many orders from one customer and card in a few seconds: no velocity rule may reject them.
    FRAUD_CONTACT_VELOCITY_LIMIT: '1000000',
    FRAUD_CARD_VELOCITY_LIMIT: '1000000',
    // A killed executor is back soon, and an order its lease held is delivered again within two seconds.
    CAUSEWAY_RESTART_DELAY_MS: '300',
    ORDER_QUEUE_LEASE_MS: '2000',
    // Bursts of ten checkouts on a loaded 2-core box can keep a call waiting for the CPU past the 3 s default; these
    // tests are about stock taken exactly once, not latency, so a slow call must not turn into a 504.
    CAUSEWAY_RPC_DEADLINE_MS: '15000',
  });
}, 90_000);
afterAll(async () => {
  await system?.stop();
});

async function putStock(bookId: string, body: string, headers: Record<string, string> = { authorization: `Bearer ${TOKEN}` }) {
  const res = await fetch(`${system.baseUrl}/books/${bookId}/stock`, { method: 'PUT', headers: { 'content-type': 'application/json', ...headers }, body });
  return { status: res.status, body: (await res.json()) as BookView & { error?: { code: string; message: string } } };
}

const books = () => booksById(system.baseUrl);

const stockOf = async (bookId: string) => (await books()).get(bookId)!.stock;

/** Places an order for these items; it must be approved (queued). */
async function order(items: { name: string; quantity: number }[]): Promise<string> {
  const { status, body } = await postCheckout(system.baseUrl, coursePageOrder({ items }));
  expect(status).toBe(200);
  expect(body).toMatchObject({ status: 'Order Approved', state: 'queued' });
  return body.orderId as string;
}

/** The order once the executors have decided it: executed or failed. */
const decided = (orderId: string) =>
  waitFor(
    `order ${orderId} to be executed or to fail`,
    async () => {
      const o = (await getJson(`${system.baseUrl}/orders/${orderId}`)) as CheckoutResult;
      return o.state === 'executed' || o.state === 'failed' ? o : undefined;
    },
    30_000,
  );

describe('orders against the books database', () => {
  it('lists every book with price and stock on GET /books, the course titles with a large stock', async () => {
    const all = await books();
    expect(all.get('bk-001')).toEqual({ bookId: 'bk-001', title: 'The Hobbit', author: 'J.R.R. Tolkien', genres: ['fantasy', 'children', 'classic'], year: 1937, priceCents: 1599, stock: 11 });
    const courseA = [...all.values()].find((b) => b.title === 'Book A');
    expect(courseA).toMatchObject({ author: '', genres: [], year: null, priceCents: 1000 });
    expect(courseA!.stock).toBeGreaterThanOrEqual(100_000);
  });

  it('sells the last three copies to exactly three of eight concurrent orders; the other five fail OUT_OF_STOCK', async () => {
    const bookId = 'bk-005';
    const title = (await books()).get(bookId)!.title;
    expect(await putStock(bookId, '{"stock": 3}')).toEqual({ status: 200, body: expect.objectContaining({ bookId, title, stock: 3 }) });
    expect(await stockOf(bookId)).toBe(3);

    // Titles as the course's API sends them, in any case.
    const names = [title, title.toUpperCase(), title.toLowerCase(), ` ${title} `];
    const ids = await Promise.all(Array.from({ length: 8 }, (_, i) => order([{ name: names[i % names.length], quantity: 1 }])));
    const outcomes = await Promise.all(ids.map(decided));
    const executed = outcomes.filter((o) => o.state === 'executed');
    const failed = outcomes.filter((o) => o.state === 'failed');
    expect(executed).toHaveLength(3);
    expect(failed).toHaveLength(5);
    for (const o of executed) {
      expect(o.failure).toBeUndefined();
      expect(o.execution).toEqual({ executor: expect.stringMatching(/^executor-/), term: expect.any(Number), index: expect.any(Number) });
    }
    for (const o of failed) {
      expect(o.failure).toEqual({ code: 'OUT_OF_STOCK', message: expect.stringContaining(title) });
      expect(o.execution).toEqual(expect.objectContaining({ executor: expect.stringMatching(/^executor-/) }));
    }
    expect(await stockOf(bookId)).toBe(0);

    // Every replica ends at the same state, with none of the book left.
    const replicas = Object.values(system.booksDatabase).map((address) => createClient(BooksDatabaseDefinition, createChannel(address)));
    await waitFor('every replica to hold the same state', async () => {
      const dumps = await Promise.all(replicas.map((r) => r.dump({})));
      const agreed = new Set(dumps.map((d) => d.digest)).size === 1 && new Set(dumps.map((d) => d.appliedIndex)).size === 1;
      return agreed && dumps.every((d) => d.books.find((b) => b.bookId === bookId)?.stock === 0) ? true : undefined;
    });
    // Every executor counts the five failures by code (its metrics), and the three executions apart from them.
    await waitFor('each executor to count five OUT_OF_STOCK failures and three executions', async () => {
      const texts = await Promise.all(Object.keys(system.executors).map(async (id) => (await fetch(`http://127.0.0.1:${system.metricsPorts[id]}/metrics`)).text()));
      const counted = texts.map((t) => [
        Number(/^orders_failed_total\{[^}]*failure_code="OUT_OF_STOCK"[^}]*\} (\d+)/m.exec(t)?.[1]),
        Number(/^orders_executed_total(?:\{[^}]*\})? (\d+)/m.exec(t)?.[1]),
      ]);
      return counted.every(([failures, executions]) => failures === 5 && executions === 3) ? true : undefined;
    });
    // Decided once: asking again gives the same answers.
    expect(await Promise.all(ids.map(async (id) => ((await getJson(`${system.baseUrl}/orders/${id}`)) as CheckoutResult).state))).toEqual(
      outcomes.map((o) => o.state),
    );
  });

  it('executes a multi-book order all or nothing', async () => {
    const all = await books();
    const [a, b, c] = ['bk-006', 'bk-007', 'bk-008'].map((id) => all.get(id)!);
    await putStock(a.bookId, '{"stock": 1}');
    await putStock(b.bookId, '{"stock": 0}');
    await putStock(c.bookId, '{"stock": 5}');

    const refused = await decided(await order([{ name: a.title, quantity: 1 }, { name: b.title, quantity: 1 }]));
    expect(refused.state).toBe('failed');
    expect(refused.failure).toEqual({ code: 'OUT_OF_STOCK', message: expect.stringContaining(b.title) });
    // Nothing was taken, not even the copy of the first book that was there.
    expect(await stockOf(a.bookId)).toBe(1);

    const accepted = await decided(await order([{ name: a.title, quantity: 1 }, { name: c.title, quantity: 2 }]));
    expect(accepted.state).toBe('executed');
    const after = await books();
    expect([after.get(a.bookId)!.stock, after.get(b.bookId)!.stock, after.get(c.bookId)!.stock]).toEqual([0, 0, 3]);
  });

  it('fails an order naming a title no book has with UNKNOWN_BOOK, taking nothing', async () => {
    const before = await books();
    const o = await decided(await order([{ name: 'The Hobbit', quantity: 1 }, { name: 'A Book Nobody Wrote', quantity: 1 }]));
    expect(o.state).toBe('failed');
    expect(o.failure).toEqual({ code: 'UNKNOWN_BOOK', message: expect.stringContaining('A Book Nobody Wrote') });
    expect(await stockOf('bk-001')).toBe(before.get('bk-001')!.stock);
  });

  it('takes stock exactly once per executed order while the executor leader is SIGKILLed mid-burst', async () => {
    const bookId = 'bk-011';
    const title = (await books()).get(bookId)!.title;
    await putStock(bookId, '{"stock": 20}');
    const leader = async () =>
      waitFor('an executor leader', async () => {
        const c = await getJson(`${system.baseUrl}/cluster`);
        return c.executors.find((e: { role: string }) => e.role === 'leader') as { id: string; term: number } | undefined;
      });
    const ids: string[] = [];
    const burst = (n: number) => Promise.all(Array.from({ length: n }, () => order([{ name: title, quantity: 1 }]))).then((placed) => ids.push(...placed));
    await burst(10);
    const killed = await leader();
    process.kill(system.pids()[killed.id], 'SIGKILL');
    await burst(10);
    // Orders placed while the cluster elects: taken by the next leader, some of them after re-executing.
    await waitFor('a new executor leader', async () => {
      const now = await leader();
      return now.term > killed.term ? now : undefined;
    });
    await burst(10);
    const outcomes = await Promise.all(ids.map(decided));
    const executed = outcomes.filter((o) => o.state === 'executed').length;
    const failed = outcomes.filter((o) => o.state === 'failed');
    // 20 copies, 30 orders of one: a copy taken twice for one order would leave fewer than 20 executed.
    expect(executed).toBe(20);
    expect(failed).toHaveLength(10);
    for (const o of failed) expect(o.failure?.code).toBe('OUT_OF_STOCK');
    expect(await stockOf(bookId)).toBe(0);
  });

  it("refuses the admin endpoint's bad requests with the error shape, changing nothing", async () => {
    await putStock('bk-010', '{"stock": 7}');
    const refusals: [string, string, Record<string, string>, number, string][] = [
      ['no token', '{"stock": 1}', {}, 401, 'UNAUTHORIZED'],
      ['a wrong token', '{"stock": 1}', { authorization: 'Bearer not-the-admin-token-at-all' }, 401, 'UNAUTHORIZED'],
      ['the token without the Bearer scheme', '{"stock": 1}', { authorization: TOKEN }, 401, 'UNAUTHORIZED'],
      ['a negative stock', '{"stock": -1}', { authorization: `Bearer ${TOKEN}` }, 400, 'INVALID_REQUEST'],
      ['a fractional stock', '{"stock": 2.5}', { authorization: `Bearer ${TOKEN}` }, 400, 'INVALID_REQUEST'],
      ['a stock as text', '{"stock": "1"}', { authorization: `Bearer ${TOKEN}` }, 400, 'INVALID_REQUEST'],
      ['an extra field', '{"stock": 1, "priceCents": 1}', { authorization: `Bearer ${TOKEN}` }, 400, 'INVALID_REQUEST'],
      ['malformed JSON', '{"stock": ', { authorization: `Bearer ${TOKEN}` }, 400, 'MALFORMED_JSON'],
      ['a foreign page, even with the token', '{"stock": 1}', { authorization: `Bearer ${TOKEN}`, origin: 'https://evil.example' }, 403, 'FORBIDDEN_ORIGIN'],
    ];
    for (const [what, body, headers, status, code] of refusals) {
      const res = await putStock('bk-010', body, headers);
      expect({ what, status: res.status, body: res.body }).toEqual({ what, status, body: { error: { code, message: expect.any(String) } } });
    }
    expect(await putStock('bk-nope', '{"stock": 1}')).toEqual({ status: 404, body: { error: { code: 'BOOK_NOT_FOUND', message: expect.any(String) } } });
    expect(await stockOf('bk-010')).toBe(7);
  });

  it('lists the database replicas on GET /cluster beside the executors', async () => {
    const cluster = await waitFor('one books database leader the others follow', async () => {
      const c = await getJson(`${system.baseUrl}/cluster`);
      const leader = c.booksDatabase.find((r: { role: string }) => r.role === 'leader');
      return leader && c.booksDatabase.every((r: { leaderId: string }) => r.leaderId === leader.id) ? c : undefined;
    });
    expect(cluster.executors).toHaveLength(3);
    expect(cluster.booksDatabase.map((r: { id: string }) => r.id)).toEqual(['books-1', 'books-2', 'books-3']);
    for (const r of cluster.booksDatabase) {
      expect(r).toEqual({
        id: expect.any(String),
        address: system.booksDatabase[r.id],
        role: expect.stringMatching(/^(leader|follower)$/),
        term: expect.any(Number),
        leaderId: expect.any(String),
        commitIndex: expect.any(Number),
        appliedIndex: expect.any(Number),
      });
      expect(r.appliedIndex).toBeGreaterThan(0);
    }
  });
});
