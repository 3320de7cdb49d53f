import type { Entry } from '../raft/types';
import { ABORT_REASONS, copyCommitTimes, PARTICIPANTS, type AbortReason, type CommitTimes, type Decision, type Participant, type ParticipantStates, type ParticipantTimes } from './two-phase/types';

/**
 * The replicated state machine of the executors: which orders were executed,
 * by which leader, at which log position. Pure and deterministic, so every
 * replica that applies the same committed log holds the same ledger.
 */

/** Why an order failed; it changed no stock (and, under two-phase commit, captured no money). */
export interface OrderFailure {
  code: 'OUT_OF_STOCK' | 'UNKNOWN_BOOK' | AbortReason;
  message: string;
}

/**
 * A two-phase commit's decision as the log records it (issue 14). The order's outcome is the decision: commit is
 * `executed`, abort is `failed` with the reason as its code. Finish is sent to the participants only once the
 * entry carrying this is applied; a second, small entry (FinishedCommand) records that both acknowledged it, so
 * a new leader knows which decided transactions still need their Finish.
 */
export interface CommitDetails {
  decision: Decision;
  reason?: AbortReason;
  /** Each participant's vote when decided ("YES", "OUT_OF_STOCK", "UNAVAILABLE", …), its state once finished. */
  participants: ParticipantStates;
  /** The leader that logged the decision. */
  coordinator: string;
  /** The coordinator's term (its participants' fence) when it decided. */
  term: number;
  /** Both participants acknowledged the decision. */
  finished: boolean;
  /**
   * When prepare began, each vote came, the decision was proposed and each Finish was acknowledged (ms since the
   * epoch, by the deciding and finishing leaders' clocks). Absent in entries logged before times were recorded.
   */
  times?: CommitTimes;
  /** What payment was asked to hold (absent in older entries, and in a presumed abort, which has no order). */
  amountCents?: number;
  /** Once finished: the votes `participants` held before the acknowledged states replaced them. */
  votes?: ParticipantStates;
}

/**
 * What executing an order came to, decided by the books database before the order is proposed (see
 * execute-order.ts) and replicated with it, so every replica and every later leader knows it.
 */
export type OrderOutcome = { state: 'executed' } | { state: 'failed'; failure: OrderFailure };

/** What a leader proposes for one order: everything execution needs, no card data. */
export interface OrderCommand {
  orderId: string;
  /** The leader that leased the order from the queue and proposed it. */
  leader: string;
  shippingMethod: string;
  customerName: string;
  maskedCard: string;
  items: { name: string; quantity: number }[];
  /** The checkout's W3C traceparent, so the execution span can link to it. */
  traceparent: string;
  /** The stock decrement's outcome (absent in entries written before the books database: executed). */
  outcome?: OrderOutcome;
  /** Under two-phase commit: the decision the outcome stands for (see CommitDetails; `coordinator` is `leader`). */
  commit?: { decision: Decision; reason?: AbortReason; participants: ParticipantStates; term: number; times?: CommitTimes; amountCents?: number };
}

/** The log's record that both participants acknowledged a transaction's Finish (their states after it). */
export interface FinishedCommand {
  finished: string;
  leader: string;
  participants: ParticipantStates;
  /** When each acknowledgement came (absent in entries logged before times were recorded). */
  finishedAt?: ParticipantTimes;
}

export interface Execution {
  orderId: string;
  executor: string;
  term: number;
  index: number;
  /** Present when the order failed (and changed nothing). */
  failure?: OrderFailure;
  /** Present when the order went through two-phase commit. */
  commit?: CommitDetails;
}

export function encodeCommand(command: OrderCommand | FinishedCommand): string {
  return JSON.stringify(command);
}

/** The outcome a two-phase commit's decision stands for. */
export function outcomeOfDecision(decision: Decision, reason: AbortReason | undefined, message: string): OrderOutcome {
  return decision === 'commit' ? { state: 'executed' } : { state: 'failed', failure: { code: reason ?? 'COORDINATOR_TIMEOUT', message } };
}

