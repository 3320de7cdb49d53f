/**
 * The books database's side of a two-phase commit, as part of its replicated state (see StockState): the items
 * each prepared transaction holds, their sum per book, and the decisions it remembers. Pure bookkeeping: whether
 * there is stock to reserve, and what a commit takes out of stock, is StockState's business.
 *
 * A transaction's life here: prepared (items reserved) → committed (stock taken) | aborted (reservation released).
 * A no vote is a unilateral abort before any yes, so it is remembered as aborted with its reason, and a retried
 * Prepare gets the same no. Decisions never change.
 */

export interface StockItem {
  bookId: string;
  quantity: number;
}

export type NoVote = 'OUT_OF_STOCK' | 'UNKNOWN_BOOK';

export interface PreparedTx {
  /** The items, merged per book (as reserved). */
  items: StockItem[];
  /** The log index of the Prepare that reserved them. */
  index: number;
}

export interface DecidedTx {
  state: 'committed' | 'aborted';
  /** The log index the decision (or the no vote) was applied at. */
  index: number;
  /** An abort by a no vote: the vote and its book. */
  vote?: NoVote;
  bookId?: string;
}

/** As a snapshot holds them: compact tuples, decided oldest first. */
export type PreparedTuple = [txId: string, index: number, items: [bookId: string, quantity: number][]];
export type DecidedTuple = [txId: string, state: DecidedTx['state'], index: number, vote: NoVote | '', bookId: string];

/** Items merged per book, in the order each book first appears: the same book twice counts twice. */
export function mergeItems(items: readonly StockItem[]): StockItem[] {
  const wanted = new Map<string, number>();
  for (const { bookId, quantity } of items) wanted.set(bookId, (wanted.get(bookId) ?? 0) + quantity);
  return [...wanted].map(([bookId, quantity]) => ({ bookId, quantity }));
}

export class StockTransactions {
  private prepared = new Map<string, PreparedTx>();
  /** Copies reserved per book, the sum over `prepared`. */
  private reservedByBook = new Map<string, number>();
  /** Decisions in the order they were taken, so the oldest is forgotten first. */
  private decided = new Map<string, DecidedTx>();

  constructor(private readonly retain: number) {}

  preparedTx(txId: string): PreparedTx | undefined {
    return this.prepared.get(txId);
  }

  decision(txId: string): DecidedTx | undefined {
    return this.decided.get(txId);
  }

  /** Copies of this book held by prepared transactions. */
  reserved(bookId: string): number {
    return this.reservedByBook.get(bookId) ?? 0;
  }

  get totalReserved(): number {
    let total = 0;
    for (const n of this.reservedByBook.values()) total += n;
    return total;
  }

  get preparedCount(): number {
    return this.prepared.size;
  }

  /** Prepared transactions, oldest prepare first. */
  allPrepared(): [txId: string, tx: PreparedTx][] {
    return [...this.prepared].map(([txId, tx]) => [txId, { index: tx.index, items: tx.items.map((i) => ({ ...i })) }]);
  }

  reserve(txId: string, items: StockItem[], index: number): void {
    if (this.prepared.has(txId) || this.decided.has(txId)) throw new Error(`transaction ${txId} reserved twice`);
    this.prepared.set(txId, { items, index });
    for (const { bookId, quantity } of items) this.reservedByBook.set(bookId, this.reserved(bookId) + quantity);
  }

  /** Drops a prepared transaction's reservation and remembers its decision; the items it held. */
  decide(txId: string, decided: DecidedTx): StockItem[] {
    if (this.decided.has(txId)) throw new Error(`transaction ${txId} decided twice`);
    const tx = this.prepared.get(txId);
    const items = tx?.items ?? [];
    this.prepared.delete(txId);
    for (const { bookId, quantity } of items) {
      const left = this.reserved(bookId) - quantity;
      if (left < 0) throw new Error(`reservations of ${bookId} went negative releasing ${txId}`);
      if (left === 0) this.reservedByBook.delete(bookId);
      else this.reservedByBook.set(bookId, left);
    }
    this.decided.set(txId, decided);
    if (this.decided.size > this.retain) this.decided.delete(this.decided.keys().next().value!);
    return items;
  }

  snapshot(): { prepared: PreparedTuple[]; decided: DecidedTuple[] } {
    return {
      prepared: [...this.prepared].map(([txId, tx]) => [txId, tx.index, tx.items.map((i) => [i.bookId, i.quantity])]),
      decided: [...this.decided].map(([txId, d]) => [txId, d.state, d.index, d.vote ?? '', d.bookId ?? '']),
    };
  }

  restore(prepared: readonly PreparedTuple[], decided: readonly DecidedTuple[]): void {
    this.prepared = new Map();
    this.reservedByBook = new Map();
    this.decided = new Map(
      decided.slice(-this.retain).map(([txId, state, index, vote, bookId]) => [txId, { state, index, ...(vote ? { vote } : {}), ...(bookId ? { bookId } : {}) }]),
    );
    for (const [txId, index, items] of prepared) this.reserve(txId, items.map(([bookId, quantity]) => ({ bookId, quantity })), index);
  }
}
