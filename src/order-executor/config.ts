import {
  ConfigError,
  readBooksDatabasePeers,
  readDataDir,
  readExecutorPeers,
  readInt,
  readLeaseMs,
  readPort,
  readProcessConfig,
  readRpcDeadlineMs,
  readServiceAddress,
  readString,
  type Env,
  type ProcessConfig,
} from '../platform/config';
import { readRaftConfig, type RaftConfig } from '../platform/raft-host/config';

export type { RaftConfig };

/** How the leader consumes the order queue (QueueConsumer). */
export interface ConsumerConfig {
  /** Orders leased from the queue per Dequeue. */
  batch: number;
  /** Visibility timeout asked for each lease (ORDER_QUEUE_LEASE_MS). */
  leaseMs: number;
  /** Back-off after a failed queue call, and the longest wait for leadership before checking again. */
  backoffMs: number;
}

/** One order executor's settings. */
export interface ExecutorConfig extends ProcessConfig {
  /** This executor's id (EXECUTOR_ID); one of `peers`. */
  id: string;
  /** Every executor, this one included: id → host:port. */
  peers: Record<string, string>;
  /** This executor's gRPC port (from its entry in `peers` unless EXECUTOR_PORT says otherwise). */
  port: number;
  dataDir: string;
  rpcDeadlineMs: number;
  queueAddress: string;
  raft: RaftConfig;
  consumer: ConsumerConfig;
  /** How many of the latest executions the ledger remembers (the exactly-once horizon). */
  ledgerRetain: number;
  /** The books database's replicas (BOOKS_DATABASE_PEERS), id → host:port: executing an order takes its stock. */
  booksDatabase: Record<string, string>;
}

export function loadExecutorConfig(env: Env = process.env): ExecutorConfig {
  const peers = readExecutorPeers(env);
  const id = readString(env, 'EXECUTOR_ID', Object.keys(peers)[0]);
  if (!(id in peers)) throw new ConfigError(`EXECUTOR_ID=${JSON.stringify(id)} is not one of EXECUTOR_PEERS (${Object.keys(peers).join(', ')})`);
  return {
    ...readProcessConfig(env),
    id,
    peers,
    port: readPort(env, 'EXECUTOR_PORT', Number(peers[id].split(':').at(-1))),
    dataDir: readDataDir(env, 'EXECUTOR_DATA_DIR', `order-executor/${id}`),
    rpcDeadlineMs: readRpcDeadlineMs(env),
    queueAddress: readServiceAddress(env, 'order-queue'),
    raft: readRaftConfig(env),
    consumer: {
      batch: readInt(env, 'EXECUTOR_BATCH', 64, 1, 1000),
      leaseMs: readLeaseMs(env),
      backoffMs: readInt(env, 'EXECUTOR_BACKOFF_MS', 100, 1),
    },
    ledgerRetain: readInt(env, 'EXECUTOR_LEDGER_RETAIN', 50_000, 1),
    booksDatabase: readBooksDatabasePeers(env),
  };
}
