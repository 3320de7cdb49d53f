import { context, ROOT_CONTEXT, SpanStatusCode, trace, type Span, type SpanContext } from '@opentelemetry/api';
import { inject, injectable } from 'tsyringe';
import type { QueuedOrder } from '../../gen/causeway/v1/order_queue';
import { LOGGER, type Logger } from '../../platform/logger';
import { RaftDriver } from '../../platform/raft-host/driver';
import { linkTo, linkToSpan } from '../../platform/telemetry/traceparent';
import { ExecutionLedger, type Applied } from '../execution-ledger';
import { ExecutorMetrics } from '../metrics';
import { Coordinator, type BeginResult, type CoordinatorOptions, type DecisionAnswer } from './coordinator';
import { decisionEntry, decisionLogOf, finishedEntry } from './log-entries';
import type { TwoPhaseParticipant, TxOrder } from './participants';
import type { Participant, Vote } from './types';

/** Injection tokens: the two participants' adapters, and the driver's options. */
export const BOOKS_PARTICIPANT = Symbol('BooksParticipant');
export const PAYMENT_PARTICIPANT = Symbol('PaymentParticipant');
export const TWO_PHASE_OPTIONS = Symbol('TwoPhaseOptions');

export interface TwoPhaseOptions extends CoordinatorOptions {
  /** This executor's id: the coordinator the log names. */
  id: string;
  /** How often the coordinator's timers run (vote deadlines, Finish retries). */
  tickMs: number;
  /** How long GetDecision waits for a presumed abort to apply before answering "pending". */
  decisionWaitMs: number;
  /** How long Finishes and completion entries may wait to share a call and a Raft round with newer work (0: none). */
  finishDelayMs?: number;
  now?: () => number;
}

/** What the queue consumer hands a leased order to, in place of ExecuteOrder, under two-phase commit. */
export interface LeaseCommitter {
  /** 'decided': the log has its decision (ack the lease); otherwise its decision entry acks it once applied. */
  begin(order: QueuedOrder, term: number): BeginResult;
  /** Transactions this leader has begun and not yet seen finished: what the consumer's backpressure counts. */
  inFlight(): number;
  /** Resolves when a transaction leaves this leader's hands (or after `timeoutMs`, to look again). */
  roomChanged(timeoutMs: number): Promise<void>;
}

/** GetDecision's answer, or: this node does not lead (leader: who does, if known). */
export type DecisionReply = { decision: 'commit' | 'abort' | 'pending'; reason: string; term: number } | { notLeader: string | null };

const tracer = trace.getTracer('causeway.executor');

/** How often a replica tries again to reach a participant it could not warm up (see warmParticipants). */
const WARM_RETRY_MS = 1000;

/** A transaction this leader drives, for its trace and its latency. */
interface Traced {
  span: Span;
  startedAt: number;
}

/**
 * The I/O around the pure Coordinator (coordinator.ts), on the executor leader: leased orders in, Prepare and
 * Finish out to the participants in one batch call each per round, decisions and completions proposed to the
 * executors' Raft log, the ledger's applied entries fed back. Leadership is read from the Raft driver at every
 * entry point: serving leader of a new term ⇒ the core leads (and re-sends every unfinished Finish); anything
 * else ⇒ it steps down and forgets.
 *
 * Traced as one 'two-phase commit' span per transaction, linked to the checkout and to each batch call that carried
 * it; each phase is an event on it ('prepare → payment' when sent, 'payment voted' with the vote, 'decision',
 * 'finish → books-database', 'books-database finished' with its state, 'finished'). Events, not a child span per
 * participant and phase: the events carry the same times, and without those four spans per order the executors'
 * CPU per order in queue bursts fell from 6.2–9.4 ms to 4.5–5.5 ms (issue 11).
 */
