/**
 * The coordinator's I/O (driver.ts) and GetDecision as the executor's gRPC service answers it, with the Raft
 * driver and the participants answered by the test.
 */
import 'reflect-metadata';
import { ServerError, Status } from 'nice-grpc';
import type { QueuedOrder } from '../../gen/causeway/v1/order_queue';
import { createLogger } from '../../platform/logger';
import type { RaftDriver } from '../../platform/raft-host/driver';
import type { RaftStatus } from '../../raft/node';
import { decodeCommand, decodeEntryCommand, ExecutionLedger } from '../execution-ledger';
import { ExecutorMetrics } from '../metrics';
import { OrderExecutorService } from '../service';
import { TwoPhaseCommit, type TwoPhaseOptions } from './driver';
import type { TwoPhaseParticipant, TxOrder } from './participants';
import type { Participant, Vote } from './types';

class FakeRaft {
  role: RaftStatus['role'] = 'leader';
  term = 3;
  leader: string | null = 'executor-1';
  serving = true;
  readonly proposed: string[] = [];

  status() {
    return { role: this.role, term: this.term, leader: this.leader } as RaftStatus;
  }
  isServingLeader() {
    return this.role === 'leader' && this.serving;
  }
  propose(commands: readonly string[]) {
    if (this.role !== 'leader') return undefined;
    this.proposed.push(...commands);
    return commands.map((_, i) => i + 1);
  }
}

/** A participant answered by the test: votes by tx id (yes unless told), calls recorded. */
class FakeParticipant implements TwoPhaseParticipant {
  readonly prepares: { txIds: string[]; term: number }[] = [];
  readonly finishes: { txId: string; commit: boolean }[][] = [];
  votes = new Map<string, Vote>();
  down = false;

  constructor(readonly name: Participant) {}

  async prepare(txs: readonly TxOrder[], term: number): Promise<Vote[]> {
    this.prepares.push({ txIds: txs.map((t) => t.txId), term });
    if (this.down) throw new Error('connection refused');
    return txs.map((t) => this.votes.get(t.txId) ?? { kind: 'yes' });
  }

  /** warm() calls, and those that succeeded. */
  warms = 0;
  warmed = 0;

  async warm(): Promise<void> {
    this.warms++;
    if (this.down) throw new Error('connection refused');
    this.warmed++;
  }

  async finish(txs: readonly { txId: string; commit: boolean }[]): Promise<string[]> {
    this.finishes.push([...txs]);
    if (this.down) throw new Error('connection refused');
    return txs.map((t) => (t.commit ? 'committed' : 'aborted'));
  }
}

const order = (orderId: string): QueuedOrder => ({
  orderId,
  shippingMethod: 'Standard',
  items: [{ name: 'Dune', quantity: 1 }],
  customerName: 'John Doe',
  maskedCard: '**** 4444',
  traceparent: '',
  enqueuedAtMs: 0,
  paymentToken: 'tok_1',
  amountCents: 1299,
});

const until = async (what: string, condition: () => boolean, timeoutMs = 2000) => {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 1));
  }
};

