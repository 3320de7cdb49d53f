import type { Logger } from '../platform/logger';
import type { DecisionSource } from '../order-executor-client/decision-source';
import { CooperativeTermination, type TerminationAnswer } from './termination';

/**
 * Cooperative termination with a fake executor cluster (each question answered by hand), a fake clock and a fake
 * replica: only the leader asks, only after the timeout, again after "pending" or a failure, and what it learns is
 * proposed as a Finish.
 */

type Answer = Awaited<ReturnType<DecisionSource['decision']>>;

function setup() {
  const clock = { t: 1_000, now: () => clock.t };
  const replica = { leader: true, prepared: [] as string[], finished: [] as [string, boolean][], finishFails: false };
  const questions: { txId: string; participant: string; answer: (a: Answer) => void; fail: (e: Error) => void }[] = [];
  const decisions: DecisionSource = {
    decision: (txId, participant) => new Promise((answer, fail) => questions.push({ txId, participant, answer, fail })),
  };
  const lines: string[] = [];
  const logger = { info: (m: string) => lines.push(m), warn: (m: string) => lines.push(m), error: (m: string) => lines.push(m), debug: () => {} } as unknown as Logger;
  const answers: TerminationAnswer[] = [];
  const termination = new CooperativeTermination(
    {
      prepared: () => replica.prepared.map((txId) => ({ txId })),
      isLeader: () => replica.leader,
      finish: async (txId, commit) => {
        if (replica.finishFails) throw new Error('NOT_LEADER');
        replica.finished.push([txId, commit]);
        replica.prepared = replica.prepared.filter((t) => t !== txId);
      },
    },
    decisions,
    clock,
    { timeoutMs: 10_000, retryMs: 2_000, participant: 'books-database' },
    logger,
    (a) => answers.push(a),
  );
  /** A round, with its questions answered (or not) by `respond` before it settles. */
  const round = async (respond?: () => void) => {
    const done = termination.check();
    await Promise.resolve();
    respond?.();
    await done;
  };
  return { clock, replica, questions, termination, round, lines, answers };
}

describe('CooperativeTermination', () => {
  it('asks nothing before the timeout, then asks the executors and proposes the commit they logged', async () => {
    const t = setup();
    t.replica.prepared = ['t1'];
    await t.round();
    t.clock.t += 9_999;
    await t.round();
    expect(t.questions).toHaveLength(0);
    t.clock.t += 1;
    await t.round(() => t.questions[0].answer({ decision: 'commit' }));
    expect(t.questions.map((q) => [q.txId, q.participant])).toEqual([['t1', 'books-database']]);
    expect(t.replica.finished).toEqual([['t1', true]]);
    expect(t.answers).toEqual(['commit']);
    expect(t.termination.watched).toBe(0);
    expect(t.lines.some((l) => l.includes('t1 committed by cooperative termination'))).toBe(true);
  });

  it('asks again after "pending" (and after a failure) only once the retry interval has passed, and proposes an abort', async () => {
    const t = setup();
    t.replica.prepared = ['t1'];
    await t.round();
    t.clock.t += 10_000;
    await t.round(() => t.questions[0].answer({ decision: 'pending' }));
    expect(t.replica.finished).toEqual([]);
    t.clock.t += 1_999;
    await t.round();
    expect(t.questions).toHaveLength(1);
    t.clock.t += 1;
    await t.round(() => t.questions[1].fail(new Error('UNAVAILABLE')));
    t.clock.t += 2_000;
    await t.round(() => t.questions[2].answer({ decision: 'abort', reason: 'COORDINATOR_TIMEOUT' }));
    expect(t.replica.finished).toEqual([['t1', false]]);
    expect(t.answers).toEqual(['pending', 'error', 'abort']);
  });

  it('does not ask a second time while a question is outstanding', async () => {
    const t = setup();
    t.replica.prepared = ['t1'];
    await t.round();
    t.clock.t += 10_000;
    const first = t.termination.check();
    t.clock.t += 5_000;
    await t.termination.check();
    expect(t.questions).toHaveLength(1);
    t.questions[0].answer({ decision: 'commit' });
    await first;
    expect(t.replica.finished).toEqual([['t1', true]]);
  });

  it('only on the leader: a follower asks nothing, and a new leader counts the timeout from when it leads', async () => {
    const t = setup();
    t.replica.prepared = ['t1'];
    t.replica.leader = false;
    await t.round();
    t.clock.t += 60_000;
    await t.round();
    expect(t.questions).toHaveLength(0);
    t.replica.leader = true;
    await t.round();
    expect(t.questions).toHaveLength(0);
    t.clock.t += 10_000;
    await t.round(() => t.questions[0].answer({ decision: 'commit' }));
    expect(t.replica.finished).toEqual([['t1', true]]);
  });

  it('forgets a transaction decided meanwhile by the coordinator, and keeps asking when its finish cannot be proposed', async () => {
    const t = setup();
    t.replica.prepared = ['t1', 't2'];
    await t.round();
    t.replica.prepared = ['t2'];
    t.clock.t += 10_000;
    t.replica.finishFails = true;
    await t.round(() => t.questions[0].answer({ decision: 'commit' }));
    expect(t.questions.map((q) => q.txId)).toEqual(['t2']);
    expect(t.replica.finished).toEqual([]);
    expect(t.termination.watched).toBe(1);
    t.replica.finishFails = false;
    t.clock.t += 2_000;
    await t.round(() => t.questions[1].answer({ decision: 'commit' }));
    expect(t.replica.finished).toEqual([['t2', true]]);
  });
});
