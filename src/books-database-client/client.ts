import {
  BooksDatabaseDefinition,
  type BookStock,
  type DecrementRequest,
  type DecrementResponse,
  type FinishStockRequest,
  type FinishStockResponse,
  type PrepareStockRequest,
  type PrepareStockResponse,
  type StockTransaction,
  type ReadStockResponse,
  type SetStockRequest,
  type SetStockResponse,
} from '../gen/causeway/v1/books_database';
import { LeaderFollowingClients, type LeaderFollowingOptions } from '../platform/leader-following';

export type BooksDatabaseClientOptions = LeaderFollowingOptions;

type Optional<T, K extends keyof T> = Omit<T, K> & Partial<Pick<T, K>>;

/** `Book A`, ` book a ` and `BOOK A` are the same title. */
export const normalizeTitle = (title: string): string => title.trim().replace(/\s+/g, ' ').toLowerCase();

/** What a title lookup found: the books by the title asked for, and the titles no book has. */
export interface ResolvedTitles {
  books: Map<string, BookStock>;
  unknown: string[];
}

/**
 * The books database's client side: talks to the leader, follows a follower's NOT_LEADER hint, and tries the
 * other replicas while no leader is known or one is unreachable. Retrying is safe for every operation: reads
 * change nothing, a decrement is idempotent by order id (a retry gets the first outcome), SetStock sets a value,
 * Prepare and Finish are idempotent by transaction id.
 * Also resolves titles, case-insensitively, to books (the course's API sends titles, the database keys by id).
 */
export class BooksDatabaseClient {
  private readonly cluster: LeaderFollowingClients<typeof BooksDatabaseDefinition>;

  constructor(peers: Readonly<Record<string, string>>, options: BooksDatabaseClientOptions) {
    this.cluster = new LeaderFollowingClients(BooksDatabaseDefinition, peers, options, 'books database');
  }

  /** Linearizable read of these books (every book when none is named). */
  read(bookIds: readonly string[] = []): Promise<ReadStockResponse> {
    return this.cluster.call((c) => c.read({ bookIds: [...bookIds] }));
  }

  /** `term`: the caller's fence (its own term, e.g. the executor leader's); leave it out for none. */
  decrement(request: Optional<DecrementRequest, 'term'>): Promise<DecrementResponse> {
    return this.cluster.call((c) => c.decrement({ term: 0, ...request }));
  }

  /** Many orders' decrements in one call (each idempotent by its order id, so the whole call retries safely). */
  async decrementBatch(orders: readonly Optional<DecrementRequest, 'term'>[]): Promise<DecrementResponse[]> {
    const { outcomes } = await this.cluster.call((c) => c.decrementBatch({ orders: orders.map((o) => ({ term: 0, ...o })) }));
    if (outcomes.length !== orders.length) throw new Error(`the books database answered ${outcomes.length} outcomes for ${orders.length} orders`);
    return outcomes;
  }

  /**
   * Two-phase commit, phase one: reserve each transaction's items (all or none), one vote per transaction in the
   * request's order. A retry gets the standing vote (YES again for a prepared transaction), so the call retries safely.
   */
  async prepareBatch(txs: readonly Optional<PrepareStockRequest, 'term'>[]): Promise<PrepareStockResponse[]> {
    const { votes } = await this.cluster.call((c) => c.prepareBatch({ txs: txs.map((t) => ({ term: 0, ...t })) }));
    if (votes.length !== txs.length) throw new Error(`the books database answered ${votes.length} votes for ${txs.length} transactions`);
    return votes;
  }

  /**
   * Phase two: the coordinator's decisions (idempotent). A decision contradicting the one taken is refused with
   * FAILED_PRECONDITION `DECISION_CONFLICT: …`, passed on to the caller.
   */
  async finishBatch(txs: readonly FinishStockRequest[]): Promise<FinishStockResponse[]> {
    const { results } = await this.cluster.call((c) => c.finishBatch({ txs: [...txs] }));
    if (results.length !== txs.length) throw new Error(`the books database answered ${results.length} results for ${txs.length} transactions`);
    return results;
  }

  /** The transactions the leader holds prepared, waiting for their decision. */
  async transactions(): Promise<StockTransaction[]> {
    return (await this.cluster.call((c) => c.transactions({}))).prepared;
  }

  setStock(request: Optional<SetStockRequest, 'term'>): Promise<SetStockResponse> {
    return this.cluster.call((c) => c.setStock({ term: 0, ...request }));
  }

  /** Books by title, matched case-insensitively, from a linearizable read of every book. */
  async resolveTitles(titles: readonly string[]): Promise<ResolvedTitles> {
    const { books } = await this.read();
    const byTitle = new Map(books.map((b) => [normalizeTitle(b.title), b]));
    const found = new Map<string, BookStock>();
    const unknown: string[] = [];
    for (const title of titles) {
      const book = byTitle.get(normalizeTitle(title));
      if (book) found.set(title, book);
      else unknown.push(title);
    }
    return { books: found, unknown };
  }

  /** The replica last known to lead, if any. */
  get knownLeader(): string | undefined {
    return this.cluster.knownLeader;
  }

  close(): void {
    this.cluster.close();
  }
}
