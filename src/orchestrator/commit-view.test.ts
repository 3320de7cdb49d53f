import { commitRecordFromWire, commitTimeline, commitView, paymentView, type CommitRecord } from './commit-view';

const committed: CommitRecord = {
  decision: 'commit',
  participants: { 'books-database': 'committed', payment: 'captured' },
  votes: { 'books-database': 'YES', payment: 'YES' },
  coordinator: 'executor-1',
  term: 4,
  finished: true,
  prepareStartedMs: 10_000,
  votedMs: { 'books-database': 10_021, payment: 10_008 },
  decidedMs: 10_021,
  finishedMs: { 'books-database': 10_040, payment: 10_033 },
  amountCents: 3_198,
};

describe('the commit view of GET /orders/:id', () => {
  it('lays out prepare, each vote, the decision and each commit in time order, relative to prepare', () => {
    expect(commitTimeline(committed)).toEqual([
      { step: 'prepare', outcome: 'sent', at: 10_000, sinceStartMs: 0 },
      { step: 'vote', participant: 'payment', outcome: 'YES', at: 10_008, sinceStartMs: 8 },
      { step: 'vote', participant: 'books-database', outcome: 'YES', at: 10_021, sinceStartMs: 21 },
      // Same millisecond as the vote that decided it: the protocol's order is kept.
      { step: 'decision', outcome: 'commit', at: 10_021, sinceStartMs: 21 },
      { step: 'commit', participant: 'payment', outcome: 'captured', at: 10_033, sinceStartMs: 33 },
      { step: 'commit', participant: 'books-database', outcome: 'committed', at: 10_040, sinceStartMs: 40 },
    ]);
    expect(commitView(committed)).toEqual({
      decision: 'commit',
      participants: { 'books-database': 'committed', payment: 'captured' },
      coordinator: 'executor-1',
      term: 4,
      finished: true,
      timeline: commitTimeline(committed),
    });
    expect(paymentView(committed)).toEqual({ status: 'captured', amountCents: 3_198 });
  });

  it('shows a declined card as declined from its vote on, and the abort steps once finished', () => {
    const deciding: CommitRecord = {
      decision: 'abort',
      reason: 'PAYMENT_DECLINED',
      // Payment's "no" decided it before the books database answered: nobody waited for that vote.
      participants: { 'books-database': 'UNAVAILABLE', payment: 'PAYMENT_DECLINED' },
      coordinator: 'executor-1',
      term: 4,
      finished: false,
      prepareStartedMs: 5,
      votedMs: { payment: 9 },
      decidedMs: 9,
      amountCents: 1_299,
    };
    expect(paymentView(deciding)).toEqual({ status: 'declined', amountCents: 1_299 });
    expect(commitTimeline(deciding).map((s) => `${s.step} ${s.participant ?? ''} ${s.outcome}`.replace('  ', ' '))).toEqual([
      'prepare sent',
      'vote payment PAYMENT_DECLINED',
      'decision abort',
    ]);
    const done: CommitRecord = {
      ...deciding,
      finished: true,
      votes: deciding.participants,
      participants: { 'books-database': 'aborted', payment: 'declined' },
      finishedMs: { 'books-database': 20, payment: 18 },
    };
    expect(commitView(done)).toMatchObject({ reason: 'PAYMENT_DECLINED', participants: { 'books-database': 'aborted', payment: 'declined' } });
    expect(commitTimeline(done).slice(-2)).toEqual([
      { step: 'abort', participant: 'payment', outcome: 'declined', at: 18, sinceStartMs: 13 },
      { step: 'abort', participant: 'books-database', outcome: 'aborted', at: 20, sinceStartMs: 15 },
    ]);
  });

  it('places a vote that never came at the deadline that decided the abort; payment pending until told', () => {
    const timedOut: CommitRecord = {
      decision: 'abort',
      reason: 'PARTICIPANT_UNAVAILABLE',
      participants: { 'books-database': 'YES', payment: 'UNAVAILABLE' },
      coordinator: 'executor-3',
      term: 2,
      finished: false,
      prepareStartedMs: 100,
      votedMs: { 'books-database': 110 },
      decidedMs: 2_100,
      amountCents: 500,
    };
    expect(commitTimeline(timedOut).find((s) => s.participant === 'payment')).toEqual({ step: 'vote', participant: 'payment', outcome: 'UNAVAILABLE', at: 2_100, sinceStartMs: 2_000 });
    expect(paymentView(timedOut)).toEqual({ status: 'pending', amountCents: 500 });
  });

  it('has no timeline for a commit logged before times were recorded, and no payment without an amount', () => {
    const { prepareStartedMs: _p, votedMs: _v, decidedMs: _d, finishedMs: _f, amountCents: _a, ...untimed } = committed;
    expect(commitView(untimed).timeline).toEqual([]);
    expect(paymentView(untimed)).toBeUndefined();
  });

  it('reads the wire form, where 0 and empty maps mean "not recorded"', () => {
    const wire = {
      decision: 'abort',
      reason: 'COORDINATOR_TIMEOUT',
      participants: {},
      votes: {},
      coordinator: 'executor-2',
      term: 7,
      finished: false,
      prepareStartedMs: 0,
      votedMs: {},
      decidedMs: 4_000,
      finishedMs: {},
      amountCents: 0,
    };
    expect(commitRecordFromWire(wire)).toEqual({
      decision: 'abort',
      reason: 'COORDINATOR_TIMEOUT',
      participants: {},
      coordinator: 'executor-2',
      term: 7,
      finished: false,
      decidedMs: 4_000,
    });
    // A presumed abort: no prepare, so the timeline starts at the decision.
    expect(commitTimeline(commitRecordFromWire(wire))).toEqual([{ step: 'decision', outcome: 'abort', at: 4_000, sinceStartMs: 0 }]);
  });
});
