import { ClientError, Status, type Channel } from 'nice-grpc';
import { leaderHint } from '../books-database-client/not-leader';
import { OrderExecutorDefinition, type OrderExecutorClient } from '../gen/causeway/v1/order_executor';
import { createGrpcClient } from '../platform/grpc';
import type { Logger } from '../platform/logger';

export type ExecutorDecision = 'commit' | 'abort' | 'pending';

export interface ExecutorDecisionsOptions {
  /** Deadline of one call to one executor. */
  callDeadlineMs: number;
  /** Who asks ("payment", "books-database"): the executors put it on the span and the log. */
  participant: string;
  logger: Pick<Logger, 'info' | 'warn'>;
  /** Pause before asking around again while no executor knows a leader. */
  backoffMs?: number;
}

/**
 * A participant's question to the executor cluster: what did the coordinator decide for this transaction
 * (GetDecision, cooperative termination)? Asks the leader, follows a follower's `NOT_LEADER leader=<id>` hint (gRPC
 * FAILED_PRECONDITION, the way the books database redirects), and tries the other executors while one is
 * unreachable; one question visits each executor at most twice. An executor that does not implement GetDecision
 * yet (UNIMPLEMENTED) counts as "pending", logged once. When no executor answers, the call throws: the caller asks
 * again later.
 */
export class ExecutorDecisions {
  private readonly executors: Map<string, { client: OrderExecutorClient; channel: Channel }>;
  private readonly ids: string[];
  private leader: string | undefined;
  private next = 0;
  private saidUnimplemented = false;

  constructor(
    peers: Readonly<Record<string, string>>,
    private readonly options: ExecutorDecisionsOptions,
  ) {
    this.ids = Object.keys(peers);
    if (this.ids.length === 0) throw new Error('ExecutorDecisions needs at least one executor');
    this.executors = new Map(
      Object.entries(peers).map(([id, address]) => [id, createGrpcClient(OrderExecutorDefinition, address, { deadlineMs: options.callDeadlineMs, maxReconnectBackoffMs: 500 })]),
    );
  }

  async decision(txId: string): Promise<ExecutorDecision> {
    let lastError: unknown;
    for (let attempt = 0; attempt < this.ids.length * 2; attempt++) {
      const id = this.leader ?? this.ids[this.next++ % this.ids.length];
      try {
        const answer = await this.executors.get(id)!.client.getDecision({ txId, participant: this.options.participant });
        this.leader = id;
        if (answer.decision === 'commit' || answer.decision === 'abort' || answer.decision === 'pending') return answer.decision;
        this.options.logger.warn(`executor ${id} answered an unknown decision ${JSON.stringify(answer.decision)} for ${txId}: taken as pending`, { tx_id: txId });
        return 'pending';
      } catch (err) {
        lastError = err;
        const hint = leaderHint(err);
        if (hint !== undefined) {
          this.leader = hint !== null && hint !== id && this.executors.has(hint) ? hint : undefined;
          if (this.leader === undefined) await new Promise((r) => setTimeout(r, this.options.backoffMs ?? 50));
          continue;
        }
        if (err instanceof ClientError && err.code === Status.UNIMPLEMENTED) {
          if (!this.saidUnimplemented) {
            this.saidUnimplemented = true;
            this.options.logger.warn('the executors do not answer GetDecision yet (UNIMPLEMENTED): held transactions wait for the coordinator');
          }
          return 'pending';
        }
        this.leader = undefined;
      }
    }
    throw lastError instanceof Error ? lastError : new Error('no executor answered GetDecision');
  }

  close(): void {
    for (const { channel } of this.executors.values()) channel.close();
  }
}
