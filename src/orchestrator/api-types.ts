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
  /** rejected; or approved and durably queued; or executed by the executor cluster. */
  state: 'rejected' | 'queued' | 'executed';
  execution?: { executor: string; term: number; index: number };
  suggestedBooks: SuggestedBook[];
  traceId: string | null;
  events: CheckoutEvent[];
  rejection?: { event: string; code: string; message: string };
}

export interface ExecutorView {
  id: string;
  address: string;
  role: 'leader' | 'follower' | 'candidate' | 'unreachable';
  term: number;
  leaderId: string | null;
  commitIndex: number;
  appliedIndex: number;
  /** The last log index. */
  logLength: number;
  /** The last index covered by this replica's latest snapshot (0: never compacted). */
  snapshotIndex: number;
  lastHeartbeatMs: number | null;
  executedCount: number;
}

export interface ClusterSnapshot {
  executors: ExecutorView[];
  queue: { depth: number | null };
  at: number;
}

export type ClusterEvent =
  | { type: 'role'; executor: string; role: ExecutorView['role']; term: number; at: number }
  | { type: 'leader'; leaderId: string | null; term: number; at: number };
