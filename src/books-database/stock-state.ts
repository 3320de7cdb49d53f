import { createHash } from 'node:crypto';
import type { Entry } from '../raft/types';

/**
 * The books database's replicated state machine: stock per book, the outcome of every recent decrement by order
 * id, and the highest fencing term seen. Pure and deterministic: every replica that applies the same committed
 * log holds the same state, and a command's outcome depends only on the state before it.
 */

export interface BookRecord {
  bookId: string;
  title: string;
  priceCents: number;
  stock: number;
}

export interface StockItem {
  bookId: string;
  quantity: number;
}

/** What goes into the Raft log (JSON). Commands are validated before they are proposed; see validateCommand. */
export type StockCommand =
  /** The catalog, once, into an empty database: a second seed (a later leader's) changes nothing. */
  | { type: 'seed'; books: BookRecord[] }
  /** All items or none, never below zero; idempotent by orderId. `term`: the caller's fence (0: none). */
  | { type: 'decrement'; orderId: string; items: StockItem[]; term: number }
  | { type: 'set'; bookId: string; stock: number; term: number };

export type OutcomeCode = 'OK' | 'OUT_OF_STOCK' | 'UNKNOWN_BOOK' | 'STALE_TERM';

export interface Outcome {
  code: OutcomeCode;
  /** OUT_OF_STOCK, UNKNOWN_BOOK: the book that failed. */
  bookId?: string;
  /** The log index the outcome was decided at (for a replayed decrement: its first index). */
  index: number;
}

export type Applied =
  | { kind: 'noop' }
  | { kind: 'seed'; seeded: boolean }
  | { kind: 'decrement'; outcome: Outcome; replayed: boolean; command: Extract<StockCommand, { type: 'decrement' }> }
  | { kind: 'set'; outcome: Outcome; book?: BookRecord };

/** How many decrement outcomes are remembered (the latest): the horizon within which a retry gets its first outcome. */
export const DEFAULT_OUTCOMES_RETAIN = 50_000;

/** Books, outcomes and fence as a snapshot holds them: compact tuples, outcomes oldest first. */
interface StockSnapshot {
  version: 1;
  lastApplied: number;
  seeded: boolean;
  fence: number;
  books: [bookId: string, title: string, priceCents: number, stock: number][];
  outcomes: [orderId: string, code: OutcomeCode, bookId: string, index: number][];
}

const isCount = (n: unknown, min: number): n is number => Number.isSafeInteger(n) && (n as number) >= min;
const isId = (s: unknown): s is string => typeof s === 'string' && s.length > 0 && s.length <= 200;

/** Why a command may not be proposed, or undefined when it may. The service refuses it with INVALID_ARGUMENT. */
export function validateCommand(command: StockCommand): string | undefined {
  switch (command.type) {
    case 'seed':
      if (!Array.isArray(command.books) || command.books.length === 0) return 'a seed needs books';
      for (const b of command.books) {
        if (!isId(b.bookId) || typeof b.title !== 'string' || !isCount(b.priceCents, 0) || !isCount(b.stock, 0)) return `bad seed book ${JSON.stringify(b)}`;
      }
      if (new Set(command.books.map((b) => b.bookId)).size !== command.books.length) return 'a seed names a book twice';
      return undefined;
    case 'decrement':
      if (!isId(command.orderId)) return 'orderId must be a non-empty string of at most 200 characters';
      if (!Array.isArray(command.items) || command.items.length === 0) return 'a decrement needs at least one item';
      if (command.items.length > 1000) return 'a decrement takes at most 1000 items';
      for (const item of command.items) {
        if (!isId(item.bookId)) return 'every item needs a bookId';
        if (!isCount(item.quantity, 1) || item.quantity > 1_000_000) return `quantity of ${item.bookId} must be an integer in [1, 1000000]`;
      }
      if (!isCount(command.term, 0)) return 'term must be a non-negative integer';
      return undefined;
    case 'set':
      if (!isId(command.bookId)) return 'bookId must be a non-empty string';
      if (!isCount(command.stock, 0) || command.stock > 1_000_000_000) return 'stock must be an integer in [0, 1000000000]';
      if (!isCount(command.term, 0)) return 'term must be a non-negative integer';
      return undefined;
    default:
      return `unknown command type ${JSON.stringify((command as { type: unknown }).type)}`;
  }
}

export const encodeCommand = (command: StockCommand): string => JSON.stringify(command);

/** A committed command that does not parse or validate is a broken invariant (only validated commands are proposed). */
export function decodeCommand(data: string): StockCommand {
  const command = JSON.parse(data) as StockCommand;
  const problem = validateCommand(command);
  if (problem) throw new Error(`committed command is invalid: ${problem}`);
  return command;
}

export class StockState {
  private books = new Map<string, BookRecord>();
  /** Decided decrements in decision order, so the oldest is forgotten first. */
  private outcomes = new Map<string, Outcome>();
  private seeded = false;
  private fence = 0;
  private lastApplied = 0;

  constructor(private readonly retain = DEFAULT_OUTCOMES_RETAIN) {}

