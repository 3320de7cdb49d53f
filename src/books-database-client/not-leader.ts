/** The books database answers NOT_LEADER the way every Raft cluster here does (src/platform/not-leader.ts). */
export { NOT_LEADER, leaderHint, notLeaderMessage } from '../platform/not-leader';