@injectable()
export class TwoPhaseCommit implements LeaseCommitter {
  private readonly core: Coordinator;
  private readonly now: () => number;
  private readonly orders = new Map<string, TxOrder & { record: QueuedOrder }>();
  private readonly traced = new Map<string, Traced>();
  private readonly decisionWaiters = new Map<string, (() => void)[]>();
  private roomWaiters: (() => void)[] = [];
  private readonly participants: Record<Participant, TwoPhaseParticipant>;
  private timer: NodeJS.Timeout | undefined;
  private flushQueued = false;
  private stopped = false;
  /** Finishes and completion entries held back (at most finishDelayMs) to go out with the next Prepares or decisions. */
  private deferred: CoordinatorOutput[] = [];
  private deferTimer: NodeJS.Timeout | undefined;

  constructor(
    @inject(RaftDriver) private readonly raft: RaftDriver,
    @inject(ExecutionLedger) private readonly ledger: ExecutionLedger,
    @inject(BOOKS_PARTICIPANT) books: TwoPhaseParticipant,
    @inject(PAYMENT_PARTICIPANT) payment: TwoPhaseParticipant,
    @inject(TWO_PHASE_OPTIONS) private readonly options: TwoPhaseOptions,
    @inject(ExecutorMetrics) private readonly metrics: ExecutorMetrics,
    @inject(LOGGER) private readonly logger: Logger,
  ) {
    this.core = new Coordinator(decisionLogOf(ledger), options);
    this.now = options.now ?? Date.now;
    this.participants = { 'books-database': books, payment };
    metrics.observeTransactions(() => this.core.inFlight());
  }

  start(): void {
    void this.warmParticipants();
    this.timer = setInterval(() => {
      if (!this.syncLeadership()) return;
      this.core.tick(this.now());
      this.flush();
    }, this.options.tickMs);
    this.timer.unref();
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
    this.endAll('executor stopping');
  }

  /**
   * On every replica, leader or not: connect to both participants and fetch what a first Prepare needs, retrying
   * until done. A new leader's first commit then waits for no connection or catalog read: in the failover bench,
   * the first order after an election took ~130 ms from lease to decision against ~55 ms in steady state.
   */
  private async warmParticipants(): Promise<void> {
    const cold = new Set(Object.values(this.participants));
    while (cold.size > 0 && !this.stopped) {
      for (const participant of [...cold]) {
        try {
          await participant.warm();
          cold.delete(participant);
        } catch (err) {
          this.logger.debug(`${participant.name} not ready yet: ${(err as Error).message}`);
        }
      }
      if (cold.size > 0) await new Promise((r) => setTimeout(r, WARM_RETRY_MS).unref());
    }
  }

  inFlight(): number {
    return this.orders.size;
  }