  apply(entry: Entry): Applied {
    if (entry.index !== this.lastApplied + 1) throw new Error(`entry ${entry.index} applied out of order (after ${this.lastApplied})`);
    this.lastApplied = entry.index;
    if (entry.type !== 'command' || !entry.data) return { kind: 'noop' };
    const command = decodeCommand(entry.data);
    switch (command.type) {
      case 'seed':
        if (this.seeded) return { kind: 'seed', seeded: false };
        this.seeded = true;
        for (const b of command.books) if (!this.books.has(b.bookId)) this.books.set(b.bookId, { ...b });
        return { kind: 'seed', seeded: true };
      case 'decrement':
        return this.decrement(command, entry.index);
      case 'set': {
        const index = entry.index;
        if (!this.admit(command.term)) return { kind: 'set', outcome: { code: 'STALE_TERM', index } };
        const book = this.books.get(command.bookId);
        if (!book) return { kind: 'set', outcome: { code: 'UNKNOWN_BOOK', bookId: command.bookId, index } };
        book.stock = command.stock;
        return { kind: 'set', outcome: { code: 'OK', index }, book: { ...book } };
      }
    }
  }

  private decrement(command: Extract<StockCommand, { type: 'decrement' }>, index: number): Applied {
    const first = this.outcomes.get(command.orderId);
    if (first) return { kind: 'decrement', outcome: first, replayed: true, command };
    // A refused fence is not remembered: the order may still be decided by the caller that holds the fence.
    if (!this.admit(command.term)) return { kind: 'decrement', outcome: { code: 'STALE_TERM', index }, replayed: false, command };
    const wanted = new Map<string, number>();
    for (const { bookId, quantity } of command.items) wanted.set(bookId, (wanted.get(bookId) ?? 0) + quantity);
    // An unknown book fails the order whatever the stock of the others (UNKNOWN_BOOK before OUT_OF_STOCK, as the
    // linearizability checker's books model specifies); otherwise the first book short of stock fails it.
    const unknown = [...wanted.keys()].find((bookId) => !this.books.has(bookId));
    const short = unknown === undefined ? [...wanted].find(([bookId, quantity]) => this.books.get(bookId)!.stock < quantity)?.[0] : undefined;
    const outcome: Outcome =
      unknown !== undefined
        ? { code: 'UNKNOWN_BOOK', bookId: unknown, index }
        : short !== undefined
          ? { code: 'OUT_OF_STOCK', bookId: short, index }
          : { code: 'OK', index };
    if (outcome.code === 'OK') for (const [bookId, quantity] of wanted) this.books.get(bookId)!.stock -= quantity;
    this.outcomes.set(command.orderId, outcome);
    if (this.outcomes.size > this.retain) this.outcomes.delete(this.outcomes.keys().next().value!);
    return { kind: 'decrement', outcome, replayed: false, command };
  }

  /** The fence: a write with a term below the highest seen is refused; a higher one raises it. */
  private admit(term: number): boolean {
    if (term === 0) return true;
    if (term < this.fence) return false;
    this.fence = term;
    return true;
  }

  book(bookId: string): BookRecord | undefined {
    const b = this.books.get(bookId);
    return b && { ...b };
  }

  /** Every book, by id. */
  all(): BookRecord[] {
    return [...this.books.values()].sort((a, b) => (a.bookId < b.bookId ? -1 : a.bookId > b.bookId ? 1 : 0)).map((b) => ({ ...b }));
  }

  outcome(orderId: string): Outcome | undefined {
    return this.outcomes.get(orderId);
  }

  get isSeeded(): boolean {
    return this.seeded;
  }

  get applied(): number {
    return this.lastApplied;
  }

  get totalStock(): number {
    let total = 0;
    for (const b of this.books.values()) total += b.stock;
    return total;
  }

  get bookCount(): number {
    return this.books.size;
  }

  /** The whole state as of the last applied entry, for a Raft snapshot. */
  snapshot(): string {
    const state: StockSnapshot = {
      version: 1,
      lastApplied: this.lastApplied,
      seeded: this.seeded,
      fence: this.fence,
      books: this.all().map((b) => [b.bookId, b.title, b.priceCents, b.stock]),
      outcomes: [...this.outcomes].map(([orderId, o]) => [orderId, o.code, o.bookId ?? '', o.index]),
    };
    return JSON.stringify(state);
  }

  /** sha256 of everything but the applied index: replicas at the same index must agree on it. */
  digest(): string {
    const { lastApplied: _ignored, ...state } = JSON.parse(this.snapshot()) as StockSnapshot;
    return createHash('sha256').update(JSON.stringify(state)).digest('hex');
  }

  /** Replaces the state by a snapshot's (at start-up, or one installed from the leader). */
  restore(data: string): void {
    const state = JSON.parse(data) as StockSnapshot;
    if (state?.version !== 1 || !Number.isSafeInteger(state.lastApplied) || !Array.isArray(state.books) || !Array.isArray(state.outcomes)) {
      throw new Error('not a books database snapshot (version 1)');
    }
    this.books = new Map(state.books.map(([bookId, title, priceCents, stock]) => [bookId, { bookId, title, priceCents, stock }]));
    this.outcomes = new Map(
      state.outcomes.slice(-this.retain).map(([orderId, code, bookId, index]) => [orderId, { code, index, ...(bookId ? { bookId } : {}) }]),
    );
    this.seeded = state.seeded;
    this.fence = state.fence;
    this.lastApplied = state.lastApplied;
  }
}
