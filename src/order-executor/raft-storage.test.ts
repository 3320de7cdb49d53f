import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { RaftFileStorage } from './raft-storage';

const ready = (over: object) => ({ entries: [], messages: [], committed: [], softStateChanged: false, ...over });

describe('RaftFileStorage', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'raft-storage-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('starts empty, and replays hard state and entries after a reopen', async () => {
    const { storage, state } = await RaftFileStorage.open(dir);
    expect(state).toEqual({ hardState: { term: 0, vote: null, commit: 0 }, entries: [] });
    await storage.persist(
      ready({
        hardState: { term: 2, vote: 'b', commit: 1 },
        entries: [
          { term: 1, index: 1, type: 'noop' },
          { term: 2, index: 2, type: 'command', data: 'x' },
        ],
      }),
    );
    await storage.close();
    const reopened = await RaftFileStorage.open(dir);
    expect(reopened.state.hardState).toEqual({ term: 2, vote: 'b', commit: 1 });
    expect(reopened.state.entries.map((e) => e.index)).toEqual([1, 2]);
    await reopened.storage.close();
  });

  it('replaces a conflicting suffix when a later run starts lower', async () => {
    const { storage } = await RaftFileStorage.open(dir);
    await storage.persist(ready({ entries: [1, 2, 3].map((i) => ({ term: 1, index: i, type: 'noop' })) }));
    await storage.persist(ready({ entries: [{ term: 2, index: 2, type: 'noop' }] }));
    await storage.close();
    const reopened = await RaftFileStorage.open(dir);
    await reopened.storage.close();
    expect(reopened.state.entries.map((e) => `${e.index}@${e.term}`)).toEqual(['1@1', '2@2']);
  });

  it('ignores a torn last line, as after a crash mid-write', async () => {
    const { storage } = await RaftFileStorage.open(dir);
    await storage.persist(ready({ hardState: { term: 3, vote: null, commit: 0 }, entries: [{ term: 3, index: 1, type: 'noop' }] }));
    await storage.close();
    fs.appendFileSync(path.join(dir, 'raft.log'), '{"e":[{"term":3,"ind');
    const reopened = await RaftFileStorage.open(dir);
    await reopened.storage.close();
    expect(reopened.state.hardState.term).toBe(3);
    expect(reopened.state.entries).toHaveLength(1);
  });
});
