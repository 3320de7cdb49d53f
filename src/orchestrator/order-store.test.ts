import Database from 'better-sqlite3';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { CheckoutResult } from './api-types';
import type { CommitRecord } from './commit-view';
import { ORDERS_DB, OrderStore, SCHEMA_VERSION, type OrderStoreOptions, type WriterMode } from './order-store';

const DAY = 24 * 60 * 60 * 1000;

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

function freshDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'causeway-order-store-'));
  dirs.push(dir);
  return dir;
}

/** A clock the test moves by hand. */
function fakeTime(start = 1_700_000_000_000) {
  const time = { at: start, now: () => time.at };
  return time;
}

const approved = (orderId: string): CheckoutResult => ({
  orderId,
  status: 'Order Approved',
  state: 'queued',
  suggestedBooks: [{ bookId: 'bk-002', title: 'The Fellowship of the Ring', author: 'J.R.R. Tolkien' }],
  traceId: '8ab763c5ceb7008161d6ba4b7c801da7',
  events: [
    { event: 'A', service: 'transaction-verification', vectorClock: { 'transaction-verification': 1, 'fraud-detection': 0, suggestions: 0 }, passed: true },
    { event: 'F', service: 'suggestions', vectorClock: { 'transaction-verification': 3, 'fraud-detection': 2, suggestions: 1 }, passed: true },
  ],
});

const rejected = (orderId: string): CheckoutResult => ({
  orderId,
  status: 'Order Rejected',
  state: 'rejected',
  suggestedBooks: [],
  traceId: null,
  events: [{ event: 'A', service: 'transaction-verification', vectorClock: { 'transaction-verification': 1, 'fraud-detection': 0, suggestions: 0 }, passed: false }],
  rejection: { event: 'A', code: 'ITEMS_EMPTY', message: 'the order has no items' },
});

const execution = { executor: 'executor-2', term: 3, index: 41 };

/** A commit as the executors report it while its decision is still being delivered (votes, not yet states). */
const deciding: CommitRecord = {
  decision: 'commit',
  participants: { 'books-database': 'YES', payment: 'YES' },
  coordinator: 'executor-2',
  term: 3,
  finished: false,
  prepareStartedMs: 1_000,
  votedMs: { 'books-database': 1_012, payment: 1_009 },
  decidedMs: 1_012,
  amountCents: 2_598,
};
const finished: CommitRecord = {
  ...deciding,
  participants: { 'books-database': 'committed', payment: 'captured' },
  votes: { 'books-database': 'YES', payment: 'YES' },
  finished: true,
  finishedMs: { 'books-database': 1_030, payment: 1_025 },
};

/** The compiled writer thread (`npm test` builds it first; a worker thread cannot run TypeScript). */
const WRITER = path.resolve(__dirname, '..', '..', 'dist', 'orchestrator', 'order-store-writer.js');

