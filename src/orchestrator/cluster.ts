import { inject, injectable } from 'tsyringe';
import type { OrderExecutorClient } from '../gen/causeway/v1/order_executor';
import type { OrderQueueClient } from '../gen/causeway/v1/order_queue';
import type { BooksDatabaseClient } from '../gen/causeway/v1/books_database';
import type { BooksReplicaView, ClusterEvent, ClusterSnapshot, ExecutorView, OrderFailure, ReplicaView } from './api-types';
import type { Execution } from './order-store';
import { commitRecordFromWire } from './commit-view';

export type { ClusterEvent, ClusterSnapshot, ExecutorView } from './api-types';

const PROBE_MS = 300;
/** How often the view polls the cluster while someone watches /cluster/events. */
const POLL_MS = 200;

/** Injection tokens: each executor's address and (untraced) client, and an untraced client to the queue. */
export const EXECUTOR_CLIENTS = Symbol('ExecutorClients');
export const QUEUE_STATS_CLIENT = Symbol('QueueStatsClient');
/** Each books database replica's address and a raw (untraced, not leader-following) client, for its status. */
export const BOOKS_DATABASE_REPLICAS = Symbol('BooksDatabaseReplicas');

/**
 * The orchestrator's view of the executor cluster and the queue, for GET /cluster,
 * the Server-Sent Events stream of role and leader changes, and order state.
 */
/** A replica's Raft fields from its Status answer; without one (it did not answer in time) it is unreachable. */
function replicaView(
  id: string,
  address: string,
  s?: { role: string; term: number; leaderId: string; commitIndex: number; appliedIndex: number },
): ReplicaView {
  if (!s) return { id, address, role: 'unreachable', term: 0, leaderId: null, commitIndex: 0, appliedIndex: 0 };
  const role = s.role === 'leader' || s.role === 'follower' ? s.role : 'candidate';
  return { id, address, role, term: s.term, leaderId: s.leaderId || null, commitIndex: s.commitIndex, appliedIndex: s.appliedIndex };
}

@injectable()
export class ClusterView {
  private listeners = new Set<(event: ClusterEvent | { type: 'snapshot'; snapshot: ClusterSnapshot }) => void>();
  private poller: NodeJS.Timeout | undefined;
  private last: ClusterSnapshot | undefined;

  constructor(
    @inject(EXECUTOR_CLIENTS) private readonly executors: ReadonlyMap<string, { address: string; client: OrderExecutorClient }>,
    @inject(QUEUE_STATS_CLIENT) private readonly queue: OrderQueueClient,
    @inject(BOOKS_DATABASE_REPLICAS) private readonly booksReplicas: ReadonlyMap<string, { address: string; client: BooksDatabaseClient }>,
  ) {}

  async snapshot(): Promise<ClusterSnapshot> {
    const signal = () => AbortSignal.timeout(PROBE_MS);
    const executors = await Promise.all(
      [...this.executors].map(async ([id, { address, client }]): Promise<ExecutorView> => {
        try {
          const s = await client.status({}, { signal: signal() });
          return {
            ...replicaView(id, address, s),
            logLength: s.logLength,
            snapshotIndex: s.snapshotIndex,
            lastHeartbeatMs: s.lastHeartbeatMs || null,
            executedCount: s.executedCount,
            transactionsInFlight: s.transactionsInFlight,
          };
        } catch {
          return { ...replicaView(id, address), logLength: 0, snapshotIndex: 0, lastHeartbeatMs: null, executedCount: 0, transactionsInFlight: 0 };
        }
      }),
    );
    const booksStatuses = await Promise.all(
      [...this.booksReplicas].map(async ([id, { address, client }]) => {
        const status = await client.status({}, { signal: signal() }).catch(() => undefined);
        return { view: replicaView(id, address, status) as BooksReplicaView, preparedCount: status?.preparedCount };
      }),
    );
    const booksDatabase = booksStatuses.map((b) => b.view);
    const depth = await this.queue.stats({}, { signal: signal() }).then(
      (s) => s.depth,
      () => null,
    );
    return { executors, booksDatabase, queue: { depth }, transactions: transactionsInFlight(executors, booksStatuses), at: Date.now() };
  }

