/**
 * The coordinator's rules one by one (the simulation in coordinator.sim.test.ts checks them together under faults).
 */
import { ExecutionLedger } from '../execution-ledger';
import { Coordinator, type CoordinatorOutput } from './coordinator';
import { decisionEntry, decisionLogOf, finishedEntry } from './log-entries';

const OPTIONS = { prepareTimeoutMs: 1000, retryMs: 200, proposeRetryMs: 500 };
const YES = { kind: 'yes' } as const;

function setup() {
  const ledger = new ExecutionLedger();
  const core = new Coordinator(decisionLogOf(ledger), OPTIONS);
  let index = 0;
  /** Commits and applies a proposal, as the Raft log would, and tells the core. */
  const apply = (out: CoordinatorOutput, term = 2) => {
    const data = out.type === 'propose-decision' ? decisionEntry(out, 'executor-1', undefined) : finishedEntry(out as Extract<CoordinatorOutput, { type: 'propose-finished' }>, 'executor-1');
    const applied = ledger.apply({ term, index: ++index, type: 'command', data });
    if (applied.kind === 'finished') core.finishedApplied(applied.orderId);
    else if (applied.kind !== 'noop') core.decisionApplied(applied.command.orderId, applied.execution.commit!.decision, 0);
  };
  return { ledger, core, apply };
}

const types = (outs: CoordinatorOutput[]) => outs.map((o) => ('participant' in o ? `${o.type} ${o.participant}` : o.type));