/** An order's entry (its decision under two-phase commit); a finished-command entry is refused. */
export function decodeCommand(data: string): OrderCommand {
  const command = decodeEntryCommand(data);
  if ('finished' in command) throw new Error(`expected an order's command, got the finish of ${command.finished}`);
  return command;
}

/** Any command entry of the executors' log: an order's (with its outcome or decision) or a FinishedCommand. */
export function decodeEntryCommand(data: string): OrderCommand | FinishedCommand {
  const parsed = JSON.parse(data) as Partial<OrderCommand & FinishedCommand>;
  if (typeof parsed?.finished === 'string') {
    if (parsed.finished === '' || typeof parsed.participants !== 'object' || !validParticipantTimes(parsed.finishedAt)) throw new Error('malformed finished command');
    return parsed as FinishedCommand;
  }
  const command = parsed as OrderCommand;
  if (typeof command?.orderId !== 'string' || command.orderId === '') throw new Error('command without an orderId');
  const outcome = command.outcome;
  if (outcome !== undefined && outcome.state !== 'executed' && !(outcome.state === 'failed' && typeof outcome.failure?.code === 'string')) {
    throw new Error(`command for ${command.orderId} has a malformed outcome`);
  }
  const commit = command.commit;
  if (commit !== undefined) {
    // The outcome is the decision: a commit that failed the order, or an abort without a known reason, is a bug.
    const consistent =
      (commit.decision === 'commit' && outcome?.state === 'executed' && commit.reason === undefined) ||
      (commit.decision === 'abort' && outcome?.state === 'failed' && ABORT_REASONS.includes(commit.reason!) && outcome.failure.code === commit.reason);
    if (!consistent || typeof commit.participants !== 'object' || !Number.isSafeInteger(commit.term) || !validTimes(commit.times) || !isTime(commit.amountCents)) {
      throw new Error(`command for ${command.orderId} has a malformed commit decision`);
    }
  }
  return command;
}

const isTime = (t: unknown): boolean => t === undefined || (typeof t === 'number' && Number.isSafeInteger(t) && t >= 0);

function validParticipantTimes(times: unknown): boolean {
  if (times === undefined) return true;
  return typeof times === 'object' && times !== null && Object.values(times).every((t) => isTime(t));
}

function validTimes(times: CommitTimes | undefined): boolean {
  if (times === undefined) return true;
  return (
    typeof times === 'object' &&
    times !== null &&
    isTime(times.prepareStartedAt) &&
    isTime(times.decidedAt) &&
    validParticipantTimes(times.votedAt) &&
    validParticipantTimes(times.finishedAt)
  );
}

export type Applied =
  | { kind: 'noop' }
  | { kind: 'executed'; execution: Execution; command: OrderCommand }
  /** The order was proposed twice (redelivered before its first copy committed): executed once, at its first index. */
  | { kind: 'duplicate'; execution: Execution; command: OrderCommand }
  /** A decided transaction's Finish was acknowledged by both participants (`first`: not recorded before). */
  | { kind: 'finished'; orderId: string; execution: Execution | undefined; first: boolean };

/**
 * How many executions the ledger remembers (the latest ones). Exactly-once needs
 * an order's id only until no copy of it can be proposed again: a copy comes
 * from a lease that was not acked, which the queue redelivers within its
 * visibility timeout (seconds), far inside this horizon.
 */
export const DEFAULT_LEDGER_RETAIN = 50_000;

/**
 * A two-phase commit's details in a snapshot (version 3): positions instead of keys, participants' maps as arrays in
 * PARTICIPANTS order (null: the map is absent; a null inside: that participant has no entry), times as offsets from
 * the earliest of them. Lossless, and about 40 % of the keyed JSON: a ledger of 20,000 decided orders was 9 MiB
 * as version 2, and capturing, writing and restoring it grew with its size.
 */
