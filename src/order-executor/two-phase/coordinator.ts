import { copyCommitTimes, PARTICIPANTS, type AbortReason, type CommitTimes, type Decision, type Participant, type ParticipantStates, type ParticipantTimes, type Vote } from './types';

/**
 * The two-phase-commit coordinator of the executor leader (issue 14), as a pure state machine in the manner of
 * src/raft/node.ts: inputs are method calls (an order to commit, a vote, an applied log entry, a Finish
 * acknowledged, the time), outputs are queued and taken with `ready()` (Prepare and Finish to send, entries to
 * propose). Nothing here touches a socket, the Raft log or a clock; the caller (two-phase/driver.ts, or the
 * simulation in coordinator.sim.test.ts) does the I/O.
 *
 * The protocol, per transaction (tx id = order id):
 * 1. Prepare goes to both participants at once, fenced by this leader's term, and again while a vote is due.
 * 2. Commit iff both vote yes; the first "no" (or a vote that does not come in time) decides abort with its reason.
 * 3. The decision is proposed to the executors' log. Nothing is sent until the entry is APPLIED: a decision that
 *    never commits was never sent, and the next leader may prepare the order again and decide afresh.
 * 4. Finish(the applied decision) goes to both participants, again and again, until both acknowledge.
 * 5. A second entry records that both did; a new leader re-sends Finish for every decided, unfinished transaction.
 * Presumed abort: a participant asking (GetDecision) about a transaction with no logged decision that this leader
 * is not driving gets an abort, logged before it is answered (reason COORDINATOR_TIMEOUT).
 *
 * Volatile state only: everything a new leader needs is in the log (decisions and completions); what is not
 * (votes of a transaction still preparing) is cheaply recomputed, since Prepare is idempotent at the participants.
 */

/** What the replicated ledger says of a transaction. */
export interface LoggedDecision {
  decision: Decision;
  reason?: AbortReason;
  /** Both participants acknowledged it. */
  finished: boolean;
}

/** The coordinator's read-only view of the applied log (the ExecutionLedger). */
export interface DecisionLog {
  decision(txId: string): LoggedDecision | undefined;
  /** Decided transactions whose completion is not logged, in decision order. */
  unfinished(): { txId: string; decision: Decision }[];
}

export interface CoordinatorOptions {
  /** Both votes must arrive within this long of the Prepare, or the transaction aborts (PARTICIPANT_UNAVAILABLE). */
  prepareTimeoutMs: number;
  /** A Prepare not answered (while votes are still due) or a Finish not acknowledged within this long is sent again. */
  retryMs: number;
  /** A proposal not applied within this long is proposed again (a duplicate entry changes nothing). */
  proposeRetryMs: number;
}

export type CoordinatorOutput =
  | { type: 'prepare'; participant: Participant; txId: string; term: number }
  | {
      type: 'propose-decision';
      txId: string;
      decision: Decision;
      reason?: AbortReason;
      /** What the refusing participant said (the book out of stock, the processor's message), if anything. */
      detail?: string;
      /** Each participant's vote as recorded: "YES", the refusal's reason, or "UNAVAILABLE" (none in time). */
      votes: ParticipantStates;
      term: number;
      /** Logged by presumed abort (GetDecision), not by driving the transaction: there is no order to record. */
      presumed: boolean;
      /** When prepare began, each vote came and the decision was first proposed (the `now`s this core was given). */
      times: CommitTimes;
    }
  | { type: 'finish'; participant: Participant; txId: string; commit: boolean }
  /** `finishedAt`: when each participant's acknowledgement came. */
  | { type: 'propose-finished'; txId: string; states: ParticipantStates; finishedAt: ParticipantTimes };

/** Where a transaction is, as this leader drives it. */
export type Phase = 'preparing' | 'deciding' | 'finishing' | 'completing';

type Tx =
  | { phase: 'preparing'; startedAt: number; votes: Partial<Record<Participant, Vote>>; votedAt: ParticipantTimes; sentAt: Partial<Record<Participant, number>> }
  | {
      phase: 'deciding';
      decision: Decision;
      reason?: AbortReason;
      detail?: string;
      votes: ParticipantStates;
      proposedAt: number;
      presumed: boolean;
      times: CommitTimes;
    }
  | { phase: 'finishing'; decision: Decision; acked: ParticipantStates; ackedAt: ParticipantTimes; sentAt: Partial<Record<Participant, number>> }
  | { phase: 'completing'; states: ParticipantStates; finishedAt: ParticipantTimes; proposedAt: number };

/** What begin() did with an order. */
export type BeginResult =
  /** Prepare is under way. */
  | 'started'
  /** The log has its decision already (a redelivered lease): ack it. */
  | 'decided'
  /** This leader is already driving it (or logging its presumed abort): wait for the decision to apply. */
  | 'busy'
  /** Not the serving leader: leave the lease to expire. */
  | 'not-leader';

/** The answer to GetDecision. `await`: an abort is being logged; ask the log again once it applies. */
export type DecisionAnswer =
  | { kind: 'decided'; decision: Decision; reason?: AbortReason }
  | { kind: 'pending' }
  | { kind: 'await' }
  | { kind: 'not-leader' };

