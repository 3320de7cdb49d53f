import { encodeCommand, outcomeOfDecision, type ExecutionLedger, type FinishedCommand, type OrderCommand } from '../execution-ledger';
import type { CoordinatorOutput, DecisionLog } from './coordinator';
import type { AbortReason } from './types';

/**
 * The coordinator's proposals as entries of the executors' log (the ExecutionLedger's commands). Pure, so the
 * driver and the simulation write the same entries.
 */

/** What the decision entry records of the order besides the decision (none of it card data). */
export interface OrderRecord {
  shippingMethod: string;
  customerName: string;
  maskedCard: string;
  items: { name: string; quantity: number }[];
  traceparent: string;
  /** What payment was asked to hold (the orchestrator priced the order at checkout). */
  amountCents?: number;
}

/** A presumed abort has no order in hand (the participant only named the transaction). */
const NO_ORDER: OrderRecord = { shippingMethod: '', customerName: '', maskedCard: '', items: [], traceparent: '' };

/** The failure message of an abort, for the order's page. */
export function abortMessage(reason: AbortReason, detail?: string): string {
  switch (reason) {
    case 'OUT_OF_STOCK':
      return `not enough copies of "${detail ?? '?'}" in stock`;
    case 'UNKNOWN_BOOK':
      return `no book "${detail ?? '?'}" in the database`;
    case 'PAYMENT_DECLINED':
      return `the card was declined${detail ? `: ${detail}` : ''}`;
    case 'UNKNOWN_TOKEN':
      return 'the payment service does not know the card token';
    case 'PARTICIPANT_ABORTED':
      return `${detail ?? 'a participant'} had already aborted the transaction`;
    case 'PARTICIPANT_UNAVAILABLE':
      return 'a participant did not vote in time';
    case 'COORDINATOR_TIMEOUT':
      return 'no executor was deciding the transaction when a participant asked: aborted (presumed abort)';
  }
}

export function decisionEntry(
  proposal: Extract<CoordinatorOutput, { type: 'propose-decision' }>,
  leader: string,
  order: OrderRecord | undefined,
): string {
  const { decision, reason, detail, votes, term, times } = proposal;
  const { amountCents, ...record } = order ?? NO_ORDER;
  const command: OrderCommand = {
    orderId: proposal.txId,
    leader,
    ...record,
    outcome: outcomeOfDecision(decision, reason, reason ? abortMessage(reason, detail) : ''),
    commit: { decision, ...(reason ? { reason } : {}), participants: votes, term, times, ...(amountCents !== undefined ? { amountCents } : {}) },
  };
  return encodeCommand(command);
}

export function finishedEntry(proposal: Extract<CoordinatorOutput, { type: 'propose-finished' }>, leader: string): string {
  const command: FinishedCommand = { finished: proposal.txId, leader, participants: proposal.states, finishedAt: proposal.finishedAt };
  return encodeCommand(command);
}

/**
 * The ledger as the coordinator reads it. An order executed before two-phase commit (the decrement path) counts
 * as decided and finished: there is nothing to send for it.
 */
export function decisionLogOf(ledger: ExecutionLedger): DecisionLog {
  return {
    decision: (txId) => {
      const execution = ledger.get(txId);
      if (!execution) return undefined;
      if (execution.commit) {
        const { decision, reason, finished } = execution.commit;
        return { decision, ...(reason ? { reason } : {}), finished };
      }
      return execution.failure ? { decision: 'abort', reason: execution.failure.code, finished: true } : { decision: 'commit', finished: true };
    },
    unfinished: () => ledger.unfinished().map((e) => ({ txId: e.orderId, decision: e.commit!.decision })),
  };
}
