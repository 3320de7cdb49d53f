import { addLeaderChange, type LeaderChange } from './leader-timeline';

const change = (at: number, leaderId: string | null, term: number): LeaderChange => ({ at, leaderId, term });

describe('the cluster page’s leader timeline', () => {
  it('adds a leader the snapshot shows before its SSE event, and not again when the event comes', () => {
    let timeline = [change(100, 'executor-1', 1)];
    // The poll's snapshot already shows the new leader...
    timeline = addLeaderChange(timeline, change(950, 'executor-2', 3));
    expect(timeline).toEqual([change(950, 'executor-2', 3), change(100, 'executor-1', 1)]);
    // ...and the SSE event for the same change (the server saw it a little earlier) does not add a second entry.
    timeline = addLeaderChange(timeline, change(900, 'executor-2', 3));
    expect(timeline).toEqual([change(900, 'executor-2', 3), change(100, 'executor-1', 1)]);
    // Later snapshots of the same leader change nothing.
    expect(addLeaderChange(timeline, change(2000, 'executor-2', 3))).toBe(timeline);
  });

  it('keeps the entries in time order when an event arrives after a later snapshot', () => {
    let timeline = [change(100, 'executor-1', 1)];
    timeline = addLeaderChange(timeline, change(950, 'executor-2', 3));
    // The "no leader" gap the server saw before the election is reported late: it goes below the new leader.
    timeline = addLeaderChange(timeline, change(600, null, 1));
    expect(timeline.map((c) => c.leaderId)).toEqual(['executor-2', null, 'executor-1']);
  });

  it('adds every gap without a leader: the stream reports each once, all with term 0', () => {
    let timeline = [change(100, 'executor-1', 1)];
    timeline = addLeaderChange(timeline, change(200, null, 0));
    timeline = addLeaderChange(timeline, change(300, 'executor-2', 2));
    timeline = addLeaderChange(timeline, change(400, null, 0));
    timeline = addLeaderChange(timeline, change(500, 'executor-3', 3));
    expect(timeline.map((c) => c.leaderId)).toEqual(['executor-3', null, 'executor-2', null, 'executor-1']);
  });

  it('keeps a new term of the same leader as its own entry, and at most the limit', () => {
    let timeline: LeaderChange[] = [];
    for (let term = 1; term <= 5; term++) timeline = addLeaderChange(timeline, change(term * 100, 'executor-1', term), 3);
    expect(timeline.map((c) => c.term)).toEqual([5, 4, 3]);
  });
});