const voteLabel = (vote: Vote | undefined): string => (vote === undefined ? 'UNAVAILABLE' : vote.kind === 'yes' ? 'YES' : vote.kind === 'no' ? vote.reason : 'STALE_TERM');

export class Coordinator {
  private term: number | undefined;
  private txs = new Map<string, Tx>();
  private outbox: CoordinatorOutput[] = [];

  constructor(
    private readonly log: DecisionLog,
    private readonly options: CoordinatorOptions,
  ) {}

  /**
   * This node now serves as leader of `term`: its log holds every committed entry, applied. Every decided,
   * unfinished transaction gets its Finish again (the previous leader may have crashed between the two).
   */
  lead(term: number, now: number): void {
    this.txs = new Map();
    this.outbox = [];
    this.term = term;
    for (const { txId, decision } of this.log.unfinished()) this.startFinishing(txId, decision, now);
  }

  /** Lost the lead (or crashed): forget everything volatile; the log and the next leader carry on. */
  stepDown(): void {
    this.term = undefined;
    this.txs = new Map();
    this.outbox = [];
  }

  get leading(): boolean {
    return this.term !== undefined;
  }

  /** An order leased from the queue: prepare it, unless the log or this leader already has it in hand. */
  begin(txId: string, now: number): BeginResult {
    if (this.term === undefined) return 'not-leader';
    if (this.log.decision(txId)) return 'decided';
    if (this.txs.has(txId)) return 'busy';
    const tx: Tx = { phase: 'preparing', startedAt: now, votes: {}, votedAt: {}, sentAt: {} };
    this.txs.set(txId, tx);
    for (const participant of PARTICIPANTS) {
      tx.sentAt[participant] = now;
      this.outbox.push({ type: 'prepare', participant, txId, term: this.term });
    }
    return 'started';
  }

  /**
   * A participant's vote on a Prepare sent in `term`. A vote for another term, or for a transaction no longer
   * preparing (it timed out and was decided), changes nothing. A stale-term vote means this leader is deposed:
   * it decides nothing for the transaction (the Raft node learns of the new term on its own).
   */
  voted(txId: string, participant: Participant, vote: Vote, term: number, now: number): void {
    const tx = this.txs.get(txId);
    if (this.term === undefined || term !== this.term || tx?.phase !== 'preparing' || tx.votes[participant]) return;
    if (vote.kind === 'stale') {
      this.txs.delete(txId);
      return;
    }
    tx.votes[participant] = vote;
    tx.votedAt[participant] = now;
    if (vote.kind === 'no') this.decide(txId, 'abort', vote.reason, tx, now, vote.detail);
    else if (PARTICIPANTS.every((p) => tx.votes[p]?.kind === 'yes')) this.decide(txId, 'commit', undefined, tx, now);
  }

  /**
   * A decision entry was applied (whoever proposed it; for a duplicate, pass the first, logged decision). Only
   * now may Finish go out.
   */
  decisionApplied(txId: string, decision: Decision, now: number): void {
    if (this.term === undefined) return;
    const tx = this.txs.get(txId);
    if (tx?.phase === 'finishing' || tx?.phase === 'completing') return;
    if (this.log.decision(txId)?.finished) {
      this.txs.delete(txId);
      return;
    }
    this.startFinishing(txId, decision, now);
  }

  /** A participant acknowledged Finish, and is now in `state` ("committed", "captured", "aborted", "voided", …). */
  finishAcked(txId: string, participant: Participant, state: string, now: number): void {
    const tx = this.txs.get(txId);
    if (this.term === undefined || tx?.phase !== 'finishing' || tx.acked[participant] !== undefined) return;
    tx.acked[participant] = state;
    tx.ackedAt[participant] = now;
    if (PARTICIPANTS.every((p) => tx.acked[p] !== undefined)) {
      this.txs.set(txId, { phase: 'completing', states: tx.acked, finishedAt: tx.ackedAt, proposedAt: now });
      this.outbox.push({ type: 'propose-finished', txId, states: { ...tx.acked }, finishedAt: { ...tx.ackedAt } });
    }
  }

  /** A completion entry was applied: the transaction is done. */
  finishedApplied(txId: string): void {
    this.txs.delete(txId);
  }

