import {
  checkAddress,
  ConfigError,
  readBooksDatabasePeers,
  readChoice,
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
  /**
   * Most orders leased from the queue per Dequeue (EXECUTOR_BATCH, 256). A leader's leases start smaller in each term
   * and grow to this (RAMP_START in queue-consumer.ts). In five interleaved pairs of fresh systems, the median of
   * three bursts of 3,000 orders enqueued at once was 2,281–2,430 orders/s against 1,581–1,691 with 64: a lease's
   * fixed cost is shared by up to four times as many orders.
   */
  batch: number;
  /** Visibility timeout asked for each lease (ORDER_QUEUE_LEASE_MS). */
  leaseMs: number;
  /** Back-off after a failed queue call, and the longest wait for leadership before checking again. */
  backoffMs: number;
  /**
   * Under two-phase commit, how long the leader waits after a lease that was not full before it leases again
   * (EXECUTOR_LEASE_LINGER_MS, 120 ms; 0 leases again at once). Orders that arrive meanwhile start their commit
   * together: one Prepare call per participant and one Raft round of each cluster for all of them, instead of one
   * each. The shopper's answer does not wait for this; a lone order's commit does, by up to this long.
   *
   * Each lease costs the commit's processes roughly 10–15 ms of CPU whatever it carries (a Dequeue, two Prepares, two
   * Raft rounds of each cluster, two Finishes, an Ack). With 50 orders/s enqueued straight into the queue, the
   * queue, executors, books replicas and payment spent 814–823 ms of CPU a second at 40 ms, 719–749 at 80,
   * 577–617 at 120 and 509–548 at 200 (two runs each). 120 ms takes most of that gain, and delays a commit (never
   * an answer) by at most that.
   */
  lingerMs: number;
}

/** How the leader commits an order: the books database's decrement alone, or two-phase commit with payment. */
export const COMMIT_PROTOCOLS = ['decrement', '2pc'] as const;
export type CommitProtocol = (typeof COMMIT_PROTOCOLS)[number];

/** The two-phase-commit coordinator's timers (see two-phase/coordinator.ts). */
export interface TwoPhaseConfig {
  /** Both votes within this long of Prepare, or abort (PARTICIPANT_UNAVAILABLE). */
  prepareTimeoutMs: number;
  /** A Finish not acknowledged is sent again after this long. */
  retryMs: number;
  /** A decision or completion not applied is proposed again after this long. */
  proposeRetryMs: number;
  /**
   * Finishes and completion entries wait up to this long for the next Prepares and decision entries, so that one
   * batch call and one Raft round carry both (group commit). An order's decision is logged before its Finish, so
   * this delays no answer; it only holds the stock and the money reserved a little longer.
   */
  finishDelayMs: number;
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
  /** CAUSEWAY_COMMIT_PROTOCOL: `2pc` (the default: books database and payment as participants) or `decrement` (the books database alone, as before issue 14). */
  commitProtocol: CommitProtocol;
  /** The payment service (PAYMENT_ADDRESS), a participant under `2pc`. */
  paymentAddress: string;
  twoPhase: TwoPhaseConfig;
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
      batch: readInt(env, 'EXECUTOR_BATCH', 256, 1, 1000),
      leaseMs: readLeaseMs(env),
      backoffMs: readInt(env, 'EXECUTOR_BACKOFF_MS', 100, 1),
      lingerMs: readInt(env, 'EXECUTOR_LEASE_LINGER_MS', 120, 0, 1000),
    },
    ledgerRetain: readInt(env, 'EXECUTOR_LEDGER_RETAIN', 50_000, 1),
    booksDatabase: readBooksDatabasePeers(env),
    commitProtocol: readChoice(env, 'CAUSEWAY_COMMIT_PROTOCOL', COMMIT_PROTOCOLS, '2pc'),
    paymentAddress: checkAddress(readString(env, 'PAYMENT_ADDRESS', '127.0.0.1:50075'), 'PAYMENT_ADDRESS'),
    twoPhase: {
      // Above the books client's 5 s of following a leader election, so one election does not abort orders.
      prepareTimeoutMs: readInt(env, 'EXECUTOR_PREPARE_TIMEOUT_MS', 8000, 1),
      retryMs: readInt(env, 'EXECUTOR_2PC_RETRY_MS', 1000, 1),
      proposeRetryMs: readInt(env, 'EXECUTOR_PROPOSE_RETRY_MS', 3000, 1),
      finishDelayMs: readInt(env, 'EXECUTOR_2PC_FINISH_DELAY_MS', 50, 0, 1000),
    },
  };
}