describe.each<[string, WriterMode]>([
  ['inline', 'inline'],
  ['on its writer thread', { worker: WRITER }],
])('OrderStore writing %s', (_, writer) => {
  beforeAll(() => {
    if (writer !== 'inline' && !fs.existsSync(WRITER)) throw new Error(`${WRITER} is missing: run \`npm run build\` first (\`npm test\` does it for you).`);
  });
  const open = (dir: string, options: OrderStoreOptions): OrderStore => OrderStore.open(dir, { ...options, writer });

  it('gives back an order exactly as it was put, approved or rejected, and nothing for unknown ids', async () => {
    const store = open(freshDir(), { retentionMs: 30 * DAY });
    await Promise.all([store.put(approved('ord_a')), store.put(rejected('ord_r'))]);
    expect(store.get('ord_a')).toEqual(approved('ord_a'));
    expect(store.get('ord_r')).toEqual(rejected('ord_r'));
    expect(store.get('ord_nope')).toBeUndefined();
    expect(store.get("'; DROP TABLE orders; --")).toBeUndefined();
    expect(store.get('\u0000ord_a')).toBeUndefined();
    expect(store.get('x'.repeat(100_000))).toBeUndefined();
    // Putting an id again keeps the first answer.
    await store.put({ ...rejected('ord_a') });
    expect(store.get('ord_a')).toEqual(approved('ord_a'));
    await store.close();
  });

  it('moves queued orders to executed once, and never a rejected one', async () => {
    const store = open(freshDir(), { retentionMs: 30 * DAY });
    await Promise.all([store.put(approved('ord_a')), store.put(approved('ord_b')), store.put(rejected('ord_r'))]);
    expect(await store.markExecuted([['ord_a', execution], ['ord_r', execution], ['ord_unknown', execution]])).toBe(1);
    expect(store.get('ord_a')).toEqual({ ...approved('ord_a'), state: 'executed', execution });
    expect(store.get('ord_r')).toEqual(rejected('ord_r'));
    // The first execution recorded stays: a second answer (from a lagging replica, say) changes nothing.
    expect(await store.markExecuted([['ord_a', { executor: 'executor-1', term: 9, index: 99 }]])).toBe(0);
    expect(store.get('ord_a')!.execution).toEqual(execution);
    expect(store.get('ord_b')!.state).toBe('queued');
    expect(await store.markExecuted([])).toBe(0);
    await store.close();
  });

  it('commits the orders put in one event-loop turn together, each durable when its promise resolves', async () => {
    const dir = freshDir();
    const store = open(dir, { retentionMs: 30 * DAY });
    const ids = Array.from({ length: 50 }, (_, i) => `ord_${i}`);
    const puts = ids.map((id) => store.put(approved(id)));
    // Nothing is written synchronously: the batch commits on the next turn.
    expect(store.get('ord_0')).toBeUndefined();
    await Promise.all(puts);
    // Another connection (another process, after a crash) sees them all.
    const reader = new Database(path.join(dir, ORDERS_DB), { readonly: true });
    expect(reader.prepare('SELECT count(*) AS n FROM orders').get()).toEqual({ n: 50 });
    reader.close();
    await store.close();
  });

  it('keeps everything across a reopen: answers, states, executions', async () => {
    const dir = freshDir();
    let store = open(dir, { retentionMs: 30 * DAY });
    await Promise.all([store.put(approved('ord_a')), store.put(approved('ord_b')), store.put(rejected('ord_r'))]);
    await store.markExecuted([['ord_a', execution]]);
    // Pending puts are committed by close.
    const late = store.put(approved('ord_late'));
    await store.close();
    await late;

    store = open(dir, { retentionMs: 30 * DAY });
    expect(store.get('ord_a')).toEqual({ ...approved('ord_a'), state: 'executed', execution });
    expect(store.get('ord_b')).toEqual(approved('ord_b'));
    expect(store.get('ord_r')).toEqual(rejected('ord_r'));
    expect(store.get('ord_late')).toEqual(approved('ord_late'));
    await store.close();
  });

  it('lists queued orders oldest first, a page at a time after a cursor', async () => {
    const time = fakeTime();
    const store = OrderStore.open(':memory:', { retentionMs: 30 * DAY, time });
    for (const id of ['ord_c', 'ord_a', 'ord_b']) await store.put(approved(id)); // same millisecond: by id
    time.at += 10;
    await store.put(approved('ord_0')); // newer, though its id sorts first
    await store.put(rejected('ord_r'));
    await store.markExecuted([['ord_b', execution]]);

    const first = store.queued(2);
    expect(first.map((o) => o.orderId)).toEqual(['ord_a', 'ord_c']);
    const second = store.queued(2, first.at(-1));
    expect(second).toEqual([{ orderId: 'ord_0', answeredAtMs: time.at }]);
    expect(store.queued(2, second.at(-1))).toEqual([]);
    await store.close();
  });

  it('sweeps orders past the retention, oldest first, in chunks, by the injected clock', async () => {
    const time = fakeTime();
    const store = open(freshDir(), { retentionMs: 30 * DAY, time });
    for (let i = 0; i < 5; i++) {
      await store.put(approved(`ord_old_${i}`));
      time.at += DAY;
    }
    await store.put(rejected('ord_new_r'));
    await store.put(approved('ord_new'));
    await store.markExecuted([['ord_old_0', execution]]);

    // Exactly 30 days after ord_old_0: nothing is past the retention yet; a millisecond later ord_old_0 is.
    time.at += 25 * DAY;
    expect(await store.sweep()).toBe(0);
    time.at += 1;
    expect(await store.sweep()).toBe(1);
    expect(store.get('ord_old_0')).toBeUndefined();
    expect(store.get('ord_old_1')).toBeDefined();

    // Long after: everything goes, two per call.
    time.at += 100 * DAY;
    expect([await store.sweep(2), await store.sweep(2), await store.sweep(2), await store.sweep(2)]).toEqual([2, 2, 2, 0]);
    expect(store.get('ord_new')).toBeUndefined();
    expect(store.queued(10)).toEqual([]);
    await store.close();
  });

  it('records a failed order with why, once, and gives the failure back', async () => {
    const store = open(freshDir(), { retentionMs: 30 * DAY });
    await store.put(approved('ord_f'));
    const failure = { code: 'OUT_OF_STOCK' as const, message: 'not enough copies of "Dune" in stock' };
    expect(await store.markExecuted([['ord_f', { ...execution, failure }]])).toBe(1);
    expect(store.get('ord_f')).toEqual({ ...approved('ord_f'), state: 'failed', execution, failure });
    // Decided once: no later answer turns it into an executed order.
    expect(await store.markExecuted([['ord_f', execution]])).toBe(0);
    expect(store.get('ord_f')!.state).toBe('failed');
    expect(store.queued(10)).toEqual([]);
    await store.close();
  });

  it('keeps the two-phase commit that decided an order, updates it until finished, and never after', async () => {
    const dir = freshDir();
    let store = open(dir, { retentionMs: 30 * DAY });
    await store.put(approved('ord_c'));
    await store.put(approved('ord_plain'));
    expect(await store.markExecuted([['ord_c', { ...execution, commit: deciding }], ['ord_plain', execution]])).toBe(2);
    expect(store.get('ord_c')).toMatchObject({
      state: 'executed',
      commit: { decision: 'commit', participants: { 'books-database': 'YES', payment: 'YES' }, finished: false },
      payment: { status: 'pending', amountCents: 2_598 },
    });
    expect(store.commitOf('ord_c')).toEqual(deciding);
    // An order decided without two-phase commit has neither.
    expect(store.get('ord_plain')).toEqual({ ...approved('ord_plain'), state: 'executed', execution });
    expect(await store.updateCommits([['ord_c', finished]])).toBe(1);
    await store.close();
    store = open(dir, { retentionMs: 30 * DAY });
    expect(store.get('ord_c')).toMatchObject({
      commit: { participants: { 'books-database': 'committed', payment: 'captured' }, finished: true },
      payment: { status: 'captured', amountCents: 2_598 },
    });
    // Finished is final: a stale answer (a lagging replica) does not take it back.
    expect(await store.updateCommits([['ord_c', deciding]])).toBe(0);
    expect(store.commitOf('ord_c')).toEqual(finished);
    // Nor does an order that is not decided get a commit.
    await store.put(approved('ord_q'));
    expect(await store.updateCommits([['ord_q', deciding]])).toBe(0);
    expect(store.get('ord_q')).not.toHaveProperty('commit');
    await store.close();
  });
});