type CommitTuple = [
  decision: Decision,
  reason: AbortReason | null,
  coordinator: string,
  term: number,
  finished: 0 | 1,
  participants: (string | null)[],
  votes: (string | null)[] | null,
  amountCents: number | null,
  /** [base, prepareStartedAt, decidedAt, votedAt[], finishedAt[]], all but the base as offsets from it. */
  times: [number, number | null, number | null, (number | null)[] | null, (number | null)[] | null] | null,
];

type ExecutionTuple = [
  orderId: string,
  executor: string,
  term: number,
  index: number,
  failureCode?: OrderFailure['code'] | null,
  failureMessage?: string | null,
  /** Version 2 kept the CommitDetails object itself; version 3 a CommitTuple. */
  commit?: CommitDetails | CommitTuple,
];

/** The ledger as a snapshot holds it: executions as compact tuples, oldest first. */
interface LedgerSnapshot {
  /** 1: before two-phase commit (no commit details, no unfinished transactions); 2: commit details keyed. Both still read. */
  version: 1 | 2 | 3;
  lastApplied: number;
  executedTotal: number;
  /** A failed order's tuple adds its failure code and message; a two-phase one, its commit details after them. */
  executions: ExecutionTuple[];
  /** Decided transactions whose Finish is not yet acknowledged, whether or not still among `executions`. */
  unfinished?: ExecutionTuple[];
}

const BOOKS: Participant = PARTICIPANTS[0];
const PAYMENT: Participant = PARTICIPANTS[1];

/** A participant map as [books-database, payment] (this runs for every execution of every snapshot: kept plain). */
function toArray<T>(map: Partial<Record<Participant, T>> | undefined): (T | null)[] | null {
  if (map === undefined) return null;
  for (const key in map) if (key !== BOOKS && key !== PAYMENT) throw new Error(`a commit record names an unknown participant "${key}"`);
  return [map[BOOKS] ?? null, map[PAYMENT] ?? null];
}

function fromArray<T>(values: (T | null)[]): Partial<Record<Participant, T>> {
  const map: Partial<Record<Participant, T>> = {};
  if (values[0] !== null) map[BOOKS] = values[0];
  if (values[1] !== null) map[PAYMENT] = values[1];
  return map;
}

const earliest = (base: number, x: number | undefined) => (x !== undefined && x < base ? x : base);

function offsets(m: ParticipantTimes | undefined, base: number): (number | null)[] | null {
  const values = toArray(m);
  if (values === null) return null;
  return [values[0] === null ? null : values[0] - base, values[1] === null ? null : values[1] - base];
}

function timesToTuple(t: CommitTimes | undefined): CommitTuple[8] {
  if (t === undefined) return null;
  let base = Infinity;
  base = earliest(base, t.prepareStartedAt);
  base = earliest(base, t.decidedAt);
  for (const m of [t.votedAt, t.finishedAt]) if (m) for (const p of PARTICIPANTS) base = earliest(base, m[p]);
  if (base === Infinity) base = 0;
  return [
    base,
    t.prepareStartedAt === undefined ? null : t.prepareStartedAt - base,
    t.decidedAt === undefined ? null : t.decidedAt - base,
    offsets(t.votedAt, base),
    offsets(t.finishedAt, base),
  ];
}

const plus = (base: number, values: (number | null)[]) => fromArray([values[0] === null ? null : base + values[0], values[1] === null ? null : base + values[1]]);

function timesFromTuple([base, prepare, decided, voted, finished]: NonNullable<CommitTuple[8]>): CommitTimes {
  const times: CommitTimes = {};
  if (prepare !== null) times.prepareStartedAt = base + prepare;
  if (voted !== null) times.votedAt = plus(base, voted);
  if (decided !== null) times.decidedAt = base + decided;
  if (finished !== null) times.finishedAt = plus(base, finished);
  return times;
}

