import type { ExecutorView } from './api-types';
import { LocalLeaderKiller } from './leader-killer';
import { createLogger } from '../platform/logger';

const executor = (id: string, role: ExecutorView['role'], term: number) => ({ id, role, term }) as ExecutorView;

describe('LocalLeaderKiller', () => {
  const logger = createLogger('test', 'error');
  const cluster = (...executors: ExecutorView[]) => ({ snapshot: async () => ({ executors, booksDatabase: [], queue: { depth: 0 }, transactions: { coordinating: 0, prepared: 0 }, at: 0 }) });

  it("kills the leader's process, found by its executor id", async () => {
    const killed: number[] = [];
    const pids: Record<string, number> = { 'executor-1': 101, 'executor-2': 102 };
    const killer = new LocalLeaderKiller(cluster(executor('executor-1', 'follower', 4), executor('executor-2', 'leader', 4)), (id) => pids[id], logger, (pid) => killed.push(pid));
    await expect(killer.killLeader()).resolves.toEqual({ killed: 'executor-2', term: 4 });
    expect(killed).toEqual([102]);
  });

  it('kills nothing when there is no leader or no pid for it', async () => {
    const killed: number[] = [];
    const noLeader = new LocalLeaderKiller(cluster(executor('executor-1', 'candidate', 5)), () => 101, logger, (pid) => killed.push(pid));
    await expect(noLeader.killLeader()).rejects.toThrow('there is no leader right now');
    const noPid = new LocalLeaderKiller(cluster(executor('executor-1', 'leader', 5)), () => undefined, logger, (pid) => killed.push(pid));
    await expect(noPid.killLeader()).rejects.toThrow('no process id known for executor-1');
    expect(killed).toEqual([]);
  });

  it("kills the books database's leader when asked for it, not the executors'", async () => {
    const killed: number[] = [];
    const pids: Record<string, number> = { 'executor-1': 101, 'books-2': 202 };
    const snapshot = async () => ({
      executors: [executor('executor-1', 'leader', 4)],
      booksDatabase: [
        { id: 'books-1', address: '', role: 'follower' as const, term: 7, leaderId: 'books-2', commitIndex: 9, appliedIndex: 9 },
        { id: 'books-2', address: '', role: 'leader' as const, term: 7, leaderId: 'books-2', commitIndex: 9, appliedIndex: 9 },
      ],
      queue: { depth: 0 },
      transactions: { coordinating: 0, prepared: 0 },
      at: 0,
    });
    const killer = new LocalLeaderKiller({ snapshot }, (id) => pids[id], logger, (pid) => killed.push(pid));
    await expect(killer.killLeader('booksDatabase')).resolves.toEqual({ killed: 'books-2', term: 7 });
    expect(killed).toEqual([202]);
  });
});
