/**
 * The books database as a two-phase-commit participant, for real: its three replicas as separate processes
 * (src/dev/harness/books-database.ts, on this jest worker's own ports and a fresh data directory), talked to over
 * gRPC. Prepare reserves (Read shows stock net of it), Commit takes the copies out once, Abort releases them,
 * retries answer the standing vote or decision, a contradicting decision is refused; a prepared reservation
 * survives a SIGKILL of the leader (the next leader holds it and commits it); and a transaction left prepared is
 * finished by the leader asking the executors (two fake executors in this process: one not leading, one answering
 * GetDecision) for the decision. At the end every replica holds the same state (Dump digests).
 */
import { ClientError, createServer, ServerError, Status, type Server } from 'nice-grpc';
import { BooksDatabaseClient } from '../src/books-database-client/client';
import type { BookStock, BooksDatabaseStatus, DumpResponse } from '../src/gen/causeway/v1/books_database';
import { OrderExecutorDefinition, type GetDecisionRequest } from '../src/gen/causeway/v1/order_executor';
import { startBooksDatabase, type BooksDatabaseCluster } from '../src/dev/harness/books-database';
import { freePort, waitFor } from './support/system';

/** A fake executor cluster: executor-1 does not lead (it points at executor-2), executor-2 answers from `decided`. */
class FakeExecutors {
  readonly decided = new Map<string, { decision: 'commit' | 'abort'; reason?: string }>();
  readonly asked: GetDecisionRequest[] = [];
  readonly peers: Record<string, string> = {};
  private readonly servers: Server[] = [];

  async start(): Promise<void> {
    for (const id of ['executor-1', 'executor-2']) {
      const port = await freePort();
      const server = createServer();
      const unimplemented = async (): Promise<never> => {
        throw new ServerError(Status.UNIMPLEMENTED, 'fake executor');
      };
      server.add(OrderExecutorDefinition, {
        stream: unimplemented,
        status: unimplemented,
        executions: unimplemented,
        getDecision: async (request: GetDecisionRequest) => {
          if (id !== 'executor-2') throw new ServerError(Status.FAILED_PRECONDITION, 'NOT_LEADER leader=executor-2');
          this.asked.push(request);
          const decided = this.decided.get(request.txId);
          return { decision: decided?.decision ?? 'pending', reason: decided?.reason ?? '', term: 1 };
        },
      });
      await server.listen(`127.0.0.1:${port}`);
      this.servers.push(server);
      this.peers[id] = `127.0.0.1:${port}`;
    }
  }

  async stop(): Promise<void> {
    await Promise.all(this.servers.map((s) => s.shutdown()));
  }
}

/** Small snapshot interval, so reservations also travel in snapshots; a short decision timeout for termination. */
const SNAPSHOT_ENTRIES = 20;
const DECISION_TIMEOUT_MS = 1500;

let cluster: BooksDatabaseCluster;
let executors: FakeExecutors;
const clients: BooksDatabaseClient[] = [];

beforeAll(async () => {
  executors = new FakeExecutors();
  await executors.start();
  cluster = await startBooksDatabase({
    BOOKS_DATABASE_SNAPSHOT_ENTRIES: String(SNAPSHOT_ENTRIES),
    BOOKS_DATABASE_DECISION_TIMEOUT_MS: String(DECISION_TIMEOUT_MS),
    EXECUTOR_PEERS: Object.entries(executors.peers)
      .map(([id, a]) => `${id}=${a}`)
      .join(','),
    LOG_LEVEL: 'info',
  });
}, 30_000);
afterAll(async () => {
  for (const c of clients) c.close();
  await cluster?.stop();
  await executors?.stop();
});

function newClient(): BooksDatabaseClient {
  const client = new BooksDatabaseClient(cluster.peers, { callDeadlineMs: 1000, totalMs: 20_000, traced: false });
  clients.push(client);
  return client;
}

const running = () => Object.keys(cluster.peers).filter((id) => cluster.isRunning(id));
const statuses = async (ids = running()): Promise<BooksDatabaseStatus[]> =>
  Promise.all(ids.map((id) => cluster.client(id).status({}, { signal: AbortSignal.timeout(1000) })));

