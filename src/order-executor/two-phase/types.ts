/**
 * The vocabulary of the executors' two-phase commit (issue 14), shared by the pure coordinator, the replicated
 * ledger that logs its decisions, and the adapters that speak to the participants.
 */

/** The participants, by the names GetDecision and the API use. */
export type Participant = 'books-database' | 'payment';
export const PARTICIPANTS: readonly Participant[] = ['books-database', 'payment'];

export type Decision = 'commit' | 'abort';

/** Why a transaction was aborted: a participant's "no" vote, or the coordinator's own reason. */
export const ABORT_REASONS = [
  'OUT_OF_STOCK',
  'UNKNOWN_BOOK',
  'PAYMENT_DECLINED',
  'UNKNOWN_TOKEN',
  /** A participant had already aborted the transaction (a late Prepare after a presumed abort). */
  'PARTICIPANT_ABORTED',
  /** A participant did not vote in time (unreachable, or its answer lost). */
  'PARTICIPANT_UNAVAILABLE',
  /** A participant asked for the decision of a transaction no leader was driving (presumed abort). */
  'COORDINATOR_TIMEOUT',
] as const;
export type AbortReason = (typeof ABORT_REASONS)[number];

/**
 * A participant's answer to Prepare, in the coordinator's terms. `stale`: the participant has seen a newer
 * executor term, so this leader is deposed and must decide nothing.
 */
export type Vote = { kind: 'yes' } | { kind: 'no'; reason: AbortReason; detail?: string } | { kind: 'stale' };

/** What the ledger records of each participant: its vote ("YES", "OUT_OF_STOCK", …), then its state after Finish. */
export type ParticipantStates = Partial<Record<Participant, string>>;

/** When each participant did something (ms since the epoch, by the leader's clock). */
export type ParticipantTimes = Partial<Record<Participant, number>>;

/**
 * When a transaction's steps happened, by the clock of the leader that drove them (ms since the epoch), carried in
 * the log entries so every replica records the same. For the order page's commit timeline; optional throughout,
 * since entries logged before these were recorded have none, and a presumed abort has no prepare or votes.
 */
export interface CommitTimes {
  /** The first Prepare went out. */
  prepareStartedAt?: number;
  /** Each participant's vote arrived. */
  votedAt?: ParticipantTimes;
  /** The decision was (first) proposed to the log. */
  decidedAt?: number;
  /** Each participant acknowledged its Finish (the leader that finished it may be a later one). */
  finishedAt?: ParticipantTimes;
}

/** A copy that shares no map with the original (a log entry's times, the ledger's and the core's stay apart). */
export const copyCommitTimes = (times: CommitTimes): CommitTimes => ({
  ...times,
  ...(times.votedAt ? { votedAt: { ...times.votedAt } } : {}),
  ...(times.finishedAt ? { finishedAt: { ...times.finishedAt } } : {}),
});
