import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Entry, HardState, Ready, Snapshot, Storage } from '../../raft/types';
import { CorruptFileError, RecordLog } from '../../storage';
import { encodeFrame } from '../../storage/frames';
import { LOG_HEADER } from '../../storage/record-log';
import { writeSnapshotFile } from '../../storage/snapshot-file';
import { crashAtDiskStep } from '../../testing/disk-crash';
import { RAFT_LOG_FILE, RAFT_SNAPSHOT_FILE, RaftFileStorage } from './storage';

const ready = (over: Partial<Ready>): Ready => ({ entries: [], messages: [], committed: [], softStateChanged: false, ...over });
const entries = (from: number, to: number, term = 1): Entry[] =>
  Array.from({ length: to - from + 1 }, (_, i) => ({ term, index: from + i, type: 'command', data: `order ${from + i}` }));
const ids = (list: Entry[]) => list.map((e) => `${e.index}@${e.term}`);

describe('RaftFileStorage', () => {
  let dir: string;
  beforeEach(() => {
    dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'raft-storage-')), 'executor-1');
  });
  afterEach(() => fs.rmSync(path.dirname(dir), { recursive: true, force: true }));

  /** What a restart would start from. */
  async function reopen(): Promise<Storage & { repairedBytes: number }> {
    const { storage, state, repairedBytes } = await RaftFileStorage.open(dir);
    await storage.close();
    return { ...state, repairedBytes };
  }

  /** Runs `write` against a fresh storage, then closes it. */
  async function withStorage(write: (storage: RaftFileStorage) => Promise<void>): Promise<void> {
    const { storage } = await RaftFileStorage.open(dir);
    try {
      await write(storage);
    } finally {
      await storage.close();
    }
  }

  it('starts empty, and replays hard state and entries after a reopen', async () => {
    expect(await reopen()).toEqual({ hardState: { term: 0, vote: null, commit: 0 }, entries: [], repairedBytes: 0 });
    await withStorage((s) => s.persist(ready({ hardState: { term: 2, vote: 'b', commit: 1 }, entries: [{ term: 1, index: 1, type: 'noop' }, ...entries(2, 2, 2)] })));
    const state = await reopen();
    expect(state.hardState).toEqual({ term: 2, vote: 'b', commit: 1 });
    expect(ids(state.entries)).toEqual(['1@1', '2@2']);
    expect(state.snapshot).toBeUndefined();
  });

  it('replaces a conflicting suffix when a later run starts lower', async () => {
    await withStorage(async (s) => {
      await s.persist(ready({ entries: entries(1, 3) }));
      await s.persist(ready({ entries: entries(2, 2, 2) }));
    });
    expect(ids((await reopen()).entries)).toEqual(['1@1', '2@2']);
  });

  it('fsyncs entries and term or vote changes, but not a change of the commit index alone', async () => {
    await withStorage(async (s) => {
      await s.persist(ready({ hardState: { term: 1, vote: 'a', commit: 0 } }));
      expect(s.fsyncs).toBe(1);
      await s.persist(ready({ hardState: { term: 1, vote: 'a', commit: 0 }, entries: entries(1, 2) }));
      expect(s.fsyncs).toBe(2);
      await s.persist(ready({ hardState: { term: 1, vote: 'a', commit: 2 } }));
      expect(s.fsyncs).toBe(2);
      await s.persist(ready({ hardState: { term: 2, vote: null, commit: 2 } }));
      expect(s.fsyncs).toBe(3);
    });
    expect((await reopen()).hardState).toEqual({ term: 2, vote: null, commit: 2 });
  });

  it('keeps a vote persisted after a torn tail was cut (it used to be glued to the fragment and lost)', async () => {
    await withStorage((s) => s.persist(ready({ hardState: { term: 3, vote: null, commit: 0 }, entries: entries(1, 1, 3) })));
    const torn = encodeFrame(JSON.stringify({ hs: { term: 4, vote: 'c', commit: 1 } }));
    fs.appendFileSync(path.join(dir, RAFT_LOG_FILE), torn.subarray(0, torn.length - 5));

    const { storage, state, repairedBytes } = await RaftFileStorage.open(dir);
    expect(repairedBytes).toBe(torn.length - 5);
    expect(state.hardState).toEqual({ term: 3, vote: null, commit: 0 });
    await storage.persist(ready({ hardState: { term: 4, vote: 'b', commit: 0 } }));
    await storage.close();

    expect(await reopen()).toEqual({ hardState: { term: 4, vote: 'b', commit: 0 }, entries: entries(1, 1, 3), repairedBytes: 0 });
  });

  it('refuses to start on a damaged record in the middle, naming the file, the offset and how to recover', async () => {
    await withStorage(async (s) => {
      await s.persist(ready({ hardState: { term: 1, vote: 'a', commit: 0 } }));
      await s.persist(ready({ entries: entries(1, 3) }));
    });
    const file = path.join(dir, RAFT_LOG_FILE);
    const data = fs.readFileSync(file);
    const at = data.indexOf('"vote":"a"');
    data[at + 8] = 'b'.charCodeAt(0);
    fs.writeFileSync(file, data);
    await expect(RaftFileStorage.open(dir)).rejects.toThrow(
      new CorruptFileError(
        file,
        LOG_HEADER.length, // the first record: its vote no longer matches its checksum
        'a record fails its checksum with intact records after it',
        `This replica's data is corrupt; stop it, delete ${dir}, and restart it: it catches up from the others.`,
      ).message,
    );
  });

  it('refuses every write after one failed, snapshot writes included', async () => {
    const { storage } = await RaftFileStorage.open(dir);
    const crash = await crashAtDiskStep(0);
    const failed = await storage.compact({ index: 1, term: 1, data: '' }, { term: 1, vote: null, commit: 1 }, []).catch((err: Error) => err);
    crash.restore();
    expect(failed).toBeInstanceOf(Error);
    await expect(storage.persist(ready({ hardState: { term: 2, vote: 'a', commit: 0 } }))).rejects.toBe(failed);
    await storage.close();
    expect((await reopen()).hardState.term).toBe(0);
  });

  describe('snapshots (§7)', () => {
    const snapshot = (index: number, term = 1): Snapshot => ({ index, term, data: `state as of ${index}` });
    const hs = (commit: number, term = 1): HardState => ({ term, vote: 'a', commit });

    it('compacts: the snapshot stands in for the prefix, the log keeps the tail, and appends go on from it', async () => {
      await withStorage(async (s) => {
        await s.persist(ready({ hardState: hs(8), entries: entries(1, 10) }));
        await s.compact(snapshot(6), hs(8), entries(7, 10));
        await s.persist(ready({ entries: entries(11, 11) }));
      });
      const state = await reopen();
      expect(state.snapshot).toEqual(snapshot(6));
      expect(ids(state.entries)).toEqual(['7@1', '8@1', '9@1', '10@1', '11@1']);
      expect(state.hardState).toEqual(hs(8));
      expect(fs.readdirSync(dir).sort()).toEqual([RAFT_LOG_FILE, RAFT_SNAPSHOT_FILE]);
    });

    it('installs a leader snapshot: durable first, then the log holds no entry at or below it', async () => {
      await withStorage(async (s) => {
        await s.persist(ready({ hardState: hs(3), entries: entries(1, 5) }));
        await s.persist(ready({ snapshot: snapshot(8, 2), hardState: hs(8, 2) }));
      });
      expect(await reopen()).toEqual({ hardState: hs(8, 2), snapshot: snapshot(8, 2), entries: [], repairedBytes: 0 });
      await withStorage((s) => s.persist(ready({ entries: entries(9, 10, 2) })));
      expect(ids((await reopen()).entries)).toEqual(['9@2', '10@2']);
    });

    it('saves a snapshot beside the log while appends go on; compact then drops the prefix without writing it again', async () => {
      await withStorage(async (s) => {
        await s.persist(ready({ hardState: hs(8), entries: entries(1, 10) }));
        const saving = s.saveSnapshot(snapshot(6));
        await s.persist(ready({ entries: entries(11, 12) }));
        await saving;
      });
      // Stopped (or crashed) before compact: the new snapshot and the whole log read as the same state.
      let state = await reopen();
      expect(state.snapshot).toEqual(snapshot(6));
      expect(ids(state.entries)).toEqual(['7@1', '8@1', '9@1', '10@1', '11@1', '12@1']);
      await withStorage(async (s) => {
        const before = fs.statSync(path.join(dir, RAFT_SNAPSHOT_FILE)).mtimeMs;
        await s.compact(snapshot(6), hs(8), entries(7, 12));
        expect(fs.statSync(path.join(dir, RAFT_SNAPSHOT_FILE)).mtimeMs).toBe(before);
      });
      state = await reopen();
      expect(state.snapshot).toEqual(snapshot(6));
      expect(ids(state.entries)).toEqual(['7@1', '8@1', '9@1', '10@1', '11@1', '12@1']);
    });

    it("writes a leader's snapshot after a local one still being written, never under it", async () => {
      await withStorage(async (s) => {
        await s.persist(ready({ hardState: hs(8), entries: entries(1, 10) }));
        const local = s.saveSnapshot(snapshot(6));
        await s.persist(ready({ snapshot: snapshot(20, 2), hardState: hs(20, 2) }));
        await local;
        await expect(s.saveSnapshot(snapshot(9))).rejects.toThrow('snapshot at 9 written after the one at 20');
      });
      expect(await reopen()).toEqual({ hardState: hs(20, 2), snapshot: snapshot(20, 2), entries: [], repairedBytes: 0 });
    });

    it('clamps the commit index to [snapshot index, last index]', async () => {
      await withStorage(async (s) => {
        await s.persist(ready({ hardState: hs(2), entries: entries(1, 10) }));
        await s.compact(snapshot(6), hs(2), entries(7, 10));
      });
      expect((await reopen()).hardState.commit).toBe(6);
      await withStorage((s) => s.persist(ready({ hardState: hs(50) })));
      expect((await reopen()).hardState.commit).toBe(10);
    });

    it('refuses a log that does not continue where the snapshot ends', async () => {
      await writeSnapshotFile(path.join(dir, RAFT_SNAPSHOT_FILE), JSON.stringify(snapshot(5)));
      const { log } = await RecordLog.open(path.join(dir, RAFT_LOG_FILE), { recovery: '' });
      await log.append(JSON.stringify({ hs: hs(5) }));
      await log.append(JSON.stringify({ e: entries(8, 9) }));
      await log.close();
      await expect(RaftFileStorage.open(dir)).rejects.toThrow(/raft\.log: the log starts at entry 8, not at 6 after the snapshot at byte \d+; refusing to start\. This replica's data is corrupt/);
    });

    it('refuses a damaged snapshot, naming it', async () => {
      await withStorage(async (s) => {
        await s.persist(ready({ entries: entries(1, 4) }));
        await s.compact(snapshot(2), hs(2), entries(3, 4));
      });
      const file = path.join(dir, RAFT_SNAPSHOT_FILE);
      fs.writeFileSync(file, fs.readFileSync(file).toString('latin1').replace('state as of 2', 'state as of 3'), 'latin1');
      await expect(RaftFileStorage.open(dir)).rejects.toThrow(`${file}: the snapshot fails its checksum`);
    });

    /**
     * Runs `sequence` with a crash at every disk step in turn (src/testing/disk-crash.ts) and returns what a
     * restart sees after each, labelled by the step that did not happen.
     */
    async function restartsAfterEachCrash(setUp: (s: RaftFileStorage) => Promise<void>, sequence: (s: RaftFileStorage) => Promise<void>) {
      const outcomes: { step: string; state: Storage }[] = [];
      for (let n = 0; ; n++) {
        fs.rmSync(dir, { recursive: true, force: true });
        await withStorage(setUp);
        const { storage } = await RaftFileStorage.open(dir);
        const crash = await crashAtDiskStep(n);
        const failure = await sequence(storage).catch((err: Error) => err);
        crash.restore();
        await storage.close();
        const { repairedBytes, ...state } = await reopen();
        expect(repairedBytes).toBe(0);
        expect(fs.readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
        outcomes.push({ step: crash.step ?? 'none', state });
        if (!crash.crashed) {
          expect(failure).toBeUndefined();
          return outcomes;
        }
      }
    }

    it('compaction survives a crash at every step: old snapshot + full log, new snapshot + full log, new snapshot + short log', async () => {
      const outcomes = await restartsAfterEachCrash(
        async (s) => {
          await s.persist(ready({ hardState: hs(9), entries: entries(1, 12) }));
          await s.compact(snapshot(3), hs(9), entries(4, 12));
        },
        (s) => s.compact(snapshot(8), hs(9), entries(9, 12)),
      );
      const old = { hardState: hs(9), snapshot: snapshot(3), entries: entries(4, 12) };
      const compacted = { hardState: hs(9), snapshot: snapshot(8), entries: entries(9, 12) };
      expect(outcomes.map((o) => o.step)).toEqual([
        'open raft.snapshot.tmp w',
        'write',
        'fsync',
        'rename raft.snapshot.tmp', // old snapshot + full log, up to here
        'fsync', // the directory: new snapshot + full log, from here
        'open raft.log.tmp w',
        'write',
        'fsync',
        'rename raft.log.tmp',
        'fsync', // the directory: new snapshot + short log, from here
        'open raft.log a',
        'none',
      ]);
      for (const { step, state } of outcomes.slice(0, 4)) expect({ step, state }).toEqual({ step, state: old });
      for (const { step, state } of outcomes.slice(4)) expect({ step, state }).toEqual({ step, state: compacted });
    });

    it('installing a snapshot survives a crash at every step, whether or not the old log agrees with it', async () => {
      const scenarios = [
        { name: 'log has the snapshot entry (same term)', log: entries(1, 10, 2), keeps: entries(9, 10, 2) },
        { name: 'log conflicts at the snapshot index', log: entries(1, 10, 1), keeps: [] },
        { name: 'log ends before the snapshot', log: entries(1, 5, 2), keeps: [] },
      ];
      for (const scenario of scenarios) {
        const outcomes = await restartsAfterEachCrash(
          (s) => s.persist(ready({ hardState: hs(2, 2), entries: scenario.log })),
          (s) => s.persist(ready({ snapshot: snapshot(8, 2), hardState: hs(8, 3) })),
        );
        const before = { hardState: hs(2, 2), entries: scenario.log };
        // The snapshot renamed into place, the log not yet reset: what agrees with the snapshot is kept.
        const renamed = { hardState: hs(8, 2), snapshot: snapshot(8, 2), entries: scenario.keeps };
        const installed = { hardState: hs(8, 3), snapshot: snapshot(8, 2), entries: [] };
        const states = outcomes.map((o) => o.state);
        expect({ scenario: scenario.name, states }).toEqual({
          scenario: scenario.name,
          states: [before, before, before, before, renamed, renamed, renamed, renamed, renamed, installed, installed, installed],
        });
      }
    });
  });
});
