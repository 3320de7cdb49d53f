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
 */
export function readRaftConfig(env: Env, snapshotVariable = 'RAFT_SNAPSHOT_ENTRIES'): RaftConfig {
  return {
    tickMs: readInt(env, 'RAFT_TICK_MS', 10, 1),
    electionTicks: readInt(env, 'RAFT_ELECTION_TICKS', 8, 2),
    heartbeatTicks: readInt(env, 'RAFT_HEARTBEAT_TICKS', 2, 1),
    replicationSampleRate: readFraction(env, 'RAFT_TRACE_SAMPLE_RATE', 0.05),
    snapshotEntries: readInt(env, snapshotVariable, 10_000, 1),
  };
}