  roomChanged(timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      this.roomWaiters.push(done);
    });
  }

  private wakeRoomWaiters(): void {
    if (this.roomWaiters.length === 0) return;
    const waiters = this.roomWaiters;
    this.roomWaiters = [];
    for (const wake of waiters) wake();
  }

  begin(order: QueuedOrder, term: number): BeginResult {
    if (!this.syncLeadership() || this.core.currentTerm !== term) return 'not-leader';
    const now = this.now();
    const result = this.core.begin(order.orderId, now);
    if (result === 'started') {
      this.orders.set(order.orderId, {
        txId: order.orderId,
        items: order.items,
        paymentToken: order.paymentToken,
        amountCents: order.amountCents,
        record: order,
      });
      const span = tracer.startSpan(
        'two-phase commit',
        { links: linkTo(order.traceparent, { 'causeway.link': 'checkout' }), attributes: { 'order.id': order.orderId, 'raft.term': term, 'executor.id': this.options.id } },
        ROOT_CONTEXT,
      );
      this.traced.set(order.orderId, { span, startedAt: now });
      this.flushSoon();
    }
    return result;
  }

  /** The state machine applied an entry (every replica calls this; only a leading core acts on it). */
  applied(applied: Applied): void {
    if (applied.kind === 'noop') return;
    const orderId = applied.kind === 'finished' ? applied.orderId : applied.command.orderId;
    const waiters = this.decisionWaiters.get(orderId);
    if (waiters) {
      this.decisionWaiters.delete(orderId);
      for (const wake of waiters) wake();
    }
    if (!this.syncLeadership()) return;
    const now = this.now();
    if (applied.kind === 'finished') {
      this.core.finishedApplied(orderId);
      if (this.orders.delete(orderId)) this.wakeRoomWaiters();
      const traced = this.traced.get(orderId);
      if (traced) {
        traced.span.addEvent('finished', { ...prefixed('participant.', applied.execution?.commit?.participants ?? {}) });
        traced.span.end();
        this.traced.delete(orderId);
      }
      return;
    }
    const commit = applied.execution.commit;
    if (!commit) return;
    const traced = this.traced.get(orderId);
    if (traced && applied.kind === 'executed') {
      traced.span.addEvent('decision', {
        decision: commit.decision,
        ...(commit.reason ? { 'abort.reason': commit.reason } : {}),
        'raft.index': applied.execution.index,
        'raft.term': applied.execution.term,
      });
      traced.span.setAttribute('commit.decision', commit.decision);
      if (commit.reason) traced.span.setAttribute('commit.reason', commit.reason);
      this.metrics.commitLatency(now - traced.startedAt, commit.decision);
    }
    this.core.decisionApplied(orderId, commit.decision, now);
    // The entries of one commit are applied in one turn: their Finishes go out together, one call per participant
    // (a flush per entry sent one FinishBatch per order, and cost several times the CPU of the rest of the commit).
    this.flushSoon();
  }

  /** Transactions this leader drives and has not finished (for ExecutorStatus and the cluster view). */
  inFlightCount(): number {
    return Object.values(this.core.inFlight()).reduce((a, b) => a + b, 0);
  }

  /** Cooperative termination (see coordinator.ts getDecision): the answer once any presumed abort is logged. */
  async getDecision(txId: string, participant: string): Promise<DecisionReply> {
    const status = this.raft.status();
    if (status.role !== 'leader') return { notLeader: status.leader };
    // A leader that has not applied an entry of its own term may lack decisions its predecessors logged.
    if (!this.syncLeadership()) return { decision: 'pending', reason: '', term: status.term };
    let answer: DecisionAnswer = this.core.getDecision(txId, this.now());
    this.flush();
    const presumed = answer.kind === 'await';
    if (presumed) {
      await this.decisionApplied(txId, this.options.decisionWaitMs);
      answer = this.core.getDecision(txId, this.now());
      this.flush();
    }
    const term = this.raft.status().term;
    switch (answer.kind) {
      case 'decided':
        if (presumed && answer.reason === 'COORDINATOR_TIMEOUT') {
          this.logger.info(`${participant || 'a participant'} asked for the decision of ${txId}, which no leader was driving: aborted (presumed abort)`, {
            order_id: txId,
          });
        }
        return { decision: answer.decision, reason: answer.reason ?? '', term };
      case 'not-leader':
        return { notLeader: this.raft.status().leader };
      default:
        return { decision: 'pending', reason: '', term };
    }
  }

  /** Serving leader: make sure the core leads this term. Otherwise make sure it does not. */
  private syncLeadership(): boolean {
    if (this.raft.isServingLeader()) {
      const { term } = this.raft.status();
      if (this.core.currentTerm !== term) {
        this.endAll('leadership changed');
        this.core.lead(term, this.now());
        const unfinished = this.ledger.unfinished().length;
        if (unfinished > 0) this.logger.info(`leading term ${term}: re-sending Finish for ${unfinished} decided, unfinished transactions`);
        this.flush();
      }
      return true;
    }
    if (this.core.leading) {
      this.core.stepDown();
      this.endAll('leadership lost');
    }
    return false;
  }

  private decisionApplied(txId: string, timeoutMs: number): Promise<void> {
    if (this.ledger.get(txId)) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      const waiters = this.decisionWaiters.get(txId) ?? [];
      waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
      this.decisionWaiters.set(txId, waiters);
    });
  }

  /** The orders of one lease arrive in one turn: their Prepares go out together, one call per participant. */
  private flushSoon(): void {
    if (this.flushQueued) return;
    this.flushQueued = true;
    queueMicrotask(() => {
      this.flushQueued = false;
      this.flush();
    });
  }

  /**
   * Sends what the core asks for: one batch call per participant and phase, one proposal for all entries. Finishes
   * and completion entries alone wait (finishDelayMs) for Prepares or decision entries to travel with: under a
   * steady trickle of orders that halves the Raft rounds of both clusters and the participants' calls per order.
   */
  private flush(): void {
    const ready = this.core.ready();
    const delay = this.options.finishDelayMs ?? 0;
    if (delay > 0 && ready.length > 0 && ready.every((out) => out.type === 'finish' || out.type === 'propose-finished')) {
      this.deferred.push(...ready);
      this.deferTimer ??= setTimeout(() => {
        this.deferTimer = undefined;
        this.flush();
      }, delay);
      return;
    }
    const held = this.takeDeferred();
    const outputs = held.length > 0 ? [...held, ...ready] : ready;
    if (outputs.length === 0) return;
    const prepares = new Map<Participant, { txIds: string[]; term: number }>();
    // By transaction: a Finish the core sent again while an earlier one waited here goes out once.
    const finishes = new Map<Participant, Map<string, boolean>>();
    const proposals: string[] = [];
    for (const out of outputs) {
      switch (out.type) {
        case 'prepare': {
          const batch = prepares.get(out.participant) ?? { txIds: [], term: out.term };
          batch.txIds.push(out.txId);
          prepares.set(out.participant, batch);
          break;
        }
        case 'finish': {
          const batch = finishes.get(out.participant) ?? new Map<string, boolean>();
          batch.set(out.txId, out.commit);
          finishes.set(out.participant, batch);
          break;
        }
        case 'propose-decision':
          proposals.push(decisionEntry(out, this.options.id, out.presumed ? undefined : this.orderRecord(out.txId)));
          break;
        case 'propose-finished':
          proposals.push(finishedEntry(out, this.options.id));
          break;
      }
    }
    // Lost the lead since: the core will not hear of these (it steps down); the next leader starts over.
    if (proposals.length > 0 && this.raft.propose(proposals) === undefined) this.logger.debug('not leading: proposals dropped');
    for (const [participant, { txIds, term }] of prepares) void this.prepare(participant, txIds, term);
    for (const [participant, txs] of finishes) void this.finish(participant, [...txs].map(([txId, commit]) => ({ txId, commit })));
  }

  /** What flush held back, now no longer held (its timer stopped). */
  private takeDeferred(): CoordinatorOutput[] {
    const held = this.deferred;
    this.deferred = [];
    clearTimeout(this.deferTimer);
    this.deferTimer = undefined;
    return held;
  }

  private orderRecord(txId: string): CoordinatorOutputOrder | undefined {
    const order = this.orders.get(txId)?.record;
    if (!order) return undefined;
    return {
      shippingMethod: order.shippingMethod,
      customerName: order.customerName,
      maskedCard: order.maskedCard,
      items: order.items.map((i) => ({ name: i.name, quantity: i.quantity })),
      traceparent: order.traceparent,
      amountCents: order.amountCents,
    };
  }

  private async prepare(participant: Participant, txIds: string[], term: number): Promise<void> {
    const txs = txIds.flatMap((id) => this.orders.get(id) ?? []);
    const call = this.batchSpan(`two-phase: prepare batch → ${participant}`, txs.length);
    for (const tx of txs) this.phaseSent(tx.txId, `prepare → ${participant}`, call.spanContext());
    try {
      const votes = await context.with(trace.setSpan(ROOT_CONTEXT, call), () => this.participants[participant].prepare(txs, term));
      const now = this.now();
      txs.forEach((tx, i) => {
        this.phaseAnswered(tx.txId, `${participant} voted`, { vote: voteName(votes[i]) });
        this.core.voted(tx.txId, participant, votes[i], term, now);
      });
    } catch (err) {
      // Sent again after retryMs (Prepare is idempotent); no vote by prepareTimeoutMs aborts (PARTICIPANT_UNAVAILABLE).
      this.fail(call, err as Error);
      this.logger.warn(`prepare at ${participant} failed for ${txs.length} transactions, retrying: ${(err as Error).message}`);
    }
    call.end();
    this.flush();
  }

  private async finish(participant: Participant, txs: { txId: string; commit: boolean }[]): Promise<void> {
    const call = this.batchSpan(`two-phase: finish batch → ${participant}`, txs.length);
    for (const tx of txs) this.phaseSent(tx.txId, `finish → ${participant}`, call.spanContext());
    try {
      const states = await context.with(trace.setSpan(ROOT_CONTEXT, call), () => this.participants[participant].finish(txs));
      const now = this.now();
      txs.forEach((tx, i) => {
        this.phaseAnswered(tx.txId, `${participant} finished`, { state: states[i] });
        this.core.finishAcked(tx.txId, participant, states[i], now);
      });
    } catch (err) {
      // The core sends it again after retryMs: a decision, once logged, is delivered however long it takes.
      this.fail(call, err as Error);
      this.logger.warn(`finish at ${participant} failed for ${txs.length} transactions, retrying: ${(err as Error).message}`);
    }
    call.end();
    this.flush();
  }

  private batchSpan(name: string, count: number): Span {
    return tracer.startSpan(name, { attributes: { 'transactions.count': count } }, ROOT_CONTEXT);
  }

  private fail(span: Span, err: Error): void {
    span.recordException(err);
    span.setStatus({ code: SpanStatusCode.ERROR, message: err.message });
  }

  /** A phase went out in a batch call: an event on the transaction's span, and a link to that call's span. */
  private phaseSent(txId: string, name: string, call: SpanContext): void {
    let traced = this.traced.get(txId);
    if (!traced) {
      // A decided transaction this leader did not prepare (its predecessor crashed before finishing it).
      const span = tracer.startSpan(
        'two-phase commit: finish after failover',
        { attributes: { 'order.id': txId, 'raft.term': this.core.currentTerm ?? 0, 'executor.id': this.options.id } },
        ROOT_CONTEXT,
      );
      traced = { span, startedAt: this.now() };
      this.traced.set(txId, traced);
    }
    traced.span.addEvent(name);
    traced.span.addLinks(linkToSpan(call, { 'causeway.link': 'participant call', 'causeway.phase': name }));
  }

  private phaseAnswered(txId: string, name: string, attributes: Record<string, string>): void {
    this.traced.get(txId)?.span.addEvent(name, attributes);
  }

  /** Spans of transactions this node no longer drives end here; the next leader's recovery carries on. */
  private endAll(why: string): void {
    for (const traced of this.traced.values()) {
      traced.span.setAttribute('commit.handover', why);
      traced.span.end();
    }
    this.traced.clear();
    this.orders.clear();
    // Held-back Finishes and completions of the term that ended: the core forgot them, the next leader re-sends.
    this.takeDeferred();
    this.wakeRoomWaiters();
  }
}

type CoordinatorOutputOrder = Parameters<typeof decisionEntry>[2];
type CoordinatorOutput = ReturnType<Coordinator['ready']>[number];

const voteName = (vote: Vote): string => (vote.kind === 'yes' ? 'YES' : vote.kind === 'no' ? vote.reason : 'STALE_TERM');

const prefixed = (prefix: string, states: Record<string, string | undefined>): Record<string, string> =>
  Object.fromEntries(Object.entries(states).flatMap(([k, v]) => (v === undefined ? [] : [[prefix + k, v]])));
