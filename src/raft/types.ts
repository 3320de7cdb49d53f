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
  | 'AppendResponse'
  | 'Snapshot';

/**
 * One message between nodes. Field use by type:
 * - PreVote/Vote: `term` (proposed term), `logTerm`/`index` = candidate's last log term/index.
 * - Append: `index`/`logTerm` = prevLogIndex/prevLogTerm, `entries`, `commit` = leader's commit.
 * - AppendResponse: `index` = last index now matching (or, if `reject`, the rejected prevLogIndex),
 *   `rejectHint` = where the leader should try next.
 * - Snapshot (InstallSnapshot, §7): `snapshot` = the leader's latest snapshot, sent when the entries a
 *   follower needs are compacted away; answered with an AppendResponse.
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
  snapshot?: Snapshot;
  /**
   * ReadIndex (§6.4 of Ongaro's thesis): on Append, the leader's latest read context; echoed on the follower's
   * AppendResponse, it proves the follower still took this node for its leader after the read was asked for.
   */
  context?: number;
}

/**
 * A linearizable read the leader confirmed (ReadIndex): once the state machine has applied `index`, it reflects
 * every write committed before the read was asked for. `id` is the caller's, from RaftNode.readIndex().
 */
export interface ReadState {
  id: number;
  index: number;
}

/**
 * The state machine as of `index` (whose entry had `term`), standing in for the log
 * prefix 1..index once that prefix is compacted away (§7). `data` is opaque to Raft.
 */
export interface Snapshot {
  index: number;
  term: number;
  data: string;
}

/** What must be on stable storage before any message of the same Ready is sent. */
export interface HardState {
  term: number;
  vote: NodeId | null;
  commit: number;
}

/**
 * The work a node hands its caller (etcd's Ready). The caller must, in order:
 * 1. persist `snapshot` (if set: it replaces the whole log, which then holds no entry
 *    at or below its index), then `hardState` (if set) and `entries` (writing
 *    `entries[0].index` onward, dropping anything at or after it), with fsync;
 * 2. send `messages`;
 * 3. restore the state machine from `snapshot` (if set), then apply `committed`;
 * 4. call `advance(ready)`;
 * 5. serve `readStates` once their index is applied, and fail `abortedReads`.
 */
export interface Ready {
  /** A snapshot received from the leader (InstallSnapshot): the state machine starts over from it. */
  snapshot?: Snapshot;
  hardState?: HardState;
  entries: Entry[];
  messages: Message[];
  committed: Entry[];
  /** Role/term/leader changed since the previous Ready. */
  softStateChanged: boolean;
  /** Reads confirmed by a majority: serve each once `index` is applied. */
  readStates?: ReadState[];
  /** Reads asked of this node that it can no longer confirm (it stopped leading): the caller retries elsewhere. */
  abortedReads?: number[];
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
  /** The latest snapshot, if the log was ever compacted. */
  snapshot?: Snapshot;
  /** The persisted log after the snapshot: entries with index (snapshot.index ?? 0) + 1, + 2, ... */
  entries: Entry[];
}
