/**
 * The course's end-to-end scenarios over HTTP against the whole system (the first, a single order placed from the
 * web app, runs in Chromium in test/web-e2e.test.ts): simultaneous orders for different books; fraudulent orders
 * mixed with good ones; simultaneous orders for the same book. Every order is followed to its end, and the stock
 * the books database reports must account for exactly the orders that were executed.
 */
import { randomCard } from '../src/dev/load/mix';
import { seededRandom } from '../src/raft/random';
import { booksById, coursePageOrder, getJson, postCheckout, startSystem, waitFor, type RunningSystem } from './support/system';

const TOKEN = 'scenario-admin-token-0123456789';
let system: RunningSystem;
const random = seededRandom(2026);

beforeAll(async () => {
  // Bursts of checkouts on a loaded 2-core box can keep a call waiting for the CPU past the 3 s default; these
  // scenarios are about outcomes and stock, not latency, so a slow call must not turn into a 504.
  system = await startSystem({ CAUSEWAY_ADMIN_TOKEN: TOKEN, CAUSEWAY_RPC_DEADLINE_MS: '15000' });
}, 90_000);
afterAll(async () => {
  await system?.stop();
});

const books = () => booksById(system.baseUrl);

async function setStock(bookId: string, stock: number): Promise<void> {
  const res = await fetch(`${system.baseUrl}/books/${bookId}/stock`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
    body: JSON.stringify({ stock }),
  });
  expect(res.status).toBe(200);
}

let customers = 0;
/** A checkout by a customer of its own with a card of its own (no velocity rule links two orders). */
async function checkout(items: { name: string; quantity: number }[], contact?: string) {
  const n = ++customers;
  const body = coursePageOrder({
    user: { name: `Scenario Customer ${n}`, contact: contact ?? `scenario-${n}@example.com` },
    creditCard: { number: randomCard(random), expirationDate: '12/30', cvv: '123' },
    items,
  });
  const { status, body: answer } = await postCheckout(system.baseUrl, body);
  expect(status).toBe(200);
  return answer as { orderId: string; status: string; rejection?: { code: string } };
}

const decided = (orderId: string) =>
  waitFor(
    `order ${orderId} to be executed or to fail`,
    async () => {
      const o = (await getJson(`${system.baseUrl}/orders/${orderId}`)) as { state: string; failure?: { code: string } };
      return o.state === 'executed' || o.state === 'failed' ? o : undefined;
    },
    30_000,
  );

it('simultaneous orders for different books: all executed, each book one copy down', async () => {
  const before = await books();
  const chosen = [...before.values()].filter((b) => b.bookId.startsWith('bk-') && b.stock >= 2).slice(0, 6);
  expect(chosen).toHaveLength(6);
  const answers = await Promise.all(chosen.map((b) => checkout([{ name: b.title, quantity: 1 }])));
  expect(answers.map((a) => a.status)).toEqual(chosen.map(() => 'Order Approved'));
  const outcomes = await Promise.all(answers.map((a) => decided(a.orderId)));
  expect(outcomes.map((o) => o.state)).toEqual(chosen.map(() => 'executed'));
  const after = await books();
  for (const b of chosen) expect(after.get(b.bookId)!.stock).toBe(b.stock - 1);
}, 60_000);

it('fraudulent orders mixed with good ones: the frauds are rejected and take no stock, the good ones are executed', async () => {
  const book = [...(await books()).values()].find((b) => b.bookId === 'bk-002')!;
  await setStock(book.bookId, 50);
  const kinds = ['good', 'fraud', 'good', 'fraud', 'good', 'fraud', 'good', 'good'] as const;
  const answers = await Promise.all(
    kinds.map((kind) => checkout([{ name: book.title, quantity: 2 }], kind === 'fraud' ? 'blocked@example.com' : undefined)),
  );
  answers.forEach((a, i) => {
    if (kinds[i] === 'fraud') expect(a).toMatchObject({ status: 'Order Rejected', rejection: { code: 'USER_BLOCKLISTED' } });
    else expect(a.status).toBe('Order Approved');
  });
  const good = answers.filter((_, i) => kinds[i] === 'good');
  const outcomes = await Promise.all(good.map((a) => decided(a.orderId)));
  expect(outcomes.map((o) => o.state)).toEqual(good.map(() => 'executed'));
  // A rejected order is never queued, so it never reaches an executor.
  for (const a of answers.filter((_, i) => kinds[i] === 'fraud')) {
    expect(await getJson(`${system.baseUrl}/orders/${a.orderId}`)).toMatchObject({ state: 'rejected' });
  }
  expect((await books()).get(book.bookId)!.stock).toBe(50 - 2 * good.length);
}, 60_000);

it('simultaneous orders for the same book: exactly as many executed as there were copies, the rest OUT_OF_STOCK', async () => {
  const book = [...(await books()).values()].find((b) => b.bookId === 'bk-003')!;
  await setStock(book.bookId, 4);
  const answers = await Promise.all(Array.from({ length: 10 }, () => checkout([{ name: book.title, quantity: 1 }])));
  expect(answers.map((a) => a.status)).toEqual(answers.map(() => 'Order Approved'));
  const outcomes = await Promise.all(answers.map((a) => decided(a.orderId)));
  expect(outcomes.filter((o) => o.state === 'executed')).toHaveLength(4);
  const failed = outcomes.filter((o) => o.state === 'failed');
  expect(failed).toHaveLength(6);
  expect(failed.every((o) => o.failure?.code === 'OUT_OF_STOCK')).toBe(true);
  expect((await books()).get(book.bookId)!.stock).toBe(0);
}, 60_000);
