import {
  ConfigError,
  readBool,
  readBooksDatabasePeers,
  readDataDir,
  readExecutorPeers,
  readInt,
  readPort,
  readProcessConfig,
  readString,
  type Env,
  type ProcessConfig,
} from '../platform/config';
import { readRaftConfig, type RaftConfig } from '../platform/raft-host/config';
import { DEFAULT_OUTCOMES_RETAIN } from './stock-state';

/**
 * One books database replica's settings:
 * - BOOKS_DATABASE_PEERS: every replica, `books-1=127.0.0.1:50071,books-2=…` (default ports 50071–50073);
 * - BOOKS_DATABASE_ID: this replica (default the first peer); BOOKS_DATABASE_PORT overrides its entry's port;
 * - BOOKS_DATABASE_DATA_DIR: where its Raft log and snapshots live (default `$CAUSEWAY_DATA_DIR/books-database/<id>`);
 * - BOOKS_DATABASE_SNAPSHOT_ENTRIES: snapshot and compact the log every this many applied entries (10,000);
 * - BOOKS_DATABASE_OUTCOMES_RETAIN: how many decrement outcomes are remembered for retries (50,000);
 * - BOOKS_DATABASE_SEED: `false` leaves a new database empty instead of seeding the catalog (true);
 * - BOOKS_DATABASE_WRITE_TIMEOUT_MS: how long a write or a read waits for its commit or confirmation (3,000);
 * - BOOKS_DATABASE_DECISION_TIMEOUT_MS: how long a transaction stays prepared on the leader before it asks the
 *   executors for the decision (cooperative termination; 10,000); EXECUTOR_PEERS: whom it asks;
 * - RAFT_TICK_MS, RAFT_ELECTION_TICKS, RAFT_HEARTBEAT_TICKS, RAFT_TRACE_SAMPLE_RATE: Raft timing, as the executors'.
 */
export interface BooksDatabaseConfig extends ProcessConfig {
  id: string;
  peers: Record<string, string>;
  port: number;
  dataDir: string;
  raft: RaftConfig;
  outcomesRetain: number;
  seed: boolean;
  writeTimeoutMs: number;
  decisionTimeoutMs: number;
  executors: Record<string, string>;
}

export function loadBooksDatabaseConfig(env: Env = process.env): BooksDatabaseConfig {
  const peers = readBooksDatabasePeers(env);
  const id = readString(env, 'BOOKS_DATABASE_ID', Object.keys(peers)[0]);
  if (!(id in peers)) throw new ConfigError(`BOOKS_DATABASE_ID=${JSON.stringify(id)} is not one of BOOKS_DATABASE_PEERS (${Object.keys(peers).join(', ')})`);
  return {
    ...readProcessConfig(env),
    id,
    peers,
    port: readPort(env, 'BOOKS_DATABASE_PORT', Number(peers[id].split(':').at(-1))),
    dataDir: readDataDir(env, 'BOOKS_DATABASE_DATA_DIR', `books-database/${id}`),
    raft: readRaftConfig(env, 'BOOKS_DATABASE_SNAPSHOT_ENTRIES'),
    outcomesRetain: readInt(env, 'BOOKS_DATABASE_OUTCOMES_RETAIN', DEFAULT_OUTCOMES_RETAIN, 1),
    seed: readBool(env, 'BOOKS_DATABASE_SEED', true),
    writeTimeoutMs: readInt(env, 'BOOKS_DATABASE_WRITE_TIMEOUT_MS', 3000, 1),
    decisionTimeoutMs: readInt(env, 'BOOKS_DATABASE_DECISION_TIMEOUT_MS', 10_000, 1),
    executors: readExecutorPeers(env),
  };
}
