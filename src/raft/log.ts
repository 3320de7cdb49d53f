import type { Entry, Snapshot } from './types';

/**
 * The in-memory log, 1-based. Entries up to `snapshotIndex` may be compacted
 * away (§7): position 0 then holds a sentinel carrying the snapshot's index and
 * term, which is all Raft still needs of the prefix (the prevLogTerm of the
 * next Append, the up-to-date check of an empty log). Without a snapshot the
 * sentinel is index 0, term 0.
 *
 * It also remembers the lowest index changed since the caller last persisted,
 * so a Ready carries exactly the entries to write.
 */
export class RaftLog {
  private entries: Entry[];
  /** Lowest index not yet handed to the caller for persisting. */
  private unstableFrom: number;

  constructor(persisted: readonly Entry[], snapshot?: Pick<Snapshot, 'index' | 'term'>) {
    this.entries = [sentinel(snapshot?.index ?? 0, snapshot?.term ?? 0)];
    for (const e of persisted) this.append(e);
    this.unstableFrom = this.lastIndex + 1;
  }

  /** The last index covered by a snapshot (0 if the log was never compacted). */
  get snapshotIndex(): number {
    return this.entries[0].index;
  }

  get lastIndex(): number {
    return this.snapshotIndex + this.entries.length - 1;
  }

  get lastTerm(): number {
    return this.entries[this.entries.length - 1].term;
  }

  /** Term of the entry at `index`: known from the snapshot index on, undefined below it (compacted) or beyond the end. */
  termAt(index: number): number | undefined {
    return index >= this.snapshotIndex ? this.entries[index - this.snapshotIndex]?.term : undefined;
  }

  /** The entry at `index`, if the log still holds it. */
  entry(index: number): Entry | undefined {
    return index > this.snapshotIndex ? this.entries[index - this.snapshotIndex] : undefined;
  }

  /** Entries in [from, to], at most `max` of them. `from` must be past the snapshot. */
  slice(from: number, to = this.lastIndex, max = Infinity): Entry[] {
    if (from <= this.snapshotIndex) throw new Error(`slice from ${from}: entries up to ${this.snapshotIndex} are compacted`);
    const end = Math.min(to, this.lastIndex, from + max - 1);
    const offset = this.snapshotIndex;
    return from > end ? [] : this.entries.slice(from - offset, end - offset + 1);
  }

  append(entry: Entry): void {
    if (entry.index !== this.lastIndex + 1) throw new Error(`append of index ${entry.index} after ${this.lastIndex}`);
    this.entries.push(entry);
  }

  /** Drops every entry at or after `index` (a conflict with the leader's log, §5.3). */
  truncateFrom(index: number): void {
    if (index <= this.snapshotIndex) throw new Error(`truncate from ${index}: entries up to ${this.snapshotIndex} are in a snapshot`);
    this.entries.length = index - this.snapshotIndex;
    this.unstableFrom = Math.min(this.unstableFrom, index);
  }

  /** Forgets the entries up to `index`, which a snapshot now stands for. */
  compact(index: number): void {
    const term = this.termAt(index);
    if (term === undefined || index > this.lastIndex) throw new Error(`compact to ${index}: log holds ${this.snapshotIndex + 1}..${this.lastIndex}`);
    this.entries = [sentinel(index, term), ...this.entries.slice(index - this.snapshotIndex + 1)];
  }

  /** Replaces the whole log by a snapshot received from the leader (§7): nothing after it survives. */
  restore(snapshot: Pick<Snapshot, 'index' | 'term'>): void {
    this.entries = [sentinel(snapshot.index, snapshot.term)];
    this.unstableFrom = snapshot.index + 1;
  }

  /** Is a log ending at (term, index) at least as up-to-date as ours? (§5.4.1) */
  isUpToDate(lastTerm: number, lastIndex: number): boolean {
    return lastTerm > this.lastTerm || (lastTerm === this.lastTerm && lastIndex >= this.lastIndex);
  }

  unstable(): Entry[] {
    return this.slice(Math.max(this.unstableFrom, this.snapshotIndex + 1));
  }

  /** Entries after `index` that are already on disk (what a compacted log file keeps). */
  stableAfter(index: number): Entry[] {
    return this.slice(index + 1, this.unstableFrom - 1);
  }

  /**
   * The caller persisted entries up to `last`. If the log still holds that very
   * entry (same index and term), the Log Matching property says everything up to
   * it is what was written; otherwise a truncation replaced it meanwhile and those
   * indexes stay unstable.
   */
  markStable(last: Entry): void {
    if (this.termAt(last.index) === last.term) this.unstableFrom = Math.max(this.unstableFrom, last.index + 1);
  }
}

function sentinel(index: number, term: number): Entry {
  return { term, index, type: 'noop' };
}
