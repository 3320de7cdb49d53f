import type { Logger } from '../platform/logger';
import type { TimeSource } from '../platform/time';
import type { DecisionSource } from '../order-executor-client/decision-source';
import { DecisionConflict, type FinishRequest, type PaymentState, type TxRecord } from './payment-state';

export type { DecisionSource };
export type Decision = 'commit' | 'abort' | 'pending';

/** Injection token for the DecisionSource. */
export const DECISION_SOURCE = Symbol('DecisionSource');

export interface TerminationOptions {
  /** A held transaction waits this long for its decision before it asks (PAYMENT_DECISION_TIMEOUT_MS). */
  timeoutMs: number;
  /** After a `pending` answer, ask again this much later. */
  retryMs: number;
}

/** What the termination needs of the ledger: who is due, and applying (durably) what was learnt. */
export interface TerminationLedger {
  readonly state: Pick<PaymentState, 'dueForDecision'>;
  finishBatch(requests: readonly FinishRequest[]): TxRecord[];
}

/**
 * Cooperative termination: a participant that voted YES never decides alone, but it need not wait for the
 * coordinator to come back either. A transaction held longer than the timeout asks the executor cluster for the
 * decision its leader logged, and applies it as if the coordinator had sent it (idempotently: the coordinator's own
 * FinishBatch, arriving later, changes nothing). `tick` does one round; `start` runs rounds on a timer.
 */
export class CooperativeTermination {
  private running = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly ledger: TerminationLedger,
    private readonly source: DecisionSource,
    private readonly time: TimeSource,
    private readonly logger: Logger,
    private readonly options: TerminationOptions,
  ) {}

  /** Asks about every transaction due, then applies the decisions learnt; answers what it applied. */
  async tick(): Promise<TxRecord[]> {
    if (this.running) return [];
    this.running = true;
    try {
      const due = this.ledger.state.dueForDecision(this.time.now(), this.options.timeoutMs, this.options.retryMs);
      if (due.length === 0) return [];
      const answers = await Promise.all(
        due.map(async (txId) => {
          try {
            return { txId, decision: (await this.source.decision(txId, 'payment')).decision };
          } catch (err) {
            this.logger.warn(`transaction ${txId}: could not ask the executors for its decision: ${(err as Error).message}`, { tx_id: txId });
            return { txId, decision: 'pending' as const };
          }
        }),
      );
      const applied: TxRecord[] = [];
      // One at a time: a decision that contradicts this participant's record must not hold up the others.
      for (const { txId, decision } of answers) {
        if (decision === 'pending') continue;
        try {
          const [record] = this.ledger.finishBatch([{ txId, commit: decision === 'commit' }]);
          this.logger.info(`transaction ${txId}: ${record.state} by cooperative termination (the executors decided ${decision})`, { tx_id: txId, state: record.state });
          applied.push(record);
        } catch (err) {
          if (!(err instanceof DecisionConflict)) throw err;
          // The executors' answer contradicts a decision already applied here: the protocol is broken somewhere.
          this.logger.error(`cooperative termination refused: ${err.message}`, { tx_id: txId });
        }
      }
      return applied;
    } finally {
      this.running = false;
    }
  }

  start(intervalMs: number): void {
    this.timer = setInterval(() => {
      this.tick().catch((err: Error) => this.logger.error(`cooperative termination round failed: ${err.message}`));
    }, intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
