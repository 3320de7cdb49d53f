import type { Entry } from './types';

/**
 * The in-memory log, 1-based (index 0 is an empty sentinel with term 0). It
 * remembers the lowest index changed since the caller last persisted, so a
 * Ready carries exactly the entries to write.
 */
export class RaftLog {
  private readonly entries: Entry[] = [{ term: 0, index: 0, type: 'noop' }];
  /** Lowest index not yet handed to the caller for persisting. */
  private unstableFrom: number;

  constructor(persisted: readonly Entry[]) {
    for (const e of persisted) this.entries.push(e);
    this.unstableFrom = this.lastIndex + 1;
  }

  get lastIndex(): number {
    return this.entries.length - 1;
  }

  get lastTerm(): number {
    return this.entries[this.entries.length - 1].term;
  }

  /** Term of the entry at `index`, or undefined beyond the end. */
  termAt(index: number): number | undefined {
    return this.entries[index]?.term;
  }

  entry(index: number): Entry | undefined {
    return index >= 1 ? this.entries[index] : undefined;
  }

  /** Entries in [from, to]. */
  slice(from: number, to = this.lastIndex, max = Infinity): Entry[] {
    const end = Math.min(to, this.lastIndex, from + max - 1);
    return from > end ? [] : this.entries.slice(from, end + 1);
  }

  append(entry: Entry): void {
    if (entry.index !== this.lastIndex + 1) throw new Error(`append of index ${entry.index} after ${this.lastIndex}`);
    this.entries.push(entry);
  }

  /** Drops every entry at or after `index` (a conflict with the leader's log, §5.3). */
  truncateFrom(index: number): void {
    this.entries.length = index;
    this.unstableFrom = Math.min(this.unstableFrom, index);
  }

  /** Is a log ending at (term, index) at least as up-to-date as ours? (§5.4.1) */
  isUpToDate(lastTerm: number, lastIndex: number): boolean {
    return lastTerm > this.lastTerm || (lastTerm === this.lastTerm && lastIndex >= this.lastIndex);
  }

  unstable(): Entry[] {
    return this.slice(this.unstableFrom);
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
