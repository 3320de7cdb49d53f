import { readFraction, readInt, type Env } from '../config';

/** Raft timing and log upkeep, for RaftNode and RaftDriver. */
export interface RaftConfig {
  /** One Raft tick. Election timeout is electionTicks–2·electionTicks ticks. */
  tickMs: number;
  electionTicks: number;
  heartbeatTicks: number;
  /** Fraction of Raft proposals traced from propose to commit. */
  replicationSampleRate: number;
  /** Snapshot the state machine and compact the Raft log every this many applied entries. */
  snapshotEntries: number;
}

/**
 * RAFT_TICK_MS, RAFT_ELECTION_TICKS, RAFT_HEARTBEAT_TICKS, RAFT_TRACE_SAMPLE_RATE: one timing for every Raft
 * cluster. The snapshot threshold is each service's own (`snapshotVariable`), so a test can lower one cluster's.
 *
 * The election timeout, 140–280 ms by default, is for a leader that went silent (a partition, a stopped process):
 * a crashed one is noticed sooner, by its reset connection (RaftNode.leaderUnreachable). It was 80–160 ms, and with
 * 3,000 orders poured into the queue the executors held 11–15 elections, their leader's heartbeats held up by
 * fsyncs and applies of 100–230 ms on two busy cores; at 140–280 ms, none in the same runs.
 *
 * A leader heartbeats a follower it has sent nothing else for 40 ms (4 ticks; it was 2): 3.5–7 per election
 * timeout. Each heartbeat and its answer cost the two replicas about 0.5 ms of CPU, so at 20 ms the six replicas of
 * the two clusters spent 40–60 ms/s each doing nothing; at 40 ms, 30–40. Commits are sent at once, not with the
 * next heartbeat, and a ReadIndex sends its own round, so neither waits for one.
 */
export function readRaftConfig(env: Env, snapshotVariable = 'RAFT_SNAPSHOT_ENTRIES'): RaftConfig {
  return {
    tickMs: readInt(env, 'RAFT_TICK_MS', 10, 1),
    electionTicks: readInt(env, 'RAFT_ELECTION_TICKS', 14, 2),
    heartbeatTicks: readInt(env, 'RAFT_HEARTBEAT_TICKS', 4, 1),
    replicationSampleRate: readFraction(env, 'RAFT_TRACE_SAMPLE_RATE', 0.05),
    snapshotEntries: readInt(env, snapshotVariable, 10_000, 1),
  };
}