const commitToTuple = (c: CommitDetails): CommitTuple => [
  c.decision,
  c.reason ?? null,
  c.coordinator,
  c.term,
  c.finished ? 1 : 0,
  toArray(c.participants)!,
  toArray(c.votes),
  c.amountCents ?? null,
  timesToTuple(c.times),
];

function commitFromTuple([decision, reason, coordinator, term, finished, participants, votes, amountCents, times]: CommitTuple): CommitDetails {
  return {
    decision,
    ...(reason !== null ? { reason } : {}),
    participants: fromArray(participants),
    coordinator,
    term,
    finished: finished === 1,
    ...(times !== null ? { times: timesFromTuple(times) } : {}),
    ...(amountCents !== null ? { amountCents } : {}),
    ...(votes !== null ? { votes: fromArray(votes) } : {}),
  };
}

const toTuple = (e: Execution): ExecutionTuple => {
  if (e.commit) return [e.orderId, e.executor, e.term, e.index, e.failure?.code ?? null, e.failure?.message ?? null, commitToTuple(e.commit)];
  return e.failure ? [e.orderId, e.executor, e.term, e.index, e.failure.code, e.failure.message] : [e.orderId, e.executor, e.term, e.index];
};

/** An execution from a snapshot's tuple; version 2's commit objects are copied, version 3's built afresh. */
const fromTuple = ([orderId, executor, term, index, failureCode, failureMessage, commit]: ExecutionTuple): Execution => {
  const execution: Execution = { orderId, executor, term, index };
  if (failureCode) execution.failure = { code: failureCode, message: failureMessage ?? '' };
  if (Array.isArray(commit)) execution.commit = commitFromTuple(commit);
  else if (commit) execution.commit = { ...commit, participants: { ...commit.participants }, ...(commit.votes ? { votes: { ...commit.votes } } : {}), ...(commit.times ? { times: copyCommitTimes(commit.times) } : {}) };
  return execution;
};

export class ExecutionLedger {
  /** In application order, so the oldest is forgotten first. */
  private executions = new Map<string, Execution>();
  /**
   * Decided, not yet finished: kept apart from the horizon, since forgetting one would leave a participant
   * prepared for good. The same objects as in `executions` while those remember them.
   */
  private unfinishedTxs = new Map<string, Execution>();
  private lastApplied = 0;
  private total = 0;
  /** The JSON of executions that can no longer change, as the last snapshot encoded them (gone with them). */
  private encodedFinal = new WeakMap<Execution, string>();

  constructor(private readonly retain = DEFAULT_LEDGER_RETAIN) {}

  apply(entry: Entry): Applied {
    if (entry.index !== this.lastApplied + 1) throw new Error(`entry ${entry.index} applied out of order (after ${this.lastApplied})`);
    this.lastApplied = entry.index;
    if (entry.type !== 'command' || !entry.data) return { kind: 'noop' };
    const command = decodeEntryCommand(entry.data);
    if ('finished' in command) return this.finish(command);
    const existing = this.executions.get(command.orderId) ?? this.unfinishedTxs.get(command.orderId);
    if (existing) return { kind: 'duplicate', execution: existing, command };
    const execution: Execution = { orderId: command.orderId, executor: command.leader, term: entry.term, index: entry.index };
    if (command.outcome?.state === 'failed') execution.failure = { ...command.outcome.failure };
    if (command.commit) {
      const { decision, reason, participants, term, times, amountCents } = command.commit;
      execution.commit = {
        decision,
        ...(reason ? { reason } : {}),
        participants: { ...participants },
        coordinator: command.leader,
        term,
        finished: false,
        ...(times ? { times: copyCommitTimes(times) } : {}),
        ...(amountCents !== undefined ? { amountCents } : {}),
      };
      this.unfinishedTxs.set(command.orderId, execution);
    }
    this.executions.set(command.orderId, execution);
    this.total++;
    if (this.executions.size > this.retain) this.executions.delete(this.executions.keys().next().value!);
    return { kind: 'executed', execution, command };
  }