  /** Where an order was executed, from the replicated ledger, or undefined if no replica has it yet. */
  async findExecution(orderId: string): Promise<Execution | undefined> {
    return (await this.findExecutions([orderId])).get(orderId);
  }

  /**
   * Where each of these orders was executed, as far as the replicas know: one Executions call to the first
   * replica, then to the next for the ids still missing, and so on. Any replica's ledger holds only
   * committed entries, so whichever answers is right; ids no replica has are left out.
   */
  async findExecutions(orderIds: readonly string[]): Promise<Map<string, Execution>> {
    const found = new Map<string, Execution>();
    let missing = [...orderIds];
    for (const { client } of this.executors.values()) {
      if (missing.length === 0) break;
      try {
        const { executions } = await client.executions({ orderIds: missing }, { signal: AbortSignal.timeout(PROBE_MS) });
        for (const e of executions) {
          // Any failure code counts as failed (a newer executor may know more codes than this build's type).
          const failure = e.failureCode !== '' ? { failure: { code: e.failureCode as OrderFailure['code'], message: e.failureMessage } } : {};
          const commit = e.commit ? { commit: commitRecordFromWire(e.commit) } : {};
          found.set(e.orderId, { executor: e.executor, term: e.term, index: e.index, ...failure, ...commit });
        }
        missing = missing.filter((id) => !found.has(id));
      } catch {
        // try the next replica
      }
    }
    return found;
  }

  /** Streams a snapshot now, then role and leader changes; returns the unsubscribe function. */
  subscribe(listener: (event: ClusterEvent | { type: 'snapshot'; snapshot: ClusterSnapshot }) => void): () => void {
    this.listeners.add(listener);
    void this.snapshot().then((snapshot) => {
      listener({ type: 'snapshot', snapshot });
      // The first subscriber's snapshot is the baseline, so a change right after it is not missed.
      this.last ??= snapshot;
    });
    if (!this.poller) this.poller = setInterval(() => void this.poll(), POLL_MS);
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0 && this.poller) {
        clearInterval(this.poller);
        this.poller = undefined;
        this.last = undefined;
      }
    };
  }

  private polling = false;

  private async poll(): Promise<void> {
    // A poll can outlast the interval (an unreachable executor takes the full probe timeout): never overlap.
    if (this.polling) return;
    this.polling = true;
    let next: ClusterSnapshot;
    try {
      next = await this.snapshot();
    } finally {
      this.polling = false;
    }
    if (this.listeners.size === 0) return;
    const previous = this.last;
    this.last = next;
    if (!previous) return;
    for (const event of diff(previous, next)) for (const listener of this.listeners) listener(event);
  }
}

/**
 * Two-phase commits in flight: what the highest-term executor leader drives, and what the books database's leader
 * holds prepared (a follower's count may lag). null when no leader answered.
 */
export function transactionsInFlight(
  executors: readonly ExecutorView[],
  books: readonly { view: BooksReplicaView; preparedCount: number | undefined }[],
): ClusterSnapshot['transactions'] {
  const leader = executors.filter((e) => e.role === 'leader').sort((a, b) => b.term - a.term)[0];
  const booksLeader = books.filter((b) => b.view.role === 'leader').sort((a, b) => b.view.term - a.view.term)[0];
  return { coordinating: leader ? leader.transactionsInFlight : null, prepared: booksLeader?.preparedCount ?? null };
}

/** Role changes per executor, and a change of the cluster's leader (as the highest-term leader). */
export function diff(before: ClusterSnapshot, after: ClusterSnapshot): ClusterEvent[] {
  const events: ClusterEvent[] = [];
  for (const now of after.executors) {
    const was = before.executors.find((e) => e.id === now.id);
    if (!was || was.role !== now.role || (now.role === 'leader' && was.term !== now.term)) {
      events.push({ type: 'role', executor: now.id, role: now.role, term: now.term, at: after.at });
    }
  }
  const leaderOf = (s: ClusterSnapshot) =>
    s.executors.filter((e) => e.role === 'leader').sort((a, b) => b.term - a.term)[0] ?? null;
  const [a, b] = [leaderOf(before), leaderOf(after)];
  if (a?.id !== b?.id || a?.term !== b?.term) events.push({ type: 'leader', leaderId: b?.id ?? null, term: b?.term ?? 0, at: after.at });
  return events;
}