describe('Coordinator', () => {
  it('prepares at both participants at once, fenced by its term', () => {
    const { core } = setup();
    core.lead(2, 0);
    expect(core.begin('o1', 0)).toBe('started');
    expect(core.ready()).toEqual([
      { type: 'prepare', participant: 'books-database', txId: 'o1', term: 2 },
      { type: 'prepare', participant: 'payment', txId: 'o1', term: 2 },
    ]);
    expect(core.begin('o1', 1)).toBe('busy');
    expect(core.ready()).toEqual([]);
  });

  it('decides commit only when both vote yes, and sends no Finish before the decision is applied', () => {
    const { core, apply } = setup();
    core.lead(2, 0);
    core.begin('o1', 0);
    core.ready();
    core.voted('o1', 'books-database', YES, 2, 1);
    expect(core.ready()).toEqual([]);
    core.voted('o1', 'payment', YES, 2, 2);
    const [proposal, ...rest] = core.ready();
    expect(rest).toEqual([]);
    expect(proposal).toMatchObject({ type: 'propose-decision', txId: 'o1', decision: 'commit', votes: { 'books-database': 'YES', payment: 'YES' }, presumed: false });
    // Time passes, the entry has not applied: still no Finish, only the proposal again.
    core.tick(600);
    expect(types(core.ready())).toEqual(['propose-decision']);
    apply(proposal);
    expect(core.ready()).toEqual([
      { type: 'finish', participant: 'books-database', txId: 'o1', commit: true },
      { type: 'finish', participant: 'payment', txId: 'o1', commit: true },
    ]);
  });

  it('decides abort on the first refusal, with its reason, and ignores the late vote', () => {
    const { core, apply } = setup();
    core.lead(2, 0);
    core.begin('o1', 0);
    core.ready();
    core.voted('o1', 'payment', { kind: 'no', reason: 'PAYMENT_DECLINED', detail: 'declined' }, 2, 1);
    const [proposal] = core.ready();
    expect(proposal).toMatchObject({ decision: 'abort', reason: 'PAYMENT_DECLINED', detail: 'declined', votes: { 'books-database': 'UNAVAILABLE', payment: 'PAYMENT_DECLINED' } });
    core.voted('o1', 'books-database', YES, 2, 2);
    expect(core.ready()).toEqual([]);
    apply(proposal);
    expect(core.ready().map((o) => o.type === 'finish' && o.commit)).toEqual([false, false]);
  });

  it('asks again for a missing vote, and aborts a transaction whose votes do not all come in time (PARTICIPANT_UNAVAILABLE)', () => {
    const { core } = setup();
    core.lead(2, 0);
    core.begin('o1', 0);
    core.ready();
    core.voted('o1', 'books-database', YES, 2, 10);
    core.tick(199);
    expect(core.ready()).toEqual([]);
    core.tick(200);
    expect(core.ready()).toEqual([{ type: 'prepare', participant: 'payment', txId: 'o1', term: 2 }]);
    core.tick(999);
    expect(types(core.ready())).toEqual(['prepare payment']);
    core.tick(1000);
    expect(core.ready()).toEqual([
      expect.objectContaining({ type: 'propose-decision', decision: 'abort', reason: 'PARTICIPANT_UNAVAILABLE', votes: { 'books-database': 'YES', payment: 'UNAVAILABLE' } }),
    ]);
  });

  it('ignores votes on a Prepare of another term, and decides nothing once a participant reports a newer term', () => {
    const { core } = setup();
    core.lead(2, 0);
    core.begin('o1', 0);
    core.ready();
    core.voted('o1', 'books-database', YES, 1, 1);
    core.voted('o1', 'payment', YES, 2, 1);
    expect(core.ready()).toEqual([]);
    core.voted('o1', 'books-database', { kind: 'stale' }, 2, 2);
    core.tick(5000);
    core.tick(10000);
    expect(core.ready()).toEqual([]);
    expect(core.progress('o1')).toBeUndefined();
  });

  it('sends Finish again until each participant acknowledges, then logs the completion', () => {
    const { core, apply, ledger } = setup();
    core.lead(2, 0);
    core.begin('o1', 0);
    core.ready();
    core.voted('o1', 'books-database', YES, 2, 0);
    core.voted('o1', 'payment', YES, 2, 0);
    apply(core.ready()[0]);
    core.ready();
    core.finishAcked('o1', 'books-database', 'committed', 50);
    core.tick(199);
    expect(core.ready()).toEqual([]);
    core.tick(200);
    expect(core.ready()).toEqual([{ type: 'finish', participant: 'payment', txId: 'o1', commit: true }]);
    core.finishAcked('o1', 'payment', 'captured', 250);
    const [completion] = core.ready();
    expect(completion).toEqual({
      type: 'propose-finished',
      txId: 'o1',
      states: { 'books-database': 'committed', payment: 'captured' },
      finishedAt: { 'books-database': 50, payment: 250 },
    });
    apply(completion);
    expect(ledger.unfinished()).toEqual([]);
    expect(core.progress('o1')).toBeUndefined();
    expect(core.inFlight()).toEqual({ preparing: 0, deciding: 0, finishing: 0, completing: 0 });
  });

  it('logs when prepare began, each vote came, the decision was proposed and each Finish was acknowledged', () => {
    const { core, apply, ledger } = setup();
    core.lead(2, 1_000);
    core.begin('o1', 1_010);
    core.ready();
    core.voted('o1', 'payment', YES, 2, 1_030);
    core.voted('o1', 'books-database', YES, 2, 1_045);
    const [decision] = core.ready();
    expect(decision).toMatchObject({ type: 'propose-decision', times: { prepareStartedAt: 1_010, votedAt: { payment: 1_030, 'books-database': 1_045 }, decidedAt: 1_045 } });
    // Proposed again (not applied in time): the times stay those of the first proposal.
    core.tick(1_045 + 10_000);
    const [again] = core.ready();
    expect(again).toMatchObject({ type: 'propose-decision', times: { prepareStartedAt: 1_010, decidedAt: 1_045 } });
    apply(decision);
    core.ready();
    core.finishAcked('o1', 'books-database', 'committed', 1_070);
    core.finishAcked('o1', 'payment', 'captured', 1_090);
    apply(core.ready()[0]);
    expect(ledger.get('o1')?.commit?.times).toEqual({
      prepareStartedAt: 1_010,
      votedAt: { payment: 1_030, 'books-database': 1_045 },
      decidedAt: 1_045,
      finishedAt: { 'books-database': 1_070, payment: 1_090 },
    });
  });

  it('times a presumed abort by its decision alone (there was no prepare)', () => {
    const { core } = setup();
    core.lead(2, 0);
    core.getDecision('o9', 500);
    expect(core.ready()).toEqual([expect.objectContaining({ type: 'propose-decision', presumed: true, times: { decidedAt: 500 } })]);
  });

  it('as a new leader, sends Finish for every decided, unfinished transaction of its predecessors', () => {
    const { core, apply } = setup();
    core.lead(2, 0);
    core.begin('o1', 0);
    core.ready();
    core.voted('o1', 'books-database', { kind: 'no', reason: 'OUT_OF_STOCK' }, 2, 0);
    apply(core.ready()[0]);
    core.ready();
    core.stepDown(); // crashed before any Finish was acknowledged
    core.lead(3, 10);
    expect(core.ready()).toEqual([
      { type: 'finish', participant: 'books-database', txId: 'o1', commit: false },
      { type: 'finish', participant: 'payment', txId: 'o1', commit: false },
    ]);
    // Leased again (its ack was lost): the log has the decision, the consumer just acks.
    expect(core.begin('o1', 11)).toBe('decided');
  });

  it('answers GetDecision: the logged decision; pending while driving; otherwise an abort, logged before it is answered', () => {
    const { core, apply } = setup();
    expect(core.getDecision('o1', 0)).toEqual({ kind: 'not-leader' });
    core.lead(2, 0);
    core.begin('o1', 0);
    core.ready();
    expect(core.getDecision('o1', 1)).toEqual({ kind: 'pending' });

    expect(core.getDecision('o2', 1)).toEqual({ kind: 'await' });
    const [presumed] = core.ready();
    expect(presumed).toMatchObject({ type: 'propose-decision', txId: 'o2', decision: 'abort', reason: 'COORDINATOR_TIMEOUT', presumed: true });
    expect(core.getDecision('o2', 2)).toEqual({ kind: 'await' });
    expect(core.ready()).toEqual([]);
    // The order shows up afterwards (its lease was redelivered): not prepared, the abort stands.
    expect(core.begin('o2', 3)).toBe('busy');
    apply(presumed);
    expect(core.getDecision('o2', 4)).toEqual({ kind: 'decided', decision: 'abort', reason: 'COORDINATOR_TIMEOUT' });
    expect(core.begin('o2', 5)).toBe('decided');
    expect(types(core.ready())).toEqual(['finish books-database', 'finish payment']);
  });

  it('forgets everything volatile when it steps down, and refuses to begin while not leading', () => {
    const { core } = setup();
    expect(core.begin('o1', 0)).toBe('not-leader');
    core.lead(2, 0);
    core.begin('o1', 0);
    core.stepDown();
    expect(core.ready()).toEqual([]);
    core.voted('o1', 'books-database', YES, 2, 1);
    expect(core.ready()).toEqual([]);
    expect(core.leading).toBe(false);
  });
});
