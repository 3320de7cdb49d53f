import path from 'node:path';
import type { Entry, HardState, Ready, Snapshot, Storage } from '../../raft/types';
import { CorruptFileError, readSnapshotFile, RecordLog, writeSnapshotFile, type StoredRecord } from '../../storage';

/**
 * Raft's stable storage, in one executor's directory:
 *
 * - `raft.snapshot`: the latest snapshot (index, term, state machine), if the log was ever compacted;
 * - `raft.log`: a record log (src/storage) of JSON records, one per Ready: `{"hs": …, "e": […]}`, a hard
 *   state and/or a run of entries. A run starting at index i replaces everything from i on, which is how
 *   a conflicting suffix is dropped without rewriting the file. One Ready = one write + at most one fsync.
 *
 * Compaction writes the snapshot first and only then drops the log prefix, so a crash in between leaves a
 * new snapshot beside a log that still starts below it; open() reconciles the two.
 */

export const RAFT_LOG_FILE = 'raft.log';
export const RAFT_SNAPSHOT_FILE = 'raft.snapshot';

interface LogRecord {
  hs?: HardState;
  /** Never empty. */
  e?: Entry[];
}

/** What to do with a replica whose files are damaged: Raft's other replicas hold everything it had. */
export const raftRecovery = (dir: string): string =>
  `This replica's data is corrupt; stop it, delete ${dir}, and restart it: it catches up from the others.`;

export interface OpenedRaftStorage {
  storage: RaftFileStorage;
  state: Storage;
  /** Bytes of a torn tail cut off the log on open (0 after a clean shutdown), for a warning. */
  repairedBytes: number;
}

export class RaftFileStorage {
  /** The hard state last written, for rewrites that must keep it. */
  private hardState: HardState;
  /** Term and vote as last fsynced: only a change to these (or new entries) needs an fsync. */
  private durable: HardState;
  /** persist and compact run one at a time, in call order (a compaction must not overtake entries). */
  private previous: Promise<unknown> = Promise.resolve();
  /**
   * Snapshot file writes, one at a time in call order, apart from the log's: a local snapshot is written while
   * persists go on (see saveSnapshot), and a leader's snapshot waits for it rather than be overwritten by it.
   */
  private snapshotWrites: Promise<unknown> = Promise.resolve();
  /** The index of the snapshot in the file (0: none). */
  private savedIndex: number;
  /** Set by the first failed write: what is on disk is then unknown, so nothing more is written. */
  private failure: Error | undefined;

  private constructor(
    readonly dir: string,
    private readonly log: RecordLog,
    hardState: HardState,
    snapshotIndex: number,
  ) {
    this.hardState = this.durable = hardState;
    this.savedIndex = snapshotIndex;
  }

  static async open(dir: string): Promise<OpenedRaftStorage> {
    const recovery = raftRecovery(dir);
    const { log, records, repairedBytes } = await RecordLog.open(path.join(dir, RAFT_LOG_FILE), { recovery });
    try {
      const snapshotFile = path.join(dir, RAFT_SNAPSHOT_FILE);
      const snapshot = parseSnapshot(await readSnapshotFile(snapshotFile, recovery), snapshotFile, recovery);
      const state = restore(snapshot, records, log.file, recovery);
      return { storage: new RaftFileStorage(dir, log, state.hardState, snapshot?.index ?? 0), state, repairedBytes };
    } catch (err) {
      await log.close();
      throw err;
    }
  }

  /**
   * Persists what a Ready asks for; resolves once it is durable. A snapshot
   * (InstallSnapshot) is made durable first and the log reset to hold no entry.
   * Entries, term and vote are fsynced before anything is sent. A change of the
   * commit index alone is written but not fsynced: after a crash a lower commit
   * index is harmless (the leader tells us again), and it saves an fsync per commit.
   */
  persist(rd: Ready): Promise<void> {
    return this.serially(async () => {
      if (rd.snapshot) {
        await this.replaceLog(rd.snapshot, rd.hardState ?? this.hardState, rd.entries);
        return;
      }
      const hs = rd.hardState;
      if (!hs && rd.entries.length === 0) return;
      const voteOrTermChanged = hs !== undefined && (hs.term !== this.durable.term || hs.vote !== this.durable.vote);
      const sync = rd.entries.length > 0 || voteOrTermChanged;
      await this.log.append(encode(logRecord(hs, rd.entries)), { sync });
      if (hs) this.hardState = hs;
      if (hs && sync) this.durable = hs;
    });
  }

  /**
   * Makes a local snapshot durable in its own file, without holding up persist(): the log is not touched, so the
   * Ready loop goes on appending (and a leader on sending heartbeats) while a large snapshot is written. A crash
   * meanwhile leaves the new snapshot beside the whole log, which open() reads as the same state. compact() then
   * drops the log before it.
   */
  saveSnapshot(snapshot: Snapshot): Promise<void> {
    return this.writeSnapshot(snapshot);
  }

  /**
   * Local compaction: `snapshot` is the state machine as of snapshot.index and
   * `tail` the entries after it. The snapshot becomes durable first (unless
   * saveSnapshot already made it so), then the log is rewritten to `hardState` +
   * `tail`; a crash between the two leaves the new snapshot and the whole old
   * log, which open() reads as the same state.
   */
  compact(snapshot: Snapshot, hardState: HardState, tail: Entry[]): Promise<void> {
    const misplaced = tail.findIndex((entry, i) => entry.index !== snapshot.index + 1 + i);
    if (misplaced !== -1) {
      return Promise.reject(new Error(`compact: tail[${misplaced}] has index ${tail[misplaced].index}, expected ${snapshot.index + 1 + misplaced}`));
    }
    return this.serially(async () => {
      await this.snapshotWrites;
      if (this.savedIndex !== snapshot.index) await this.writeSnapshot(snapshot);
      await this.log.rewrite([encode(logRecord(hardState, tail))]);
      this.hardState = this.durable = hardState;
    });
  }