async function settledLeader(): Promise<BooksDatabaseStatus> {
  return waitFor(
    'one leader that every running replica follows, with the catalog seeded',
    async () => {
      const all = await statuses();
      const leaders = all.filter((s) => s.role === 'leader');
      if (leaders.length !== 1 || !leaders[0].seeded) return undefined;
      const [leader] = leaders;
      return all.every((s) => s.term === leader.term && s.leaderId === leader.id) ? leader : undefined;
    },
    20_000,
  );
}

/** Every running replica at the same applied index with the same state digest (reservations and decisions included). */
async function converged(): Promise<DumpResponse> {
  return waitFor(
    'every replica to apply the same log to the same state',
    async () => {
      const all = await Promise.all(running().map((id) => cluster.client(id).dump({})));
      const [first] = all;
      return all.length === running().length && all.every((d) => d.appliedIndex === first.appliedIndex && d.digest === first.digest) ? first : undefined;
    },
    20_000,
  );
}

const stockOf = (books: BookStock[], bookId: string) => books.find((b) => b.bookId === bookId)?.stock;
const item = (bookId: string, quantity: number) => ({ bookId, quantity });
const refusal = (call: Promise<unknown>) =>
  call.then(
    () => 'answered',
    (err: ClientError) => `${Status[err.code]}: ${err.details}`,
  );

