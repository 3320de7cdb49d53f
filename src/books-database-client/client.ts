import { ClientError, Status, type Channel } from 'nice-grpc';
import {
  BooksDatabaseDefinition,
  type BookStock,
  type BooksDatabaseClient as GeneratedClient,
  type DecrementRequest,
  type DecrementResponse,
  type FinishStockRequest,
  type FinishStockResponse,
  type PrepareStockRequest,
  type PrepareStockResponse,
  type ReadStockResponse,
  type SetStockRequest,
  type SetStockResponse,
} from '../gen/causeway/v1/books_database';
import { createGrpcClient } from '../platform/grpc';
import { leaderHint } from './not-leader';

export interface BooksDatabaseClientOptions {
  /** Deadline of one call to one replica. */
  callDeadlineMs: number;
  /** How long one operation keeps following the leader and retrying before it gives up. */
  totalMs: number;
  /** Pause before trying again when no replica knows a leader (an election is under way). */
  backoffMs?: number;
  /** A trace span per call (false for tests and pollers). */
  traced?: boolean;
}

type Optional<T, K extends keyof T> = Omit<T, K> & Partial<Pick<T, K>>;

/** `Book A`, ` book a ` and `BOOK A` are the same title. */
export const normalizeTitle = (title: string): string => title.trim().replace(/\s+/g, ' ').toLowerCase();

/** What a title lookup found: the books by the title asked for, and the titles no book has. */
export interface ResolvedTitles {
  books: Map<string, BookStock>;
  unknown: string[];
}

/** Statuses after which another replica (or the same one, later) may well succeed: the operation is retried. */
const RETRYABLE: ReadonlySet<Status> = new Set([Status.UNAVAILABLE, Status.DEADLINE_EXCEEDED, Status.CANCELLED, Status.UNKNOWN, Status.INTERNAL]);

/**
 * The books database's client side: talks to the leader, follows a follower's NOT_LEADER hint, and tries the
 * other replicas while no leader is known or one is unreachable. Retrying is safe for every operation: reads
 * change nothing, a decrement is idempotent by order id (a retry gets the first outcome), SetStock sets a value.
 * Also resolves titles, case-insensitively, to books (the course's API sends titles, the database keys by id).
 */
export class BooksDatabaseClient {
  private readonly replicas: Map<string, { client: GeneratedClient; channel: Channel }>;
  private readonly ids: string[];
  private leader: string | undefined;
  private next = 0;

  constructor(
    peers: Readonly<Record<string, string>>,
    private readonly options: BooksDatabaseClientOptions,
  ) {
    this.ids = Object.keys(peers);
    if (this.ids.length === 0) throw new Error('BooksDatabaseClient needs at least one replica');
    this.replicas = new Map(
      Object.entries(peers).map(([id, address]) => [
        id,
        createGrpcClient(BooksDatabaseDefinition, address, { deadlineMs: options.callDeadlineMs, traced: options.traced ?? true, maxReconnectBackoffMs: 500 }),
      ]),
    );
  }

  /** Linearizable read of these books (every book when none is named). */
  read(bookIds: readonly string[] = []): Promise<ReadStockResponse> {
    return this.call((c) => c.read({ bookIds: [...bookIds] }));
  }

  /** `term`: the caller's fence (its own term, e.g. the executor leader's); leave it out for none. */
  decrement(request: Optional<DecrementRequest, 'term'>): Promise<DecrementResponse> {
    return this.call((c) => c.decrement({ term: 0, ...request }));
  }

  /** Many orders' decrements in one call (each idempotent by its order id, so the whole call retries safely). */
  async decrementBatch(orders: readonly Optional<DecrementRequest, 'term'>[]): Promise<DecrementResponse[]> {
    const { outcomes } = await this.call((c) => c.decrementBatch({ orders: orders.map((o) => ({ term: 0, ...o })) }));
    if (outcomes.length !== orders.length) throw new Error(`the books database answered ${outcomes.length} outcomes for ${orders.length} orders`);
    return outcomes;
  }

  /** Two-phase commit: reserve each transaction's items (idempotent by tx id, fenced by `term`), one vote each. */
  async prepareBatch(txs: readonly PrepareStockRequest[]): Promise<PrepareStockResponse[]> {
    const { votes } = await this.call((c) => c.prepareBatch({ txs: [...txs] }));
    if (votes.length !== txs.length) throw new Error(`the books database answered ${votes.length} votes for ${txs.length} transactions`);
    return votes;
  }

  /** Two-phase commit: the coordinator's logged decisions (idempotent; a decision is never changed). */
  async finishBatch(txs: readonly FinishStockRequest[]): Promise<FinishStockResponse[]> {
    const { results } = await this.call((c) => c.finishBatch({ txs: [...txs] }));
    if (results.length !== txs.length) throw new Error(`the books database answered ${results.length} results for ${txs.length} transactions`);
    return results;
  }

  setStock(request: Optional<SetStockRequest, 'term'>): Promise<SetStockResponse> {
    return this.call((c) => c.setStock({ term: 0, ...request }));
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
    return this.leader;
  }

  close(): void {
    for (const { channel } of this.replicas.values()) channel.close();
  }

  private async call<T>(operation: (client: GeneratedClient) => Promise<T>): Promise<T> {
    const deadline = Date.now() + this.options.totalMs;
    let lastError: unknown;
    for (let attempt = 0; Date.now() < deadline; attempt++) {
      const id = this.leader ?? this.ids[this.next++ % this.ids.length];
      try {
        const result = await operation(this.replicas.get(id)!.client);
        this.leader = id;
        return result;
      } catch (err) {
        lastError = err;
        const hint = leaderHint(err);
        if (hint !== undefined) {
          // A follower: go where it points, or, when it knows no leader, ask around after a pause.
          this.leader = hint !== null && hint !== id && this.replicas.has(hint) ? hint : undefined;
          if (this.leader === undefined) await this.pause();
          continue;
        }
        if (err instanceof ClientError && RETRYABLE.has(err.code)) {
          this.leader = undefined;
          await this.pause();
          continue;
        }
        // Refused input (INVALID_ARGUMENT) or anything else the caller must see.
        throw err;
      }
    }
    throw lastError instanceof Error ? lastError : new Error('books database: no replica answered');
  }

  private pause(): Promise<void> {
    return new Promise((r) => setTimeout(r, this.options.backoffMs ?? 50));
  }
}
