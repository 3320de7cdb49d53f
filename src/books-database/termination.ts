import type { Logger } from '../platform/logger';
import type { TimeSource } from '../platform/time';
import type { DecisionSource } from '../order-executor-client/decision-source';

/** What cooperative termination needs of the replica around it (the state, the Raft role, the write path). */
export interface TerminationHost {
  /** The transactions prepared here and not yet decided. */
  prepared(): readonly { txId: string }[];
  /** Whether this replica leads (only the leader asks, and proposes what it learns). */
  isLeader(): boolean;
  /** Proposes the decision through the log, as a FinishBatch from the coordinator would. */
  finish(txId: string, commit: boolean): Promise<void>;
}

export interface TerminationOptions {
  /** How long a transaction stays prepared (as seen by this leader) before the executors are asked. */
  timeoutMs: number;
  /** After a "pending" answer or a failure, how long before asking again. */
  retryMs: number;
  /** Who asks, as the executors' GetDecision takes it. */
  participant: string;
}

export type TerminationAnswer = 'commit' | 'abort' | 'pending' | 'error';

interface Waiting {
  /** When this leader first saw the transaction prepared. */
  since: number;
  /** Not before this time is the next question asked. */
  nextAskAt: number;
  asking: boolean;
  asked: number;
}

/**
 * Cooperative termination (2PC's answer to a coordinator that went quiet): a participant that voted yes may not
 * decide alone, so when a transaction has stayed prepared longer than the timeout, the leader replica asks the
 * executor cluster for its decision and, once there is one, proposes it through the log like the coordinator's
 * Finish. The age counts from when this replica, as leader, first saw the transaction prepared: the state machine
 * holds no wall time, so a new leader waits a full timeout before asking about what it inherited.
 *
 * No timer of its own: `check()` is called periodically (main.ts), and the clock is injected, so tests drive it.
 */
export class CooperativeTermination {
  private readonly waiting = new Map<string, Waiting>();

  constructor(
    private readonly host: TerminationHost,
    private readonly decisions: DecisionSource,
    private readonly clock: TimeSource,
    private readonly options: TerminationOptions,
    private readonly logger: Logger,
    private readonly onAnswer: (answer: TerminationAnswer) => void = () => {},
  ) {}

  /** One round: starts a question for every transaction due; resolves once this round's questions are settled. */
  async check(): Promise<void> {
    if (!this.host.isLeader()) {
      // A follower does not ask; should it lead later, its clock starts then.
      this.waiting.clear();
      return;
    }
    const now = this.clock.now();
    const prepared = new Set<string>();
    const due: string[] = [];
    for (const { txId } of this.host.prepared()) {
      prepared.add(txId);
      let w = this.waiting.get(txId);
      if (!w) {
        w = { since: now, nextAskAt: now + this.options.timeoutMs, asking: false, asked: 0 };
        this.waiting.set(txId, w);
      }
      if (!w.asking && now >= w.nextAskAt) due.push(txId);
    }
    // Decided since (by the coordinator, or by an earlier round): forget them.
    for (const txId of this.waiting.keys()) if (!prepared.has(txId)) this.waiting.delete(txId);
    await Promise.all(due.map((txId) => this.ask(txId, this.waiting.get(txId)!)));
  }

  /** Transactions being watched (prepared, as this leader has seen them). */
  get watched(): number {
    return this.waiting.size;
  }

  private async ask(txId: string, w: Waiting): Promise<void> {
    w.asking = true;
    w.asked++;
    const age = this.clock.now() - w.since;
    if (w.asked === 1) this.logger.info(`transaction ${txId} prepared for ${age} ms without a decision: asking the executors`, { tx_id: txId });
    let answer: TerminationAnswer = 'error';
    try {
      const { decision, reason } = await this.decisions.decision(txId, this.options.participant);
      answer = decision;
      if (decision === 'commit' || decision === 'abort') {
        await this.host.finish(txId, decision === 'commit');
        this.logger.info(`transaction ${txId} ${decision === 'commit' ? 'committed' : 'aborted'} by cooperative termination${reason ? ` (${reason})` : ''}`, {
          tx_id: txId,
          decision,
        });
        this.waiting.delete(txId);
      }
    } catch (err) {
      this.logger.warn(`cooperative termination of ${txId}: ${(err as Error).message}; asking again later`, { tx_id: txId });
    } finally {
      this.onAnswer(answer);
      w.asking = false;
      w.nextAskAt = this.clock.now() + this.options.retryMs;
    }
  }
}
