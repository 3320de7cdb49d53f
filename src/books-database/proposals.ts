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

  constructor(
    @inject(RaftDriver) private readonly driver: RaftDriver,
    @inject(WRITE_TIMEOUT_MS) private readonly timeoutMs: number,
  ) {}

  submit(command: StockCommand): Promise<Applied> {
    const indexes = this.driver.propose([encodeCommand(command)]);
    if (!indexes) return Promise.reject(new NotLeaderError(this.driver.status().leader));
    const index = indexes[0];
    const { term } = this.driver.status();
    return new Promise<Applied>((resolve, reject) => {
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