  private finish(command: FinishedCommand): Applied {
    const execution = this.unfinishedTxs.get(command.finished);
    if (!execution) return { kind: 'finished', orderId: command.finished, execution: this.executions.get(command.finished), first: false };
    this.unfinishedTxs.delete(command.finished);
    execution.commit!.finished = true;
    execution.commit!.votes = { ...execution.commit!.participants };
    execution.commit!.participants = { ...execution.commit!.participants, ...command.participants };
    if (command.finishedAt) execution.commit!.times = { ...execution.commit!.times, finishedAt: { ...command.finishedAt } };
    return { kind: 'finished', orderId: command.finished, execution, first: true };
  }

  get(orderId: string): Execution | undefined {
    return this.executions.get(orderId) ?? this.unfinishedTxs.get(orderId);
  }

  /** Decided transactions whose Finish both participants have not yet acknowledged, in decision order. */
  unfinished(): Execution[] {
    return [...this.unfinishedTxs.values()];
  }

  all(): Execution[] {
    return [...this.executions.values()];
  }

  /** Executions remembered now (at most `retain`). */
  get size(): number {
    return this.executions.size;
  }

  /** Orders executed since the cluster began, remembered or not. */
  get executedTotal(): number {
    return this.total;
  }

  /**
   * The whole ledger as of the last applied entry, for a Raft snapshot. Each execution that can no longer change
   * (no two-phase commit, or its Finish acknowledged) is encoded once and its JSON kept for the next snapshots: with
   * 50,000 executions remembered, encoding them all again each time held a leader's event loop for hundreds of ms.
   */
  snapshot(): string {
    const head: Omit<LedgerSnapshot, 'executions' | 'unfinished'> = { version: 3, lastApplied: this.lastApplied, executedTotal: this.total };
    const executions = [...this.executions.values()].map((e) => this.encoded(e)).join(',');
    const unfinished = [...this.unfinishedTxs.values()].map((e) => JSON.stringify(toTuple(e))).join(',');
    return `${JSON.stringify(head).slice(0, -1)},"executions":[${executions}],"unfinished":[${unfinished}]}`;
  }

  /**
   * Encodes what `applied` made final (an execution without a two-phase commit, or one whose Finish was just
   * applied) for the snapshots now, while it is fresh, rather than in the next snapshot. Without this the first
   * snapshot of a process's life encoded every execution at once: at about 10,000 executions a capture held its
   * event loop for 33–161 ms (median 85; 12.5 with this), in all three executors at the same index. The executor
   * calls it for live entries only, so a restart's replay does not pay for it.
   */
  encodeAhead(applied: Applied): void {
    const e = applied.kind === 'executed' || (applied.kind === 'finished' && applied.first) ? applied.execution : undefined;
    if (e && (!e.commit || e.commit.finished)) this.encoded(e);
  }

  /** An execution's tuple as JSON, kept once it is final (see snapshot). */
  private encoded(e: Execution): string {
    const cached = this.encodedFinal.get(e);
    if (cached !== undefined) return cached;
    const json = JSON.stringify(toTuple(e));
    if (!e.commit || e.commit.finished) this.encodedFinal.set(e, json);
    return json;
  }

  /** Replaces the ledger by a snapshot's (at start-up, or one installed from the leader). */
  restore(data: string): void {
    const state = JSON.parse(data) as LedgerSnapshot;
    if (![1, 2, 3].includes(state?.version) || !Number.isSafeInteger(state.lastApplied) || !Array.isArray(state.executions)) {
      throw new Error('not a ledger snapshot (version 1, 2 or 3)');
    }
    this.executions = new Map();
    for (const tuple of state.executions.slice(-this.retain)) this.executions.set(tuple[0], fromTuple(tuple));
    this.unfinishedTxs = new Map();
    for (const tuple of state.unfinished ?? []) this.unfinishedTxs.set(tuple[0], this.executions.get(tuple[0]) ?? fromTuple(tuple));
    this.lastApplied = state.lastApplied;
    this.total = state.executedTotal;
  }
}
