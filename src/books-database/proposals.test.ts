import { NotLeaderError, type RaftDriver } from '../platform/raft-host/driver';
import type { Entry } from '../raft/types';
import { OutcomeUnknownError, Proposals } from './proposals';
import type { Applied } from './stock-state';

/** A driver whose log takes each proposal at the next index, in `term` (undefined term: not the leader). */
function fakeDriver() {
  const state = { term: 3 as number | undefined, next: 10 };
  const driver = {
    propose: (commands: readonly string[]) => (state.term === undefined ? undefined : commands.map(() => state.next++)),
    status: () => ({ term: state.term ?? 4, leader: state.term === undefined ? 'books-2' : 'books-1' }),
  } as unknown as RaftDriver;
  return { driver, state };
}

const setCommand = { type: 'set', bookId: 'a', stock: 1, term: 0 } as const;
const result: Applied = { kind: 'set', outcome: { code: 'OK', index: 10 } };
const entry = (index: number, term: number): Entry => ({ index, term, type: 'command', data: '{}' });

describe('Proposals', () => {
  it('answers a write with what the state machine made of its own entry', async () => {
    const { driver } = fakeDriver();
    const proposals = new Proposals(driver, 1000);
    const pending = proposals.submit(setCommand);
    proposals.applied(entry(9, 3), { kind: 'noop' });
    proposals.applied(entry(10, 3), result);
    await expect(pending).resolves.toBe(result);
  });

  it('reports the outcome unknown when a newer leader put another entry at its index', async () => {
    const { driver } = fakeDriver();
    const proposals = new Proposals(driver, 1000);
    const pending = proposals.submit(setCommand);
    proposals.applied(entry(10, 4), result);
    await expect(pending).rejects.toBeInstanceOf(OutcomeUnknownError);
  });

  it('reports the outcome unknown when an installed snapshot covers its index, or after the timeout', async () => {
    const { driver } = fakeDriver();
    const proposals = new Proposals(driver, 30);
    const covered = proposals.submit(setCommand);
    const late = proposals.submit(setCommand);
    proposals.skipped(10);
    await expect(covered).rejects.toThrow('covered by an installed snapshot');
    await expect(late).rejects.toThrow('entry 11 not applied within 30 ms');
  });

  it('refuses on a node that does not lead, naming the leader', async () => {
    const { driver, state } = fakeDriver();
    state.term = undefined;
    await expect(new Proposals(driver, 1000).submit(setCommand)).rejects.toEqual(new NotLeaderError('books-2'));
  });
});