describe('OrderStore', () => {
  it('tells its owner, and refuses writes, when its writer thread dies', async () => {
    const fatal: Error[] = [];
    const store = OrderStore.open(freshDir(), { retentionMs: DAY, writer: { worker: path.join(freshDir(), 'no-such-writer.js') }, onFatal: (e) => fatal.push(e) });
    await expect(store.put(approved('ord_a'))).rejects.toThrow(/writer thread/);
    expect(fatal).toHaveLength(1);
    expect(fatal[0].message).toMatch(/writer thread/);
    await expect(store.markExecuted([['ord_a', execution]])).rejects.toThrow(/writer thread/);
  });

  describe('schema', () => {
    it('migrates a version 1 database with its orders to one that can hold failed orders', async () => {
      const dir = freshDir();
      // Version 1 as it was shipped: the first migration alone.
      const v1 = new Database(path.join(dir, ORDERS_DB));
      v1.exec(`CREATE TABLE orders (
         order_id TEXT PRIMARY KEY, state TEXT NOT NULL CHECK (state IN ('rejected', 'queued', 'executed')),
         answered_at_ms INTEGER NOT NULL, answer TEXT NOT NULL, executor TEXT, term INTEGER, log_index INTEGER) STRICT;
       CREATE INDEX orders_by_age ON orders (answered_at_ms);
       CREATE INDEX queued_by_age ON orders (answered_at_ms, order_id) WHERE state = 'queued';`);
      const insert = v1.prepare('INSERT INTO orders VALUES (?, ?, ?, ?, ?, ?, ?)');
      insert.run('ord_q', 'queued', 1, JSON.stringify(approved('ord_q')), null, null, null);
      insert.run('ord_x', 'executed', 2, JSON.stringify(approved('ord_x')), 'executor-2', 3, 41);
      v1.pragma('user_version = 1');
      v1.close();
      const store = OrderStore.open(dir, { retentionMs: 1000 * DAY });
      expect(store.get('ord_x')).toEqual({ ...approved('ord_x'), state: 'executed', execution });
      expect(store.queued(10).map((o) => o.orderId)).toEqual(['ord_q']);
      expect(await store.markExecuted([['ord_q', { ...execution, failure: { code: 'UNKNOWN_BOOK', message: 'no book titled "Nope"' } }]])).toBe(1);
      expect(store.get('ord_q')).toMatchObject({ state: 'failed', failure: { code: 'UNKNOWN_BOOK' } });
      await store.close();
    });

    it('migrates a version 2 database with its orders to one that can hold their commits', async () => {
      const dir = freshDir();
      const v2 = new Database(path.join(dir, ORDERS_DB));
      v2.exec(`CREATE TABLE orders (
         order_id TEXT PRIMARY KEY, state TEXT NOT NULL CHECK (state IN ('rejected', 'queued', 'executed', 'failed')),
         answered_at_ms INTEGER NOT NULL, answer TEXT NOT NULL, executor TEXT, term INTEGER, log_index INTEGER,
         failure_code TEXT, failure_message TEXT) STRICT;
       CREATE INDEX orders_by_age ON orders (answered_at_ms);
       CREATE INDEX queued_by_age ON orders (answered_at_ms, order_id) WHERE state = 'queued';`);
      const insert = v2.prepare('INSERT INTO orders VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)');
      insert.run('ord_q', 'queued', 1, JSON.stringify(approved('ord_q')), null, null, null, null, null);
      insert.run('ord_f', 'failed', 2, JSON.stringify(approved('ord_f')), 'executor-2', 3, 41, 'OUT_OF_STOCK', 'no Dune');
      v2.pragma('user_version = 2');
      v2.close();
      const store = OrderStore.open(dir, { retentionMs: 1000 * DAY });
      expect(store.get('ord_f')).toEqual({ ...approved('ord_f'), state: 'failed', execution, failure: { code: 'OUT_OF_STOCK', message: 'no Dune' } });
      const declined: CommitRecord = {
        decision: 'abort',
        reason: 'PAYMENT_DECLINED',
        participants: { 'books-database': 'aborted', payment: 'declined' },
        votes: { 'books-database': 'YES', payment: 'PAYMENT_DECLINED' },
        coordinator: 'executor-2',
        term: 3,
        finished: true,
        amountCents: 1_299,
      };
      const failure = { code: 'PAYMENT_DECLINED' as const, message: 'the card was declined' };
      expect(await store.markExecuted([['ord_q', { ...execution, failure, commit: declined }]])).toBe(1);
      expect(store.get('ord_q')).toMatchObject({ state: 'failed', failure, commit: { decision: 'abort', reason: 'PAYMENT_DECLINED' }, payment: { status: 'declined' } });
      await store.close();
    });

    it('creates a new database at the current version, and opens it again without migrating twice', async () => {
      const dir = freshDir();
      const store = OrderStore.open(dir, { retentionMs: DAY });
      await store.put(approved('ord_a'));
      await store.close();
      const db = new Database(path.join(dir, ORDERS_DB));
      expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
      expect(SCHEMA_VERSION).toBeGreaterThanOrEqual(1);
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      db.close();
      const again = OrderStore.open(dir, { retentionMs: DAY });
      expect(again.get('ord_a')).toEqual(approved('ord_a'));
      await again.close();
    });

    it('migrates an empty file at version 0', async () => {
      const dir = freshDir();
      new Database(path.join(dir, ORDERS_DB)).close();
      await OrderStore.open(dir, { retentionMs: DAY }).close();
      const db = new Database(path.join(dir, ORDERS_DB));
      expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
      db.close();
    });

    it('refuses a database written by a newer version, saying which file and what to do', () => {
      const dir = freshDir();
      const db = new Database(path.join(dir, ORDERS_DB));
      db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
      db.close();
      expect(() => OrderStore.open(dir, { retentionMs: DAY })).toThrow(
        new RegExp(`${ORDERS_DB} has schema version ${SCHEMA_VERSION + 1}, newer than this orchestrator's ${SCHEMA_VERSION}`),
      );
    });

    it('refuses a file that is not a database', () => {
      const dir = freshDir();
      fs.writeFileSync(path.join(dir, ORDERS_DB), 'not a database, just text that is long enough to have a header '.repeat(10));
      expect(() => OrderStore.open(dir, { retentionMs: DAY })).toThrow(/not a database/);
    });
  });
});