describe('books database as a two-phase-commit participant (three replicas, real processes)', () => {
  let db: BooksDatabaseClient;

  beforeAll(async () => {
    await settledLeader();
    db = newClient();
  }, 30_000);

  it('reserves at Prepare (Read shows stock net of it), takes the copies out at Commit, releases them at Abort', async () => {
    await db.setStock({ bookId: 'bk-040', stock: 5 });
    await db.setStock({ bookId: 'bk-041', stock: 2 });
    const votes = await db.prepareBatch([
      { txId: 'tx-1', items: [item('bk-040', 2), item('bk-041', 1)] },
      { txId: 'tx-2', items: [item('bk-040', 3)] },
      // Only 0 copies of bk-040 left unreserved by now: all or nothing, the other book is not held.
      { txId: 'tx-3', items: [item('bk-041', 1), item('bk-040', 1)] },
      { txId: 'tx-4', items: [item('bk-999', 1)] },
    ]);
    expect(votes.map((v) => [v.vote, v.bookId])).toEqual([
      ['YES', ''],
      ['YES', ''],
      ['OUT_OF_STOCK', 'bk-040'],
      ['UNKNOWN_BOOK', 'bk-999'],
    ]);
    let { books } = await db.read(['bk-040', 'bk-041']);
    expect(books.map((b) => b.stock)).toEqual([0, 1]);
    expect((await db.transactions()).map((t) => [t.txId, t.state, t.items])).toEqual([
      ['tx-1', 'prepared', [item('bk-040', 2), item('bk-041', 1)]],
      ['tx-2', 'prepared', [item('bk-040', 3)]],
    ]);
    const leader = await settledLeader();
    expect(leader).toMatchObject({ preparedCount: 2, totalReserved: 6 });
    // Named transactions' states, read-only (the commit-invariant checker asks this way): a no vote is an abort.
    const asked = async () =>
      (await cluster.client(leader.id).transactions({ txIds: ['tx-1', 'tx-2', 'tx-3', 'tx-4', 'tx-never'] })).asked.map((t) => [t.txId, t.state, t.items.length]);
    expect(await asked()).toEqual([
      ['tx-1', 'prepared', 2],
      ['tx-2', 'prepared', 1],
      ['tx-3', 'aborted', 0],
      ['tx-4', 'aborted', 0],
      ['tx-never', 'unknown', 0],
    ]);

    expect(await db.finishBatch([{ txId: 'tx-1', commit: true }, { txId: 'tx-2', commit: false }, { txId: 'tx-3', commit: false }])).toMatchObject([
      { state: 'committed' },
      { state: 'aborted' },
      { state: 'aborted' },
    ]);
    ({ books } = await db.read(['bk-040', 'bk-041']));
    // 5 − 2 committed; bk-041: 2 − 1 committed.
    expect(books.map((b) => b.stock)).toEqual([3, 1]);
    expect(await db.transactions()).toEqual([]);
    expect(await asked()).toEqual([
      ['tx-1', 'committed', 0],
      ['tx-2', 'aborted', 0],
      ['tx-3', 'aborted', 0],
      ['tx-4', 'aborted', 0],
      ['tx-never', 'unknown', 0],
    ]);
    const state = await converged();
    expect(state.reserved).toEqual([]);
    expect(stockOf(state.books, 'bk-040')).toBe(3);
  });

  it('answers retries with the standing vote or decision, changing nothing; refuses a contradicting decision; a late Prepare after an abort reserves nothing', async () => {
    await db.setStock({ bookId: 'bk-042', stock: 4 });
    const [first] = await db.prepareBatch([{ txId: 'tx-10', items: [item('bk-042', 1)] }]);
    expect(first.vote).toBe('YES');
    expect(await db.prepareBatch([{ txId: 'tx-10', items: [item('bk-042', 1)] }])).toEqual([first]);
    const [committed] = await db.finishBatch([{ txId: 'tx-10', commit: true }]);
    expect(await db.finishBatch([{ txId: 'tx-10', commit: true }])).toEqual([committed]);
    expect((await db.prepareBatch([{ txId: 'tx-10', items: [item('bk-042', 1)] }]))[0]).toMatchObject({ vote: 'COMMITTED', index: committed.index });
    expect(stockOf((await db.read(['bk-042'])).books, 'bk-042')).toBe(3);

    expect(await refusal(db.finishBatch([{ txId: 'tx-10', commit: false }]))).toMatch(/^FAILED_PRECONDITION: DECISION_CONFLICT: transaction tx-10 was committed/);
    // The abort of a transaction never seen is remembered: its Prepare, arriving late, is refused.
    expect(await db.finishBatch([{ txId: 'tx-11', commit: false }])).toMatchObject([{ state: 'aborted' }]);
    expect((await db.prepareBatch([{ txId: 'tx-11', items: [item('bk-042', 1)] }]))[0]).toMatchObject({ vote: 'ABORTED' });
    expect(await refusal(db.finishBatch([{ txId: 'tx-11', commit: true }]))).toMatch(/^FAILED_PRECONDITION: DECISION_CONFLICT: transaction tx-11 was aborted/);
    expect(stockOf((await db.read(['bk-042'])).books, 'bk-042')).toBe(3);
    const logged = cluster.lines.some((l) => l.includes('"level":"error"') && l.includes('refused a commit of tx-11'));
    expect(logged).toBe(true);

    // Fenced like a decrement.
    expect((await db.prepareBatch([{ txId: 'tx-12', items: [item('bk-042', 1)], term: 9 }]))[0].vote).toBe('YES');
    expect((await db.prepareBatch([{ txId: 'tx-13', items: [item('bk-042', 1)], term: 8 }]))[0].vote).toBe('STALE_TERM');
    await db.finishBatch([{ txId: 'tx-12', commit: false }]);
  });

  it('refuses bad input with INVALID_ARGUMENT, and answers NOT_LEADER on a follower', async () => {
    const leader = await settledLeader();
    const follower = Object.keys(cluster.peers).find((id) => id !== leader.id)!;
    const onLeader = cluster.client(leader.id);
    expect(await refusal(onLeader.prepareBatch({ txs: [{ txId: 'ok', items: [item('bk-001', 1)], term: 0 }, { txId: '', items: [item('bk-001', 1)], term: 0 }] }))).toMatch(
      /^INVALID_ARGUMENT: txs\[1\]: txId/,
    );
    expect(await refusal(onLeader.prepareBatch({ txs: [{ txId: 'x', items: [], term: 0 }] }))).toBe('INVALID_ARGUMENT: txs[0]: a prepare needs at least one item');
    expect(await refusal(onLeader.finishBatch({ txs: [{ txId: '', commit: true }] }))).toMatch(/^INVALID_ARGUMENT: txs\[0\]: txId/);
    // The valid transaction in the refused batch was not prepared either.
    expect((await db.transactions()).map((t) => t.txId)).not.toContain('ok');
    expect(await refusal(cluster.client(follower).prepareBatch({ txs: [{ txId: 'f', items: [item('bk-001', 1)], term: 0 }] }))).toBe(
      `FAILED_PRECONDITION: NOT_LEADER leader=${leader.id}`,
    );
    expect(await refusal(cluster.client(follower).transactions({}))).toBe(`FAILED_PRECONDITION: NOT_LEADER leader=${leader.id}`);
  });

  it('keeps a prepared reservation through a SIGKILL of the leader: the next leader holds it and commits it, once', async () => {
    await db.setStock({ bookId: 'bk-043', stock: 3 });
    await db.setStock({ bookId: 'bk-045', stock: 100 });
    // More entries than a snapshot interval after the prepare, so the reservation is also in a snapshot.
    expect((await db.prepareBatch([{ txId: 'tx-20', items: [item('bk-043', 2)] }]))[0].vote).toBe('YES');
    for (let i = 0; i < SNAPSHOT_ENTRIES + 5; i++) await db.decrement({ orderId: `fill-${i}`, items: [item('bk-045', 1)] });
    await converged();
    const old = await settledLeader();
    expect(old.snapshotIndex).toBeGreaterThan(0);
    await cluster.kill(old.id, 'SIGKILL');
    await waitFor(
      'a new leader among the two others',
      async () => ((await statuses()).some((s) => s.role === 'leader' && s.term > old.term && s.id !== old.id) ? true : undefined),
      20_000,
    );
    expect((await db.transactions()).find((t) => t.txId === 'tx-20')).toMatchObject({ state: 'prepared', items: [item('bk-043', 2)] });
    expect(stockOf((await db.read(['bk-043'])).books, 'bk-043')).toBe(1);
    // Only one copy can be sold meanwhile.
    expect((await db.prepareBatch([{ txId: 'tx-21', items: [item('bk-043', 2)] }]))[0]).toMatchObject({ vote: 'OUT_OF_STOCK', bookId: 'bk-043' });
    expect(await db.finishBatch([{ txId: 'tx-20', commit: true }])).toMatchObject([{ state: 'committed' }]);
    cluster.start(old.id);
    await settledLeader();
    expect(await db.finishBatch([{ txId: 'tx-20', commit: true }])).toMatchObject([{ state: 'committed' }]);
    const state = await converged();
    expect(stockOf(state.books, 'bk-043')).toBe(1);
    expect(state.reserved.find((r) => r.bookId === 'bk-043')).toBeUndefined();
  }, 90_000);

  it('finishes a transaction left prepared by asking the executors for the decision (cooperative termination)', async () => {
    await db.setStock({ bookId: 'bk-044', stock: 4 });
    expect((await db.prepareBatch([{ txId: 'tx-30', items: [item('bk-044', 1)] }, { txId: 'tx-31', items: [item('bk-044', 2)] }])).map((v) => v.vote)).toEqual([
      'YES',
      'YES',
    ]);
    // Undecided at the executors at first: the leader asks (through executor-1's NOT_LEADER, at executor-2) and waits.
    await waitFor('the leader to ask about tx-30', async () => (executors.asked.some((q) => q.txId === 'tx-30') ? true : undefined), 20_000);
    expect(executors.asked.find((q) => q.txId === 'tx-30')).toMatchObject({ participant: 'books-database' });
    expect((await db.transactions()).map((t) => t.txId).sort()).toEqual(['tx-30', 'tx-31']);
    executors.decided.set('tx-30', { decision: 'commit' });
    executors.decided.set('tx-31', { decision: 'abort', reason: 'PAYMENT_DECLINED' });
    await waitFor('both transactions finished', async () => ((await db.transactions()).length === 0 ? true : undefined), 20_000);
    expect(stockOf((await db.read(['bk-044'])).books, 'bk-044')).toBe(3);
    // What termination decided is the decision: the coordinator's (late) Finish gets the same answer.
    expect(await db.finishBatch([{ txId: 'tx-30', commit: true }, { txId: 'tx-31', commit: false }])).toMatchObject([{ state: 'committed' }, { state: 'aborted' }]);
    expect(cluster.lines.some((l) => l.includes('tx-30 committed by cooperative termination'))).toBe(true);
  }, 60_000);

  it('leaves every replica with the same state: digests equal, nothing reserved', async () => {
    const state = await converged();
    expect(state.reserved).toEqual([]);
    const all = await statuses();
    for (const s of all) expect(s).toMatchObject({ preparedCount: 0, totalReserved: 0 });
  });
});
