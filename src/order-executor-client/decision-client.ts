import { ClientError, Status } from 'nice-grpc';
import { OrderExecutorDefinition } from '../gen/causeway/v1/order_executor';
import { LeaderFollowingClients, type LeaderFollowingOptions } from '../platform/leader-following';
import type { Logger } from '../platform/logger';
import type { DecisionSource } from './decision-source';

export type ExecutorDecisionClientOptions = LeaderFollowingOptions;

const DECISIONS = new Set(['commit', 'abort', 'pending']);

/**
 * The executor cluster as a participant's DecisionSource (cooperative termination): GetDecision on the executors'
 * leader, following a follower's `NOT_LEADER leader=<id>` and trying the others while none is known, the way
 * BooksDatabaseClient follows the database's leader (both through LeaderFollowingClients). An executor that does not
 * offer GetDecision (UNIMPLEMENTED: two-phase commit is off there) knows no decision: that is "pending", logged once.
 */
export class ExecutorDecisionClient implements DecisionSource {
  private readonly executors: LeaderFollowingClients<typeof OrderExecutorDefinition>;
  private unimplementedLogged = false;

  constructor(
    peers: Readonly<Record<string, string>>,
    options: ExecutorDecisionClientOptions,
    private readonly logger: Logger,
  ) {
    this.executors = new LeaderFollowingClients(OrderExecutorDefinition, peers, options, 'order executors');
  }

  async decision(txId: string, participant: string): Promise<{ decision: 'commit' | 'abort' | 'pending'; reason?: string }> {
    let asked = '';
    try {
      const answer = await this.executors.call((client, id) => {
        asked = id;
        return client.getDecision({ txId, participant });
      });
      if (!DECISIONS.has(answer.decision)) throw new Error(`executor ${asked} answered the decision ${JSON.stringify(answer.decision)} for ${txId}`);
      return { decision: answer.decision as 'commit' | 'abort' | 'pending', ...(answer.reason ? { reason: answer.reason } : {}) };
    } catch (err) {
      if (err instanceof ClientError && err.code === Status.UNIMPLEMENTED) {
        if (!this.unimplementedLogged) {
          this.unimplementedLogged = true;
          this.logger.warn(`executor ${asked} does not answer GetDecision yet (UNIMPLEMENTED): prepared transactions wait for their coordinator`);
        }
        return { decision: 'pending' };
      }
      throw err;
    }
  }

  close(): void {
    this.executors.close();
  }
}
