/**
 * Raft's vocabulary, as plain data. Everything here crosses the wire or the disk
 * unchanged, so it stays JSON-friendly.
 */

export type NodeId = string;

export type Role = 'follower' | 'pre-candidate' | 'candidate' | 'leader';

/** A log entry. `noop` is the entry a new leader appends to commit its term (§5.4.2). */
export interface Entry {
  term: number;
  index: number;
  type: 'noop' | 'command';
  /** The command, opaque to Raft (for the executors: a JSON-encoded order). */
  data?: string;
}

export type MessageType =
  | 'PreVote'
  | 'PreVoteResponse'
  | 'Vote'
  | 'VoteResponse'
  | 'Append'
  | 'AppendResponse';

/**
 * One message between nodes. Field use by type:
 * - PreVote/Vote: `term` (proposed term), `logTerm`/`index` = candidate's last log term/index.
 * - Append: `index`/`logTerm` = prevLogIndex/prevLogTerm, `entries`, `commit` = leader's commit.
 * - AppendResponse: `index` = last index now matching (or, if `reject`, the rejected prevLogIndex),
 *   `rejectHint` = where the leader should try next.
 */
export interface Message {
  type: MessageType;
  from: NodeId;
  to: NodeId;
  term: number;
  logTerm?: number;
  index?: number;
  entries?: Entry[];
  commit?: number;
  reject?: boolean;
  rejectHint?: number;
}

/** What must be on stable storage before any message of the same Ready is sent. */
export interface HardState {
  term: number;
  vote: NodeId | null;
  commit: number;
}

/**
 * The work a node hands its caller (etcd's Ready). The caller must, in order:
 * 1. persist `hardState` (if set) and `entries` (writing `entries[0].index` onward,
 *    dropping anything at or after it), with fsync;
 * 2. send `messages`;
 * 3. apply `committed` to the state machine;
 * 4. call `advance(ready)`.
 */
export interface Ready {
  hardState?: HardState;
  entries: Entry[];
  messages: Message[];
  committed: Entry[];
  /** Role/term/leader changed since the previous Ready. */
  softStateChanged: boolean;
}

export interface RaftConfig {
  id: NodeId;
  /** Every member, this node included. */
  peers: readonly NodeId[];
  /** Ticks without hearing from a leader before an election; randomised in [n, 2n). */
  electionTicks: number;
  heartbeatTicks: number;
  /** Uniform in [0, 1). Seeded in tests so every schedule can be replayed. */
  random: () => number;
  preVote: boolean;
  checkQuorum: boolean;
  /** Most entries in one Append message. */
  maxEntriesPerMessage?: number;
}

export interface Storage {
  hardState: HardState;
  /** The persisted log, entries with index 1, 2, 3, ... */
  entries: Entry[];
}
