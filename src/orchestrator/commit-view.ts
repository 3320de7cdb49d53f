import type { CommitParticipant, CommitStep, CommitView, PaymentView } from './api-types';

/**
 * An order's two-phase commit as the executors' ledger records it (Executions' ExecutionCommit), kept by the order
 * store as JSON, and what GET /orders/:id makes of it. Pure.
 */
export interface CommitRecord {
  decision: 'commit' | 'abort';
  reason?: string;
  /** Votes until finished, then the participants' states after the decision. */
  participants: Record<string, string>;
  /** Once finished: the votes. */
  votes?: Record<string, string>;
  coordinator: string;
  term: number;
  finished: boolean;
  /** ms since the epoch, by the executor leaders' clocks; absent when not recorded. */
  prepareStartedMs?: number;
  votedMs?: Record<string, number>;
  decidedMs?: number;
  finishedMs?: Record<string, number>;
  /** What payment was asked to hold; absent when not recorded (a presumed abort has no order). */
  amountCents?: number;
}

const PARTICIPANTS: readonly CommitParticipant[] = ['books-database', 'payment'];

/** The wire's ExecutionCommit (0 and empty maps meaning "not recorded") as a record. */
export function commitRecordFromWire(c: {
  decision: string;
  reason: string;
  participants: Record<string, string>;
  votes: Record<string, string>;
  coordinator: string;
  term: number;
  finished: boolean;
  prepareStartedMs: number;
  votedMs: Record<string, number>;
  decidedMs: number;
  finishedMs: Record<string, number>;
  amountCents: number;
}): CommitRecord {
  const nonEmpty = <T>(m: Record<string, T>) => (Object.keys(m).length > 0 ? { ...m } : undefined);
  const votes = nonEmpty(c.votes);
  const votedMs = nonEmpty(c.votedMs);
  const finishedMs = nonEmpty(c.finishedMs);
  return {
    decision: c.decision === 'commit' ? 'commit' : 'abort',
    ...(c.reason ? { reason: c.reason } : {}),
    participants: { ...c.participants },
    ...(votes ? { votes } : {}),
    coordinator: c.coordinator,
    term: c.term,
    finished: c.finished,
    ...(c.prepareStartedMs > 0 ? { prepareStartedMs: c.prepareStartedMs } : {}),
    ...(votedMs ? { votedMs } : {}),
    ...(c.decidedMs > 0 ? { decidedMs: c.decidedMs } : {}),
    ...(finishedMs ? { finishedMs } : {}),
    ...(c.amountCents > 0 ? { amountCents: c.amountCents } : {}),
  };
}

/** The timeline: prepare, each vote, the decision, each participant's commit or abort, in time order. */
export function commitTimeline(record: CommitRecord): CommitStep[] {
  const votes = record.votes ?? record.participants;
  const origin = record.prepareStartedMs ?? record.decidedMs;
  if (origin === undefined) return [];
  const steps: Omit<CommitStep, 'sinceStartMs'>[] = [];
  if (record.prepareStartedMs !== undefined) steps.push({ step: 'prepare', outcome: 'sent', at: record.prepareStartedMs });
  for (const participant of PARTICIPANTS) {
    const vote = votes[participant];
    // A vote that never came is UNAVAILABLE: placed at the deadline when that decided the abort, left out when the
    // other participant's "no" decided it first (nobody waited for this one).
    const at = record.votedMs?.[participant] ?? (vote === 'UNAVAILABLE' && record.reason === 'PARTICIPANT_UNAVAILABLE' ? record.decidedMs : undefined);
    if (vote !== undefined && at !== undefined) steps.push({ step: 'vote', participant, outcome: vote, at });
  }
  if (record.decidedMs !== undefined) steps.push({ step: 'decision', outcome: record.decision, at: record.decidedMs });
  if (record.finished) {
    for (const participant of PARTICIPANTS) {
      const at = record.finishedMs?.[participant];
      const state = record.participants[participant];
      if (at !== undefined && state !== undefined) steps.push({ step: record.decision, participant, outcome: state, at });
    }
  }
  // Stable: steps at the same millisecond keep the protocol's order.
  return steps.sort((a, b) => a.at - b.at).map((s) => ({ ...s, sinceStartMs: s.at - origin }));
}

export function commitView(record: CommitRecord): CommitView {
  const participants: CommitView['participants'] = {};
  for (const p of PARTICIPANTS) if (record.participants[p] !== undefined) participants[p] = record.participants[p];
  return {
    decision: record.decision,
    ...(record.reason ? { reason: record.reason } : {}),
    participants,
    coordinator: record.coordinator,
    term: record.term,
    finished: record.finished,
    timeline: commitTimeline(record),
  };
}

/**
 * What became of the payment: its state once it acknowledged the decision; a declined card as soon as it voted so
 * (it never held anything); otherwise pending. Undefined when the amount was not recorded.
 */
export function paymentView(record: CommitRecord): PaymentView | undefined {
  if (record.amountCents === undefined) return undefined;
  const state = record.participants.payment;
  const vote = (record.votes ?? record.participants).payment;
  const status: PaymentView['status'] =
    record.finished && (state === 'captured' || state === 'voided' || state === 'declined')
      ? state
      : vote === 'PAYMENT_DECLINED' || state === 'declined'
        ? 'declined'
        : 'pending';
  return { status, amountCents: record.amountCents };
}