  /** fsyncs of the log so far (commit-only hard states skip theirs). */
  get fsyncs(): number {
    return this.log.fsyncs;
  }

  /** Waits for the writes in flight, then closes the log. */
  async close(): Promise<void> {
    await this.previous;
    await this.snapshotWrites;
    await this.log.close();
  }

  /** A leader's snapshot replaces the file (after any local one still being written), then the log. */
  private async replaceLog(snapshot: Snapshot, hardState: HardState, entries: Entry[]): Promise<void> {
    await this.writeSnapshot(snapshot);
    await this.log.rewrite([encode(logRecord(hardState, entries))]);
    this.hardState = this.durable = hardState;
  }

  private writeSnapshot(snapshot: Snapshot): Promise<void> {
    const run = this.snapshotWrites.then(async () => {
      if (this.failure) throw this.failure;
      // Snapshots only move forward: an older one written over a newer would leave the log starting past it.
      if (snapshot.index < this.savedIndex) throw new Error(`snapshot at ${snapshot.index} written after the one at ${this.savedIndex}`);
      await writeSnapshotFile(path.join(this.dir, RAFT_SNAPSHOT_FILE), JSON.stringify(snapshot));
      this.savedIndex = snapshot.index;
    });
    this.snapshotWrites = run.catch((err: Error) => {
      this.failure ??= err;
    });
    return run;
  }

  private serially(step: () => Promise<void>): Promise<void> {
    const run = this.previous.then(() => {
      if (this.failure) throw this.failure;
      return step();
    });
    this.previous = run.catch((err: Error) => {
      this.failure ??= err;
    });
    return run;
  }
}

const encode = (record: LogRecord): string => JSON.stringify(record);
const logRecord = (hs: HardState | undefined, entries: Entry[]): LogRecord => ({ ...(hs ? { hs } : {}), ...(entries.length > 0 ? { e: entries } : {}) });

function parseSnapshot(payload: Buffer | undefined, file: string, recovery: string): Snapshot | undefined {
  if (payload === undefined) return undefined;
  let value: Partial<Snapshot> | undefined;
  try {
    value = JSON.parse(payload.toString('utf8'));
  } catch {
    // reported below
  }
  if (!Number.isInteger(value?.index) || !Number.isInteger(value?.term) || typeof value?.data !== 'string') {
    throw new CorruptFileError(file, 0, 'the snapshot is not a Raft snapshot', recovery);
  }
  return value as Snapshot;
}

/**
 * The Storage a node starts from: the snapshot, then the log replayed on top.
 * Pure, given the records read.
 */
export function restore(snapshot: Snapshot | undefined, records: StoredRecord[], file: string, recovery: string): Storage {
  let hardState: HardState = { term: 0, vote: null, commit: 0 };
  const entries: Entry[] = [];
  let startedAt = 0; // where the run holding entries[0] is, for an error message
  for (const { offset, payload } of records) {
    const record = parseRecord(payload);
    if (!record) throw new CorruptFileError(file, offset, 'a record that is neither a hard state nor a run of entries', recovery);
    if (record.hs) hardState = record.hs;
    if (!record.e) continue;
    const start = record.e[0].index;
    const first = entries[0]?.index ?? start;
    if (start > first + entries.length) {
      throw new CorruptFileError(file, offset, `entries from ${start} with the log ending at ${first + entries.length - 1}`, recovery);
    }
    entries.length = Math.max(0, start - first);
    if (entries.length === 0) startedAt = offset;
    for (const entry of record.e) entries.push(entry);
  }

  const base = snapshot?.index ?? 0;
  if (snapshot && entries.length > 0 && entries[0].index <= base) {
    const at = entries[base - entries[0].index];
    // The log still holds the snapshot's prefix (a crash before the log was rewritten): drop the prefix. If
    // it disagrees with the snapshot at its index, or ends before it, the snapshot came from a leader and
    // replaces the whole log (a crash between installing it and resetting the log).
    entries.splice(0, at?.term === snapshot.term ? base - entries[0].index + 1 : entries.length);
  }
  if (entries.length > 0 && entries[0].index !== base + 1) {
    throw new CorruptFileError(file, startedAt, `the log starts at entry ${entries[0].index}, not at ${base + 1} after the snapshot`, recovery);
  }
  const last = base + entries.length;
  return {
    hardState: { ...hardState, commit: Math.min(Math.max(hardState.commit, base), last) },
    ...(snapshot ? { snapshot } : {}),
    entries,
  };
}

function parseRecord(payload: Buffer): LogRecord | undefined {
  try {
    const value = JSON.parse(payload.toString('utf8')) as LogRecord | null;
    const hsOk = value?.hs === undefined || Number.isInteger(value.hs.term);
    const entriesOk = value?.e === undefined || (Array.isArray(value.e) && value.e.length > 0 && Number.isInteger(value.e[0].index));
    if (value && (value.hs || value.e) && hsOk && entriesOk) return value;
  } catch {
    // not JSON: reported by the caller
  }
  return undefined;
}
