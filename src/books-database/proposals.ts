import { inject, injectable } from 'tsyringe';
import { NotLeaderError, RaftDriver } from '../platform/raft-host/driver';
import type { Entry } from '../raft/types';
import { encodeCommand, type Applied, type StockCommand } from './stock-state';

/** Injection token: how long a write waits for its entry to be applied (BooksDatabaseConfig.writeTimeoutMs). */
export const WRITE_TIMEOUT_MS = Symbol('WriteTimeoutMs');

/**
 * A write's outcome is unknown: its entry may or may not commit (the leader lost its lead, or it took too long).
 * Retrying the same write is safe: decrements are idempotent by order id, and SetStock sets a value.
 */
export class OutcomeUnknownError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OutcomeUnknownError';
  }
}

interface Waiter {
  term: number;
  resolve: (applied: Applied) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

/**
 * Writes through the log: propose a command on the leader, then answer with what the state machine made of it
 * once its entry is applied. The entry applied at the proposal's index must be the proposal's own (same term):
 * a different term there means a newer leader overwrote it, and the write did not happen as proposed.
 */
@injectable()
export class Proposals {
  private readonly waiting = new Map<number, Waiter>();
  /** Writes submitted this turn, proposed together at its end. */
  private batch: { command: StockCommand; resolve: (applied: Applied) => void; reject: (err: Error) => void }[] = [];

  constructor(
    @inject(RaftDriver) private readonly driver: RaftDriver,
    @inject(WRITE_TIMEOUT_MS) private readonly timeoutMs: number,
  ) {}

  /**
   * Proposes the command and resolves with what the state machine made of its entry. Writes submitted in the same
   * event-loop turn are proposed together: one call into the core appends them all and sends one Append per
   * follower. Proposed one by one, each would send its own Append and draw its own answers, and under concurrent
   * load that message traffic, not the disk, capped the database's writes.
   */
  submit(command: StockCommand): Promise<Applied> {
    return new Promise<Applied>((resolve, reject) => {
      this.batch.push({ command, resolve, reject });
      if (this.batch.length === 1) setImmediate(() => this.proposeBatch());
    });
  }

  private proposeBatch(): void {
    const batch = this.batch;
    this.batch = [];
    const indexes = this.driver.propose(batch.map((b) => encodeCommand(b.command)));
    if (!indexes) {
      const refusal = new NotLeaderError(this.driver.status().leader);
      for (const b of batch) b.reject(refusal);
      return;
    }
    const { term } = this.driver.status();
    batch.forEach(({ resolve, reject }, i) => {
      const index = indexes[i];
      const timer = setTimeout(() => {
        this.waiting.delete(index);
        reject(new OutcomeUnknownError(`entry ${index} not applied within ${this.timeoutMs} ms: retry`));
      }, this.timeoutMs);
      this.waiting.set(index, { term, resolve, reject, timer });
    });
  }

  /** The state machine applied this entry with this result (called for every applied entry, in order). */
  applied(entry: Entry, result: Applied): void {
    const waiter = this.waiting.get(entry.index);
    if (!waiter) return;
    this.waiting.delete(entry.index);
    clearTimeout(waiter.timer);
    if (entry.term === waiter.term) waiter.resolve(result);
    else waiter.reject(new OutcomeUnknownError(`entry ${entry.index} was replaced by a newer leader's (term ${entry.term}): retry`));
  }

  /** The state machine jumped to a snapshot: entries up to its index were never seen one by one. */
  skipped(throughIndex: number): void {
    for (const [index, waiter] of this.waiting) {
      if (index > throughIndex) continue;
      this.waiting.delete(index);
      clearTimeout(waiter.timer);
      waiter.reject(new OutcomeUnknownError(`entry ${index} was covered by an installed snapshot: retry`));
    }
  }

  close(): void {
    for (const waiter of this.waiting.values()) {
      clearTimeout(waiter.timer);
      waiter.reject(new OutcomeUnknownError('shutting down'));
    }
    this.waiting.clear();
  }
}