describe('two-phase commit driver and GetDecision', () => {
  let raft: FakeRaft;
  let ledger: ExecutionLedger;
  let books: FakeParticipant;
  let payment: FakeParticipant;
  let twoPhase: TwoPhaseCommit;
  let service: OrderExecutorService;
  let applied: number;

  /** Commits and applies everything proposed so far, in order, as the Raft log would. */
  const applyProposed = () => {
    while (applied < raft.proposed.length) {
      const data = raft.proposed[applied++];
      twoPhase.applied(ledger.apply({ term: raft.term, index: applied, type: 'command', data }));
    }
  };

  /** The driver under test over this test's fakes; `options` replace the defaults below. */
  const coordinator = (options: Partial<TwoPhaseOptions> = {}) =>
    new TwoPhaseCommit(
      raft as unknown as RaftDriver,
      ledger,
      books,
      payment,
      { id: 'executor-1', prepareTimeoutMs: 300, retryMs: 50, proposeRetryMs: 5000, tickMs: 10, decisionWaitMs: 500, ...options },
      new ExecutorMetrics('executor-1', () => raft.status(), () => undefined),
      createLogger('test', 'error'),
    );

  beforeEach(() => {
    raft = new FakeRaft();
    ledger = new ExecutionLedger();
    books = new FakeParticipant('books-database');
    payment = new FakeParticipant('payment');
    applied = 0;
    twoPhase = coordinator();
    service = new OrderExecutorService(raft as unknown as RaftDriver, ledger, { self: 'executor-1', peers: ['executor-1', 'executor-2', 'executor-3'] }, twoPhase);
  });
  afterEach(() => twoPhase.stop());

  it('prepares at both participants fenced by the term, sends Finish only once the decision applies, then logs the completion', async () => {
    expect(twoPhase.begin(order('o1'), 3)).toBe('started');
    await until('the decision proposed', () => raft.proposed.length === 1);
    expect(books.prepares).toEqual([{ txIds: ['o1'], term: 3 }]);
    expect(payment.prepares).toEqual([{ txIds: ['o1'], term: 3 }]);
    const decision = decodeCommand(raft.proposed[0]);
    expect(decision).toMatchObject({ orderId: 'o1', leader: 'executor-1', customerName: 'John Doe', outcome: { state: 'executed' }, commit: { decision: 'commit', term: 3 } });
    // The decision went out in the same turn as the last vote came in: a Finish sent with it would be recorded now.
    expect(books.finishes).toEqual([]);
    expect(payment.finishes).toEqual([]);

    applyProposed();
    await until('both finishes and the completion', () => raft.proposed.length === 2);
    expect(books.finishes).toEqual([[{ txId: 'o1', commit: true }]]);
    expect(payment.finishes).toEqual([[{ txId: 'o1', commit: true }]]);
    applyProposed();
    expect(ledger.get('o1')?.commit).toMatchObject({ decision: 'commit', finished: true, participants: { 'books-database': 'committed', payment: 'committed' } });
    expect(ledger.unfinished()).toEqual([]);
    // What GET /orders/:id reads: the decision with the participants' states.
    const { executions } = await service.executions({ orderIds: ['o1'] });
    expect(executions[0]).toMatchObject({
      orderId: 'o1',
      failureCode: '',
      commit: { decision: 'commit', reason: '', participants: { 'books-database': 'committed', payment: 'committed' }, coordinator: 'executor-1', term: 3, finished: true },
    });
  });

  it('warms both participants up at start, on any replica, and keeps trying one that cannot be reached yet', async () => {
    raft.role = 'follower';
    payment.down = true;
    twoPhase.start();
    await until('books warmed up, payment tried twice', () => books.warmed === 1 && payment.warms >= 2, 3000);
    expect(payment.warmed).toBe(0);
    payment.down = false;
    await until('payment warmed up once it answers', () => payment.warmed === 1, 3000);
    expect(books.warms).toBe(1);
  });

  it('holds Finishes and completions back (finishDelayMs) to share the next Prepares and decisions, or sends them when the delay runs out', async () => {
    twoPhase.stop();
    twoPhase = coordinator({ retryMs: 5000, finishDelayMs: 150 });
    twoPhase.begin(order('o1'), 3);
    await until('the decision of o1 proposed', () => raft.proposed.length === 1);
    applyProposed();
    // o1's Finish waits; o2's Prepare comes along and both go out in the same turn, one call each.
    twoPhase.begin(order('o2'), 3);
    await until("o2's Prepare", () => books.prepares.length === 2);
    expect(books.finishes).toEqual([[{ txId: 'o1', commit: true }]]);
    expect(payment.finishes).toEqual([[{ txId: 'o1', commit: true }]]);
    // o2's decision, and o1's completion (with it, or after the delay when the acknowledgements came later).
    await until("o2's decision and o1's completion", () => raft.proposed.length === 3);
    const entries = raft.proposed.slice(1).map((data) => decodeEntryCommand(data));
    expect(entries.map((e) => ('finished' in e ? `finished ${e.finished}` : `decision ${e.orderId}`)).sort()).toEqual(['decision o2', 'finished o1']);
    // Nothing newer comes: o2's Finish goes out when the delay runs out.
    const decidedAt = Date.now();
    applyProposed();
    await until("o2's Finish", () => books.finishes.length === 2, 2000);
    expect(Date.now() - decidedAt).toBeGreaterThanOrEqual(140);
    expect(books.finishes[1]).toEqual([{ txId: 'o2', commit: true }]);
  });

  it('asks again while a participant cannot be reached, aborts at the deadline, and keeps sending Finish until it answers', async () => {
    payment.down = true;
    twoPhase.start();
    twoPhase.begin(order('o1'), 3);
    await until('the decision proposed', () => raft.proposed.length === 1);
    expect(payment.prepares.length).toBeGreaterThan(1);
    expect(books.prepares.length).toBe(1);
    expect(decodeCommand(raft.proposed[0]).commit).toMatchObject({ decision: 'abort', reason: 'PARTICIPANT_UNAVAILABLE' });
    applyProposed();
    await until('Finish retried at payment', () => payment.finishes.length >= 2);
    expect(raft.proposed.length).toBe(1);
    payment.down = false;
    await until('the completion', () => raft.proposed.length === 2);
    expect(books.finishes.flat().every((f) => !f.commit)).toBe(true);
  });

  it("prepares the orders of one lease in one call per participant", async () => {
    for (const id of ['o1', 'o2', 'o3']) twoPhase.begin(order(id), 3);
    await until('the decisions proposed', () => raft.proposed.length === 3);
    expect(books.prepares).toEqual([{ txIds: ['o1', 'o2', 'o3'], term: 3 }]);
    expect(payment.prepares).toEqual([{ txIds: ['o1', 'o2', 'o3'], term: 3 }]);
  });

  it('GetDecision on a follower points at the leader', async () => {
    raft.role = 'follower';
    raft.leader = 'executor-2';
    await expect(service.getDecision({ txId: 'o1', participant: 'payment' })).rejects.toEqual(new ServerError(Status.FAILED_PRECONDITION, 'NOT_LEADER leader=executor-2'));
    raft.leader = null;
    await expect(service.getDecision({ txId: 'o1', participant: 'payment' })).rejects.toMatchObject({ code: Status.FAILED_PRECONDITION, details: 'NOT_LEADER leader=' });
  });

  it('GetDecision refuses bad input, and says UNIMPLEMENTED when two-phase commit is off', async () => {
    await expect(service.getDecision({ txId: '', participant: 'payment' })).rejects.toMatchObject({ code: Status.INVALID_ARGUMENT });
    await expect(service.getDecision({ txId: 'o1', participant: 'bank' })).rejects.toMatchObject({ code: Status.INVALID_ARGUMENT, details: expect.stringContaining('"bank"') });
    const off = new OrderExecutorService(raft as unknown as RaftDriver, ledger, { self: 'executor-1', peers: ['executor-1'] }, undefined);
    await expect(off.getDecision({ txId: 'o1', participant: 'payment' })).rejects.toMatchObject({ code: Status.UNIMPLEMENTED });
  });

  it('GetDecision answers the logged decision, and pending while the leader drives the transaction', async () => {
    books.votes.set('o1', { kind: 'no', reason: 'OUT_OF_STOCK', detail: 'bk-001' });
    twoPhase.begin(order('o1'), 3);
    twoPhase.begin(order('o2'), 3);
    // Both decided at once, but nothing is applied yet: still the leader's to finish.
    await until('the decisions proposed', () => raft.proposed.length === 2);
    await expect(service.getDecision({ txId: 'o1', participant: 'payment' })).resolves.toEqual({ decision: 'pending', reason: '', term: 3 });
    applyProposed();
    await expect(service.getDecision({ txId: 'o1', participant: 'payment' })).resolves.toEqual({ decision: 'abort', reason: 'OUT_OF_STOCK', term: 3 });
    await expect(service.getDecision({ txId: 'o2', participant: 'books-database' })).resolves.toEqual({ decision: 'commit', reason: '', term: 3 });
  });

  it('GetDecision for a transaction nobody drives logs an abort first, then answers it (presumed abort)', async () => {
    const answer = service.getDecision({ txId: 'o9', participant: 'books-database' });
    // Answered only once the abort is in the ledger.
    const loggedWhenAnswered = answer.then(() => ledger.get('o9')?.commit?.decision);
    await until('the abort proposed', () => raft.proposed.length === 1);
    expect(decodeCommand(raft.proposed[0])).toMatchObject({ orderId: 'o9', commit: { decision: 'abort', reason: 'COORDINATOR_TIMEOUT' }, items: [] });
    // Let everything already able to run finish (an answer given too early would be seen below), then apply.
    await new Promise((r) => setImmediate(r));
    applyProposed();
    await expect(answer).resolves.toEqual({ decision: 'abort', reason: 'COORDINATOR_TIMEOUT', term: 3 });
    await expect(loggedWhenAnswered).resolves.toBe('abort');
    // The order's lease, delivered afterwards, is acked rather than prepared.
    expect(twoPhase.begin(order('o9'), 3)).toBe('decided');
    expect(books.prepares).toEqual([]);
  });

  it('GetDecision answers pending from a leader that has not yet applied an entry of its own term', async () => {
    raft.serving = false;
    await expect(service.getDecision({ txId: 'o1', participant: 'payment' })).resolves.toEqual({ decision: 'pending', reason: '', term: 3 });
    expect(raft.proposed).toEqual([]);
  });
});
