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
  /** A failed order: why (OUT_OF_STOCK, UNKNOWN_BOOK, PAYMENT_DECLINED, …), and which book or what the processor said. */
  failure?: OrderFailure;
  /** An order decided by two-phase commit (executed or failed): the decision, each participant and the timeline. */
  commit?: CommitView;
  /** An order decided by two-phase commit: what became of its payment. */
  payment?: PaymentView;
  suggestedBooks: SuggestedBook[];
  traceId: string | null;
  events: CheckoutEvent[];
  rejection?: { event: string; code: string; message: string };
}

export interface OrderFailure {
  code:
    | 'OUT_OF_STOCK'
    | 'UNKNOWN_BOOK'
    | 'PAYMENT_DECLINED'
    /** The payment service did not know the order's card token. */
    | 'UNKNOWN_TOKEN'
    /** A participant had already aborted the transaction. */
    | 'PARTICIPANT_ABORTED'
    /** A participant did not vote in time. */
    | 'PARTICIPANT_UNAVAILABLE'
    /** No executor was deciding it when a participant asked (presumed abort). */
    | 'COORDINATOR_TIMEOUT';
  message: string;
}

export type CommitParticipant = 'books-database' | 'payment';

/** One step of a two-phase commit, in the order page's timeline. */
export interface CommitStep {
  /** prepare: Prepare went to both participants; vote: one answered; decision: logged; commit/abort: one acknowledged it. */
  step: 'prepare' | 'vote' | 'decision' | 'commit' | 'abort';
  /** vote, commit and abort: whose. */
  participant?: CommitParticipant;
  /** vote: "YES", "OUT_OF_STOCK", "PAYMENT_DECLINED", "UNAVAILABLE" (none in time), …; decision: "commit" or "abort";
   *  commit/abort: the participant's state after it ("committed", "captured", "aborted", "voided", "declined"). */
  outcome: string;
  /** When, in ms since the epoch, by the clock of the executor leader that took the step. */
  at: number;
  /** Milliseconds since prepare began (since the decision, for a presumed abort, which has no prepare). */
  sinceStartMs: number;
}

/** GET /orders/:id's `commit`: the two-phase commit that decided the order. */
export interface CommitView {
  decision: 'commit' | 'abort';
  /** An abort's reason (the order's failure code). */
  reason?: string;
  /** Each participant's vote while the decision is being delivered; its state once it acknowledged the decision. */
  participants: Partial<Record<CommitParticipant, string>>;
  /** The executor leader that logged the decision, and its term. */
  coordinator: string;
  term: number;
  /** Both participants acknowledged the decision: their states are final. */
  finished: boolean;
  /** In time order; steps whose times were not recorded (an executor build before times) are left out. */
  timeline: CommitStep[];
}

/** GET /orders/:id's `payment`. `pending`: the decision is not yet delivered to payment (nothing captured yet). */
export interface PaymentView {
  status: 'captured' | 'voided' | 'declined' | 'pending';
  amountCents: number;
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
  /** Two-phase commits this executor drives and has not finished (0 on a follower). */
  transactionsInFlight: number;
}

export interface ClusterSnapshot {
  executors: ExecutorView[];
  booksDatabase: BooksReplicaView[];
  queue: { depth: number | null };
  /**
   * Two-phase commits in flight: `coordinating`, those the executor leader is driving and has not finished;
   * `prepared`, those the books database holds reserved (its leader's count). null: nobody answered.
   */
  transactions: { coordinating: number | null; prepared: number | null };
  at: number;
}

export type ClusterEvent =
  | { type: 'role'; executor: string; role: ExecutorView['role']; term: number; at: number }
  | { type: 'leader'; leaderId: string | null; term: number; at: number };
