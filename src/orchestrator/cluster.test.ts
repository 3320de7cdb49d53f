import type { BooksReplicaView, ExecutorView } from './api-types';
import { transactionsInFlight } from './cluster';

const executor = (id: string, role: ExecutorView['role'], term: number, transactionsInFlight: number): ExecutorView => ({
  id,
  address: `127.0.0.1:${id.length}`,
  role,
  term,
  leaderId: null,
  commitIndex: 0,
  appliedIndex: 0,
  logLength: 0,
  snapshotIndex: 0,
  lastHeartbeatMs: null,
  executedCount: 0,
  transactionsInFlight,
});
const replica = (id: string, role: BooksReplicaView['role'], term: number, preparedCount: number | undefined) => ({
  view: { id, address: '', role, term, leaderId: null, commitIndex: 0, appliedIndex: 0 },
  preparedCount,
});

describe('GET /cluster transactions in flight', () => {
  it("counts what the newest executor leader coordinates and what the books database's leader holds prepared", () => {
    // A deposed leader that has not heard of the new term still reports its old, stale count.
    const executors = [executor('executor-1', 'leader', 3, 9), executor('executor-2', 'leader', 4, 2), executor('executor-3', 'follower', 4, 0)];
    const books = [replica('books-1', 'follower', 5, 7), replica('books-2', 'leader', 5, 3), replica('books-3', 'unreachable', 0, undefined)];
    expect(transactionsInFlight(executors, books)).toEqual({ coordinating: 2, prepared: 3 });
  });

  it('says null, not 0, when no leader answered', () => {
    expect(transactionsInFlight([executor('executor-1', 'candidate', 2, 0)], [replica('books-1', 'unreachable', 0, undefined)])).toEqual({
      coordinating: null,
      prepared: null,
    });
  });
});
