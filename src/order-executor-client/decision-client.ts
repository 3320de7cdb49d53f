import { ClientError, Status, type Channel } from 'nice-grpc';
import { OrderExecutorDefinition, type OrderExecutorClient } from '../gen/causeway/v1/order_executor';
import { createGrpcClient } from '../platform/grpc';
import type { Logger } from '../platform/logger';
import { leaderHint } from '../platform/not-leader';
import type { DecisionSource } from './decision-source';

export interface ExecutorDecisionClientOptions {
  /** Deadline of one call to one executor. */
  callDeadlineMs: number;
  /** How long one question keeps following the leader before it gives up (the caller asks again later). */
  totalMs: number;
  /** Pause before trying again when no executor knows a leader. */
  backoffMs?: number;
  traced?: boolean;
}

/** Statuses after which another executor (or the same one, later) may answer. */
const RETRYABLE: ReadonlySet<Status> = new Set([Status.UNAVAILABLE, Status.DEADLINE_EXCEEDED, Status.CANCELLED, Status.UNKNOWN, Status.INTERNAL]);

const DECISIONS = new Set(['commit', 'abort', 'pending']);

/**
 * The executor cluster as a participant's DecisionSource (cooperative termination): GetDecision on the executors'
 * leader, following a follower's `NOT_LEADER leader=<id>` and trying the others while none is known, the way
 * BooksDatabaseClient follows the database's leader. An executor that does not offer GetDecision yet
 * (UNIMPLEMENTED) knows no decision: that is "pending", logged once.
 */
export class ExecutorDecisionClient implements DecisionSource {
  private readonly executors: Map<string, { client: OrderExecutorClient; channel: Channel }>;
  private readonly ids: string[];
  private leader: string | undefined;
  private next = 0;
  private unimplementedLogged = false;

  constructor(
    peers: Readonly<Record<string, string>>,
    private readonly options: ExecutorDecisionClientOptions,
    private readonly logger: Logger,
  ) {
    this.ids = Object.keys(peers);
    if (this.ids.length === 0) throw new Error('ExecutorDecisionClient needs at least one executor');
    this.executors = new Map(
      Object.entries(peers).map(([id, address]) => [
        id,
        createGrpcClient(OrderExecutorDefinition, address, { deadlineMs: options.callDeadlineMs, traced: options.traced ?? true, maxReconnectBackoffMs: 500 }),
      ]),
    );
  }

  async decision(txId: string, participant: string): Promise<{ decision: 'commit' | 'abort' | 'pending'; reason?: string }> {
    const deadline = Date.now() + this.options.totalMs;
    let lastError: unknown;
    while (Date.now() < deadline) {
      const id = this.leader ?? this.ids[this.next++ % this.ids.length];
      try {
        const answer = await this.executors.get(id)!.client.getDecision({ txId, participant });
        this.leader = id;
        if (!DECISIONS.has(answer.decision)) throw new Error(`executor ${id} answered the decision ${JSON.stringify(answer.decision)} for ${txId}`);
        return { decision: answer.decision as 'commit' | 'abort' | 'pending', ...(answer.reason ? { reason: answer.reason } : {}) };
      } catch (err) {
        lastError = err;
        if (err instanceof ClientError && err.code === Status.UNIMPLEMENTED) {
          if (!this.unimplementedLogged) {
            this.unimplementedLogged = true;
            this.logger.warn(`executor ${id} does not answer GetDecision yet (UNIMPLEMENTED): prepared transactions wait for their coordinator`);
          }
          return { decision: 'pending' };
        }
        const hint = leaderHint(err);
        if (hint !== undefined) {
          this.leader = hint !== null && hint !== id && this.executors.has(hint) ? hint : undefined;
          if (this.leader === undefined) await this.pause();
          continue;
        }
        if (err instanceof ClientError && RETRYABLE.has(err.code)) {
          this.leader = undefined;
          await this.pause();
          continue;
        }
        throw err;
      }
    }
    throw lastError instanceof Error ? lastError : new Error('order executors: none answered GetDecision');
  }

  close(): void {
    for (const { channel } of this.executors.values()) channel.close();
  }

  private pause(): Promise<void> {
    return new Promise((r) => setTimeout(r, this.options.backoffMs ?? 50));
  }
}
