import { createHash } from 'node:crypto';
import type { Entry } from '../raft/types';
import { mergeItems, StockTransactions, type DecidedTuple, type NoVote, type PreparedTuple, type StockItem } from './transactions';

export type { StockItem } from './transactions';

/**
 * The books database's replicated state machine: stock per book, the outcome of every recent decrement by order
 * id, the highest fencing term seen, and the two-phase commit's transactions (the items each prepared one holds,
 * the decisions of the recent ones; see transactions.ts). Pure and deterministic: every replica that applies the
 * same committed log holds the same state, and a command's outcome depends only on the state before it.
 *
 * A book's copies on hand are either reserved (held by a prepared transaction) or available: what can still be
 * sold, by a decrement or a prepare. Everything the database reports as `stock` is the available part; a commit
 * takes its reserved copies out of the copies on hand, an abort makes them available again.
 */

export interface BookRecord {
  bookId: string;
  title: string;
  priceCents: number;
  /** Available: on hand and not reserved (a seed's stock is all available). */
  stock: number;
}

/** A book as reported: its available stock, and the copies prepared transactions hold on top of it. */
export interface BookView extends BookRecord {
  reserved: number;
}

/** What goes into the Raft log (JSON). Commands are validated before they are proposed; see validateCommand. */
export type StockCommand =
  /** The catalog, once, into an empty database: a second seed (a later leader's) changes nothing. */
  | { type: 'seed'; books: BookRecord[] }
  /** All items or none, never below zero; idempotent by orderId. `term`: the caller's fence (0: none). */
  | { type: 'decrement'; orderId: string; items: StockItem[]; term: number }
  /** Sets the available stock (what Read then shows); copies reserved stay reserved on top of it. */
  | { type: 'set'; bookId: string; stock: number; term: number }
  /** Reserves all items or none for transaction txId (the order id); fenced like a decrement. */
  | { type: 'prepare'; txId: string; items: StockItem[]; term: number }
  /** The coordinator's decision, or one learned by cooperative termination (`source`, for telemetry only). */
  | { type: 'finish'; txId: string; commit: boolean; source?: FinishSource };

export type FinishSource = 'coordinator' | 'termination';

export type Vote = 'YES' | NoVote | 'ABORTED' | 'COMMITTED' | 'STALE_TERM';

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
  | { kind: 'set'; outcome: Outcome; book?: BookView }
  /** `replayed`: the transaction was known before, and this is its standing answer (nothing changed). */
  | { kind: 'prepare'; txId: string; vote: Vote; bookId?: string; index: number; replayed: boolean }
  /**
   * `refused`: the decision contradicts the one taken before (commit after abort, or the reverse), or commits a
   * transaction never prepared here: a coordinator bug; nothing was applied.
   */
  | { kind: 'finish'; txId: string; state: 'committed' | 'aborted'; index: number; replayed: boolean; commit: boolean; source: FinishSource; refused?: string };

/** How many decrement outcomes are remembered (the latest): the horizon within which a retry gets its first outcome. */
export const DEFAULT_OUTCOMES_RETAIN = 50_000;

/**
 * Books, outcomes, fence and transactions as a snapshot holds them: compact tuples, outcomes and decisions oldest
 * first. A book's stock here is its copies on hand (available + reserved). Version 1 had no transactions.
 */
