import { NotLeaderError, type RaftDriver } from '../platform/raft-host/driver';
import type { Entry } from '../raft/types';
import { OutcomeUnknownError, Proposals } from './proposals';
import type { Applied } from './stock-state';

/** A driver whose log takes each proposal at the next index, in `term` (undefined term: not the leader). */
function fakeDriver() {
  const state = { term: 3 as number | undefined, next: 10, calls: [] as number[] };
  const driver = {
    propose: (commands: readonly string[]) => {
      state.calls.push(commands.length);
      return state.term === undefined ? undefined : commands.map(() => state.next++);
    },
    status: () => ({ term: state.term ?? 4, leader: state.term === undefined ? 'books-2' : 'books-1' }),
  } as unknown as RaftDriver;
  return { driver, state };
}

const setCommand = { type: 'set', bookId: 'a', stock: 1, term: 0 } as const;
const result: Applied = { kind: 'set', outcome: { code: 'OK', index: 10 } };
const entry = (index: number, term: number): Entry => ({ index, term, type: 'command', data: '{}' });
/** Writes are proposed at the end of the event-loop turn they were submitted in. */
const proposed = () => new Promise((r) => setImmediate(r));

describe('Proposals', () => {
  it('answers a write with what the state machine made of its own entry', async () => {
    const { driver } = fakeDriver();
    const proposals = new Proposals(driver, 1000);
    const pending = proposals.submit(setCommand);
    await proposed();
    proposals.applied(entry(9, 3), { kind: 'noop' });
    proposals.applied(entry(10, 3), result);
    await expect(pending).resolves.toBe(result);
  });

  it('reports the outcome unknown when a newer leader put another entry at its index', async () => {
    const { driver } = fakeDriver();
    const proposals = new Proposals(driver, 1000);
    const pending = proposals.submit(setCommand);
    await proposed();
    proposals.applied(entry(10, 4), result);
    await expect(pending).rejects.toBeInstanceOf(OutcomeUnknownError);
  });

  it('reports the outcome unknown when an installed snapshot covers its index, or after the timeout', async () => {
    const { driver } = fakeDriver();
    const proposals = new Proposals(driver, 30);
    const covered = proposals.submit(setCommand);
    const late = proposals.submit(setCommand);
    await proposed();
    proposals.skipped(10);
    await expect(covered).rejects.toThrow('covered by an installed snapshot');
    await expect(late).rejects.toThrow('entry 11 not applied within 30 ms');
  });

  it('proposes the writes of one turn in one call, each answered from its own entry', async () => {
    const { driver, state } = fakeDriver();
    const proposals = new Proposals(driver, 1000);
    const writes = [0, 1, 2].map((stock) => proposals.submit({ ...setCommand, stock }));
    await proposed();
    const next = proposals.submit(setCommand);
    await proposed();
    expect(state.calls).toEqual([3, 1]);
    const results: Applied[] = [10, 11, 12, 13].map((index) => ({ kind: 'set', outcome: { code: 'OK', index } }));
    results.forEach((r, i) => proposals.applied(entry(10 + i, 3), r));
    await expect(Promise.all([...writes, next])).resolves.toEqual(results);
  });

  it('refuses on a node that does not lead, naming the leader', async () => {
    const { driver, state } = fakeDriver();
    state.term = undefined;
    await expect(new Proposals(driver, 1000).submit(setCommand)).rejects.toEqual(new NotLeaderError('books-2'));
  });
});
