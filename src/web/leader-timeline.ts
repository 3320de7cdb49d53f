import type { ClusterEvent } from '../orchestrator/api-types';

/**
 * One entry of the cluster page's leader timeline, as the stream's `leader` event carries it: who led from `at` on
 * (null: no leader), in which term.
 */
export type LeaderChange = Omit<Extract<ClusterEvent, { type: 'leader' }>, 'type'>;

/**
 * The timeline learns of a new leader from two streams: the SSE `leader` event, and any snapshot (the first one,
 * the 1 s poll, the refresh a role change asks for) that shows a leader. Either can come first, and the page
 * shows the snapshot's leader at once, so both feed the timeline: a leader it already holds (the same one in the
 * same term) is not added again, and keeps the earlier of its two times. Newest first, at most `limit`.
 */
export function addLeaderChange(changes: readonly LeaderChange[], change: LeaderChange, limit = 50): LeaderChange[] {
  // A gap ("no leader") comes only from the SSE stream, once per gap, and carries no term of its own: always added.
  const same = change.leaderId === null ? -1 : changes.findIndex((c) => c.leaderId === change.leaderId && c.term === change.term);
  if (same !== -1) {
    if (changes[same].at <= change.at) return changes as LeaderChange[];
    return insert(changes.filter((_, i) => i !== same), change, limit);
  }
  return insert(changes, change, limit);
}

function insert(changes: readonly LeaderChange[], change: LeaderChange, limit: number): LeaderChange[] {
  // By time, newest first: an SSE event can arrive after a snapshot taken later than the change it reports.
  const at = changes.findIndex((c) => c.at < change.at);
  const next = at === -1 ? [...changes, change] : [...changes.slice(0, at), change, ...changes.slice(at)];
  return next.slice(0, limit);
}