  /** Time passes: votes overdue decide abort, unacknowledged Finishes and unapplied proposals go out again. */
  tick(now: number): void {
    if (this.term === undefined) return;
    for (const [txId, tx] of this.txs) {
      switch (tx.phase) {
        case 'preparing':
          if (now - tx.startedAt >= this.options.prepareTimeoutMs) {
            this.decide(txId, 'abort', 'PARTICIPANT_UNAVAILABLE', tx, now);
            break;
          }
          // Prepare is idempotent at the participants: a lost request or answer costs a retry, not the order.
          for (const participant of PARTICIPANTS) {
            if (tx.votes[participant] || now - (tx.sentAt[participant] ?? 0) < this.options.retryMs) continue;
            tx.sentAt[participant] = now;
            this.outbox.push({ type: 'prepare', participant, txId, term: this.term });
          }
          break;
        case 'deciding':
          if (now - tx.proposedAt >= this.options.proposeRetryMs) {
            tx.proposedAt = now;
            this.outbox.push(this.decisionProposal(txId, tx));
          }
          break;
        case 'finishing':
          for (const participant of PARTICIPANTS) {
            if (tx.acked[participant] !== undefined || now - (tx.sentAt[participant] ?? 0) < this.options.retryMs) continue;
            tx.sentAt[participant] = now;
            this.outbox.push({ type: 'finish', participant, txId, commit: tx.decision === 'commit' });
          }
          break;
        case 'completing':
          if (now - tx.proposedAt >= this.options.proposeRetryMs) {
            tx.proposedAt = now;
            this.outbox.push({ type: 'propose-finished', txId, states: { ...tx.states }, finishedAt: { ...tx.finishedAt } });
          }
          break;
      }
    }
  }

  /**
   * Cooperative termination: a prepared participant asks for the decision. The logged one if any; "pending" while
   * this leader drives the transaction; otherwise presumed abort, proposed now and answered once applied (`await`).
   */
  getDecision(txId: string, now: number): DecisionAnswer {
    if (this.term === undefined) return { kind: 'not-leader' };
    const logged = this.log.decision(txId);
    if (logged) return { kind: 'decided', decision: logged.decision, ...(logged.reason ? { reason: logged.reason } : {}) };
    const tx = this.txs.get(txId);
    if (tx?.phase === 'deciding' && tx.presumed) return { kind: 'await' };
    if (tx) return { kind: 'pending' };
    const presumed: Tx = {
      phase: 'deciding',
      decision: 'abort',
      reason: 'COORDINATOR_TIMEOUT',
      votes: {},
      proposedAt: now,
      presumed: true,
      times: { decidedAt: now },
    };
    this.txs.set(txId, presumed);
    this.outbox.push(this.decisionProposal(txId, presumed));
    return { kind: 'await' };
  }

  /** The outputs queued since the last call, in order. */
  ready(): CoordinatorOutput[] {
    const out = this.outbox;
    this.outbox = [];
    return out;
  }

  /**
   * Where a transaction is (undefined: not in this leader's hands), and how many participants answered in that
   * phase (votes while preparing, acknowledgements while finishing).
   */
  progress(txId: string): { phase: Phase; answered: number } | undefined {
    const tx = this.txs.get(txId);
    if (!tx) return undefined;
    const answered = tx.phase === 'preparing' ? Object.keys(tx.votes).length : tx.phase === 'finishing' ? Object.keys(tx.acked).length : 0;
    return { phase: tx.phase, answered };
  }

  /** The transactions in this leader's hands. */
  txIds(): string[] {
    return [...this.txs.keys()];
  }

  /** Transactions in this leader's hands, by phase (for the in-flight gauge and the cluster view). */
  inFlight(): Record<Phase, number> {
    const counts: Record<Phase, number> = { preparing: 0, deciding: 0, finishing: 0, completing: 0 };
    for (const tx of this.txs.values()) counts[tx.phase]++;
    return counts;
  }

  get currentTerm(): number | undefined {
    return this.term;
  }

  private decide(
    txId: string,
    decision: Decision,
    reason: AbortReason | undefined,
    preparing: Extract<Tx, { phase: 'preparing' }>,
    now: number,
    detail?: string,
  ): void {
    const recorded: ParticipantStates = {};
    for (const p of PARTICIPANTS) recorded[p] = voteLabel(preparing.votes[p]);
    const times: CommitTimes = { prepareStartedAt: preparing.startedAt, votedAt: { ...preparing.votedAt }, decidedAt: now };
    const tx: Tx = {
      phase: 'deciding',
      decision,
      ...(reason ? { reason } : {}),
      ...(detail ? { detail } : {}),
      votes: recorded,
      proposedAt: now,
      presumed: false,
      times,
    };
    this.txs.set(txId, tx);
    this.outbox.push(this.decisionProposal(txId, tx));
  }

  private decisionProposal(txId: string, tx: Extract<Tx, { phase: 'deciding' }>): CoordinatorOutput {
    return {
      type: 'propose-decision',
      txId,
      decision: tx.decision,
      ...(tx.reason ? { reason: tx.reason } : {}),
      ...(tx.detail ? { detail: tx.detail } : {}),
      votes: { ...tx.votes },
      term: this.term!,
      presumed: tx.presumed,
      times: copyCommitTimes(tx.times),
    };
  }

  private startFinishing(txId: string, decision: Decision, now: number): void {
    const tx: Tx = { phase: 'finishing', decision, acked: {}, ackedAt: {}, sentAt: {} };
    this.txs.set(txId, tx);
    for (const participant of PARTICIPANTS) {
      tx.sentAt[participant] = now;
      this.outbox.push({ type: 'finish', participant, txId, commit: decision === 'commit' });
    }
  }
}
