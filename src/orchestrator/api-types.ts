/**
 * The shapes of the orchestrator's HTTP API, written once: the server builds
 * them and the web app (src/web) reads them. Types only, no imports, so the
 * browser build can share them.
 */

export interface CheckoutEvent {
  event: string;
  service: string;
  vectorClock: Record<string, number>;
  passed: boolean;
}

export interface SuggestedBook {
  bookId: string;
  title: string;
  author: string;
}

export interface CheckoutResult {
  orderId: string;
  status: 'Order Approved' | 'Order Rejected';
  /**
   * rejected; or approved and durably queued; then executed by the executor cluster (its books taken out of
   * stock), or failed there (nothing taken: `failure` says why).
   */
  state: 'rejected' | 'queued' | 'executed' | 'failed';
  /** Where the order was decided (executed or failed): the proposing leader, its term, the log index. */
  execution?: { executor: string; term: number; index: number };
  /** A failed order: OUT_OF_STOCK or UNKNOWN_BOOK, and which book. */
  failure?: OrderFailure;
  suggestedBooks: SuggestedBook[];
  traceId: string | null;
  events: CheckoutEvent[];
  rejection?: { event: string; code: string; message: string };
}

export interface OrderFailure {
  code: 'OUT_OF_STOCK' | 'UNKNOWN_BOOK';
  message: string;
}

/**
 * GET /books: the catalog with prices and stock (read linearizably from the books database). The course page's
 * `Book A` and `Book B`, which only the database holds, have author '', genres [] and year null.
 */
export interface BookView {
  bookId: string;
  title: string;
  author: string;
  genres: string[];
  year: number | null;
  priceCents: number;
  stock: number;
}

/** One Raft replica in GET /cluster, as both clusters report it. */
export interface ReplicaView {
  id: string;
  address: string;
  role: 'leader' | 'follower' | 'candidate' | 'unreachable';
  term: number;
  leaderId: string | null;
  commitIndex: number;
  appliedIndex: number;
}

/** One books database replica in GET /cluster. */
export type BooksReplicaView = ReplicaView;

export interface ExecutorView extends ReplicaView {
  /** The last log index. */
  logLength: number;
  /** The last index covered by this replica's latest snapshot (0: never compacted). */
  snapshotIndex: number;
  lastHeartbeatMs: number | null;
  executedCount: number;
}

export interface ClusterSnapshot {
  executors: ExecutorView[];
  booksDatabase: BooksReplicaView[];
  queue: { depth: number | null };
  at: number;
}

export type ClusterEvent =
  | { type: 'role'; executor: string; role: ExecutorView['role']; term: number; at: number }
  | { type: 'leader'; leaderId: string | null; term: number; at: number };