interface StockSnapshot {
  version: 1 | 2;
  lastApplied: number;
  seeded: boolean;
  fence: number;
  books: [bookId: string, title: string, priceCents: number, onHand: number][];
  outcomes: [orderId: string, code: OutcomeCode, bookId: string, index: number][];
  prepared?: PreparedTuple[];
  decided?: DecidedTuple[];
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
      return validateItems(command.items, 'a decrement') ?? (isCount(command.term, 0) ? undefined : 'term must be a non-negative integer');
    case 'prepare':
      if (!isId(command.txId)) return 'txId must be a non-empty string of at most 200 characters';
      return validateItems(command.items, 'a prepare') ?? (isCount(command.term, 0) ? undefined : 'term must be a non-negative integer');
    case 'finish':
      if (!isId(command.txId)) return 'txId must be a non-empty string of at most 200 characters';
      if (typeof command.commit !== 'boolean') return 'commit must be true or false';
      if (command.source !== undefined && command.source !== 'coordinator' && command.source !== 'termination') return 'source must be coordinator or termination';
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

function validateItems(items: StockItem[], what: string): string | undefined {
  if (!Array.isArray(items) || items.length === 0) return `${what} needs at least one item`;
  if (items.length > 1000) return `${what} takes at most 1000 items`;
  for (const item of items) {
    if (!isId(item.bookId)) return 'every item needs a bookId';
    if (!isCount(item.quantity, 1) || item.quantity > 1_000_000) return `quantity of ${item.bookId} must be an integer in [1, 1000000]`;
  }
  return undefined;
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
  /** Copies on hand per book (`stock` here counts the reserved copies too). */
  private books = new Map<string, BookRecord>();
  /** Decided decrements in decision order, so the oldest is forgotten first. */
  private outcomes = new Map<string, Outcome>();
  private txs: StockTransactions;
  private seeded = false;
  private fence = 0;
  private lastApplied = 0;

  /** `retain`: how many decrement outcomes, and how many transaction decisions, are remembered (each). */
  constructor(private readonly retain = DEFAULT_OUTCOMES_RETAIN) {
    this.txs = new StockTransactions(retain);
  }

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
        book.stock = command.stock + this.txs.reserved(command.bookId);
        return { kind: 'set', outcome: { code: 'OK', index }, book: this.book(command.bookId) };
      }
      case 'prepare':
        return this.prepare(command, entry.index);
      case 'finish':
        return this.finish(command, entry.index);
    }
  }

  /** Copies of a book that can still be sold: on hand, less those prepared transactions hold. */
  private available(bookId: string): number {
    return this.books.get(bookId)!.stock - this.txs.reserved(bookId);
  }

  /**
   * Why these items cannot be had now (UNKNOWN_BOOK before OUT_OF_STOCK, as the linearizability checker's books
   * model specifies; otherwise the first book, in the request's order, short of available stock), or undefined when they can.
   */
  private shortfall(wanted: readonly StockItem[]): { code: NoVote; bookId: string } | undefined {
    const unknown = wanted.find(({ bookId }) => !this.books.has(bookId));
    if (unknown) return { code: 'UNKNOWN_BOOK', bookId: unknown.bookId };
    const short = wanted.find(({ bookId, quantity }) => this.available(bookId) < quantity);
    return short && { code: 'OUT_OF_STOCK', bookId: short.bookId };
  }

  private prepare(command: Extract<StockCommand, { type: 'prepare' }>, index: number): Applied {
    const { txId } = command;
    const decided = this.txs.decision(txId);
    if (decided?.state === 'committed') return { kind: 'prepare', txId, vote: 'COMMITTED', index: decided.index, replayed: true };
    if (decided) {
      // A no vote stands as it was given; any other abort makes a late Prepare reserve nothing.
      const vote = decided.vote ?? 'ABORTED';
      return { kind: 'prepare', txId, vote, ...(decided.bookId ? { bookId: decided.bookId } : {}), index: decided.index, replayed: true };
    }
    const prepared = this.txs.preparedTx(txId);
    if (prepared) return { kind: 'prepare', txId, vote: 'YES', index: prepared.index, replayed: true };
    // A refused fence is not remembered: the transaction may still be prepared by the coordinator that holds it.
    if (!this.admit(command.term)) return { kind: 'prepare', txId, vote: 'STALE_TERM', index, replayed: false };
    const wanted = mergeItems(command.items);
    const no = this.shortfall(wanted);
    if (no) {
      // Voting no is this participant's unilateral abort: remembered, so a retry gets the same vote.
      this.txs.decide(txId, { state: 'aborted', index, vote: no.code, bookId: no.bookId });
      return { kind: 'prepare', txId, vote: no.code, bookId: no.bookId, index, replayed: false };
    }
    this.txs.reserve(txId, wanted, index);
    return { kind: 'prepare', txId, vote: 'YES', index, replayed: false };
  }

  private finish(command: Extract<StockCommand, { type: 'finish' }>, index: number): Applied {
    const { txId, commit } = command;
    const source = command.source ?? 'coordinator';
    const asked = commit ? 'committed' : 'aborted';
    const result = (state: 'committed' | 'aborted', at: number, replayed: boolean, refused?: string): Applied => ({
      kind: 'finish',
      txId,
      state,
      index: at,
      replayed,
      commit,
      source,
      ...(refused ? { refused } : {}),
    });
    const decided = this.txs.decision(txId);
    if (decided) {
      if (decided.state === asked) return result(decided.state, decided.index, true);
      return result(decided.state, decided.index, true, `transaction ${txId} was ${decided.state} at index ${decided.index}: a ${commit ? 'commit' : 'abort'} cannot change that`);
    }
    const prepared = this.txs.preparedTx(txId);
    if (!commit) {
      // Released if prepared; remembered either way, so a Prepare that arrives late reserves nothing.
      this.txs.decide(txId, { state: 'aborted', index });
      return result('aborted', index, false);
    }
    if (!prepared) return result('aborted', index, false, `transaction ${txId} was never prepared here (or was forgotten): nothing to commit`);
    for (const { bookId, quantity } of this.txs.decide(txId, { state: 'committed', index })) {
      const book = this.books.get(bookId)!;
      book.stock -= quantity;
      if (book.stock < this.txs.reserved(bookId)) throw new Error(`committing ${txId} left ${bookId} with ${book.stock} on hand for ${this.txs.reserved(bookId)} reserved`);
    }
    return result('committed', index, false);
  }

  private decrement(command: Extract<StockCommand, { type: 'decrement' }>, index: number): Applied {
    const first = this.outcomes.get(command.orderId);
    if (first) return { kind: 'decrement', outcome: first, replayed: true, command };
    // A refused fence is not remembered: the order may still be decided by the caller that holds the fence.
    if (!this.admit(command.term)) return { kind: 'decrement', outcome: { code: 'STALE_TERM', index }, replayed: false, command };
    const wanted = mergeItems(command.items);
    const no = this.shortfall(wanted);
    const outcome: Outcome = no ? { code: no.code, bookId: no.bookId, index } : { code: 'OK', index };
    if (outcome.code === 'OK') for (const { bookId, quantity } of wanted) this.books.get(bookId)!.stock -= quantity;
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

  /** The book with its available stock and its reserved copies. */
  book(bookId: string): BookView | undefined {
    const b = this.books.get(bookId);
    if (!b) return undefined;
    const reserved = this.txs.reserved(bookId);
    return { ...b, stock: b.stock - reserved, reserved };
  }

  /** Every book, by id (available stock, and reserved copies). */
  all(): BookView[] {
    return [...this.books.keys()].sort().map((bookId) => this.book(bookId)!);
  }

  /** The prepared transactions, waiting for their decision (oldest prepare first). */
  prepared(): { txId: string; items: StockItem[]; index: number }[] {
    return this.txs.allPrepared().map(([txId, tx]) => ({ txId, ...tx }));
  }

  /** A transaction's state here: prepared, committed, aborted, or undefined when unknown (or forgotten). */
  transaction(txId: string): 'prepared' | 'committed' | 'aborted' | undefined {
    if (this.txs.preparedTx(txId)) return 'prepared';
    return this.txs.decision(txId)?.state;
  }

  get preparedCount(): number {
    return this.txs.preparedCount;
  }

  get totalReserved(): number {
    return this.txs.totalReserved;
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

  /** Available copies of every book (reserved ones not counted). */
  get totalStock(): number {
    let total = 0;
    for (const b of this.books.values()) total += b.stock;
    return total - this.txs.totalReserved;
  }

  get bookCount(): number {
    return this.books.size;
  }

  /** The whole state as of the last applied entry, for a Raft snapshot. */
  snapshot(): string {
    const state: StockSnapshot = {
      version: 2,
      lastApplied: this.lastApplied,
      seeded: this.seeded,
      fence: this.fence,
      books: [...this.books.keys()].sort().map((id) => this.books.get(id)!).map((b) => [b.bookId, b.title, b.priceCents, b.stock]),
      outcomes: [...this.outcomes].map(([orderId, o]) => [orderId, o.code, o.bookId ?? '', o.index]),
      ...this.txs.snapshot(),
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
    if ((state?.version !== 1 && state?.version !== 2) || !Number.isSafeInteger(state.lastApplied) || !Array.isArray(state.books) || !Array.isArray(state.outcomes)) {
      throw new Error('not a books database snapshot (version 1 or 2)');
    }
    this.books = new Map(state.books.map(([bookId, title, priceCents, stock]) => [bookId, { bookId, title, priceCents, stock }]));
    this.outcomes = new Map(
      state.outcomes.slice(-this.retain).map(([orderId, code, bookId, index]) => [orderId, { code, index, ...(bookId ? { bookId } : {}) }]),
    );
    this.txs = new StockTransactions(this.retain);
    this.txs.restore(state.prepared ?? [], state.decided ?? []);
    this.seeded = state.seeded;
    this.fence = state.fence;
    this.lastApplied = state.lastApplied;
  }
}
