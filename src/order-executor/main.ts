/**
 * Composition root of one order executor: the pure Raft core wrapped in file
 * storage, a gRPC transport and a timer; the replicated execution ledger; and,
 * while leading, the loop that consumes the order queue.
 */
import 'reflect-metadata';
import { container } from 'tsyringe';
import { runMain } from '../platform/run-main';
import { OrderExecutorDefinition } from '../gen/causeway/v1/order_executor';
import { OrderQueueDefinition } from '../gen/causeway/v1/order_queue';
import { createGrpcClient } from '../platform/grpc';
import { hostGrpcService } from '../platform/grpc-host';
import { createLogger, LOGGER } from '../platform/logger';
import { RaftNode } from '../raft/node';
import { loadExecutorConfig } from './config';
import { announceExecution } from './announce-execution';
import { ElectionTelemetry } from '../platform/raft-host/election-telemetry';
import { ExecutionLedger } from './execution-ledger';
import { ExecutorMetrics, QUEUE_DEPTH, RAFT_STATUS } from './metrics';
import { CONSUMER_OPTIONS, LEASE_COMMITTER, QueueConsumer, type QueueConsumerOptions } from './queue-consumer';
import { RAFT_DRIVER_OPTIONS, RAFT_HOOKS, RAFT_STORAGE, RaftDriver, type RaftDriverHooks } from '../platform/raft-host/driver';
import { openRaftReplica, sharedRaftHooks } from '../platform/raft-host/host';
import { RaftTransport } from '../platform/raft-host/transport';
import { RAFT_ELECTION_METRICS, RAFT_SERVICE_DEFINITION } from '../platform/raft-host/tokens';
import { DECISION_SOURCE, MEMBERSHIP, OrderExecutorService, type DecisionSource } from './service';
import { EXECUTOR_ID, ORDER_QUEUE_CLIENT, PEER_ADDRESSES } from './tokens';
import { BooksDatabaseClient } from '../books-database-client/client';
import { BOOKS_DATABASE, EXECUTE_ORDER, OrderExecution } from './execute-order';
import { BOOKS_PARTICIPANT, PAYMENT_PARTICIPANT, TWO_PHASE_OPTIONS, TwoPhaseCommit, type LeaseCommitter, type TwoPhaseOptions } from './two-phase/driver';
import { BooksParticipant, GrpcPaymentPort, PaymentParticipant } from './two-phase/participants';

/** How long one Dequeue long poll waits for an order. */
const QUEUE_WAIT_MS = 500;
/** How often the two-phase-commit coordinator's timers run, and how long GetDecision waits for a presumed abort. */
const TWO_PHASE_TICK_MS = 100;
const DECISION_WAIT_MS = 2000;
/** A snapshot travels in one Raft message: allow far more than the ledger's retained executions need. */
const MAX_RAFT_MESSAGE_BYTES = 64 * 1024 * 1024;

runMain('order-executor', async () => {
  const ex = loadExecutorConfig();
  const logger = createLogger('order-executor', ex.logLevel, { executor: ex.id });

  const { storage, state, node } = await openRaftReplica({ id: ex.id, peers: Object.keys(ex.peers), dataDir: ex.dataDir, raft: ex.raft, logger });
  const ledger = new ExecutionLedger(ex.ledgerRetain);
  if (state.snapshot) ledger.restore(state.snapshot.data);
  // Not traced per call: an idle leader long-polls the queue continuously.
  const { client: queue, channel: queueChannel } = createGrpcClient(OrderQueueDefinition, ex.queueAddress, {
    deadlineMs: ex.rpcDeadlineMs + QUEUE_WAIT_MS,
    traced: false,
    // A restarted queue is dialled again within half a second, not after grpc-js's growing back-off, and a
    // connection a partition black-holed is dropped after a second without an answer to a ping.
    maxReconnectBackoffMs: 500,
    keepaliveMs: 1000,
  });

  // Connect now, not on the first Dequeue after winning an election: that would add a handshake to every failover.
  // (grpc-js's public Channel API: asking for the state with tryToConnect starts connecting an idle channel.)
  queueChannel.getConnectivityState(true);

  // Executing an order takes its stock out of the books database; one operation follows the database's leader
  // through an election for a few seconds before the order is left to be delivered again.
  const booksDatabase = new BooksDatabaseClient(ex.booksDatabase, { callDeadlineMs: ex.rpcDeadlineMs, totalMs: 5000 });

  // Two-phase commit (issue 14) with the books database and payment as participants, or, until both participants
  // answer PrepareBatch/FinishBatch, the books database's decrement alone (CAUSEWAY_COMMIT_PROTOCOL).
  const twoPhaseOn = ex.commitProtocol === '2pc';
  const paymentPort = twoPhaseOn ? new GrpcPaymentPort(ex.paymentAddress, ex.rpcDeadlineMs) : undefined;

  let queueDepth: number | undefined;
  let consumer: QueueConsumer | undefined;
  let twoPhase: TwoPhaseCommit | undefined;

  // Values first (config slices, logger, the pure core and its state, clients), then the classes that use them.
  container.register(LOGGER, { useValue: logger });
  container.register(EXECUTOR_ID, { useValue: ex.id });
  container.register(PEER_ADDRESSES, { useValue: ex.peers });
  container.register(RAFT_SERVICE_DEFINITION, { useValue: OrderExecutorDefinition });
  container.register(MEMBERSHIP, { useValue: { self: ex.id, peers: Object.keys(ex.peers) } });
  container.register(RaftNode, { useValue: node });
  container.register(RAFT_STORAGE, { useValue: storage });
  container.register(RAFT_DRIVER_OPTIONS, { useValue: ex.raft });
  container.register(ExecutionLedger, { useValue: ledger });
  container.register(ORDER_QUEUE_CLIENT, { useValue: queue });
  container.register(BOOKS_DATABASE, { useValue: booksDatabase });
  container.register(CONSUMER_OPTIONS, { useValue: { id: ex.id, ...ex.consumer, waitMs: QUEUE_WAIT_MS } satisfies QueueConsumerOptions });
  container.register(RAFT_STATUS, { useValue: () => node.status() });
  container.register(QUEUE_DEPTH, { useValue: () => queueDepth });
  // One of each per process: the driver the service and the consumer share, the metrics the telemetry adds to.
  container.registerSingleton(RaftTransport);
  container.registerSingleton(ExecutorMetrics);
  container.registerSingleton(ElectionTelemetry);
  container.registerSingleton(RaftDriver);
  container.registerSingleton(OrderExecution);
  container.register(EXECUTE_ORDER, { useFactory: (c) => c.resolve(OrderExecution).execute });
  if (paymentPort) {
    container.register(BOOKS_PARTICIPANT, { useValue: new BooksParticipant(booksDatabase) });
    container.register(PAYMENT_PARTICIPANT, { useValue: new PaymentParticipant(paymentPort) });
    container.register(TWO_PHASE_OPTIONS, {
      useValue: { id: ex.id, ...ex.twoPhase, tickMs: TWO_PHASE_TICK_MS, decisionWaitMs: DECISION_WAIT_MS } satisfies TwoPhaseOptions,
    });
    container.registerSingleton(TwoPhaseCommit);
  }
  // Undefined under `decrement`: the consumer executes orders itself and GetDecision answers UNIMPLEMENTED.
  container.register<LeaseCommitter | undefined>(LEASE_COMMITTER, { useFactory: (c) => (twoPhaseOn ? c.resolve(TwoPhaseCommit) : undefined) });
  container.register<DecisionSource | undefined>(DECISION_SOURCE, { useFactory: (c) => (twoPhaseOn ? c.resolve(TwoPhaseCommit) : undefined) });
  container.registerSingleton(QueueConsumer);
  const transport = container.resolve(RaftTransport);
  const metrics = container.resolve(ExecutorMetrics);
  container.register(RAFT_ELECTION_METRICS, { useValue: metrics });
  const elections = container.resolve(ElectionTelemetry);

  // The state machine's side of the driver: apply to the ledger, snapshot it, and tell the consumer what was applied.
  container.register<RaftDriverHooks>(RAFT_HOOKS, {
    useValue: {
      ...sharedRaftHooks(transport, elections, logger),
      apply: (entries, replay) => {
        for (const entry of entries) {
          const applied = ledger.apply(entry);
          if (!replay) ledger.encodeAhead(applied);
          twoPhase?.applied(applied);
          if (applied.kind === 'noop' || applied.kind === 'finished') continue;
          if (applied.kind === 'executed') {
            if (replay) logger.debug(`replayed order ${applied.execution.orderId}`, { order_id: applied.execution.orderId });
            else {
              const commit = applied.execution.commit;
              if (commit) metrics.decisionApplied(commit.decision, commit.reason);
              announceExecution(applied.command, applied.execution, ex.id, node.status().role === 'leader', logger);
              if (applied.execution.failure) metrics.orderFailed(applied.execution.failure.code);
              else metrics.orderExecuted();
            }
          } else {
            logger.info(`order ${applied.command.orderId} was proposed again at ${entry.index}; already executed at ${applied.execution.index}`, {
              order_id: applied.command.orderId,
            });
          }
          consumer?.onApplied(applied.command.orderId);
        }
      },
      restore: (snapshot) => {
        ledger.restore(snapshot.data);
        logger.info(`installed the leader's snapshot at index ${snapshot.index} (term ${snapshot.term}): ${ledger.size} executions remembered`, {
          snapshot_index: snapshot.index,
        });
      },
      capture: () => ledger.snapshot(),
    },
  });
  const driver = container.resolve(RaftDriver);
  // A peer whose connection is reset or refused has crashed: if it led, campaign now, not after the timeout.
  transport.onPeerLost((peer) => driver.peerLost(peer));
  const service = container.resolve(OrderExecutorService);
  consumer = container.resolve(QueueConsumer);
  if (twoPhaseOn) twoPhase = container.resolve(TwoPhaseCommit);
  const depthPoller = setInterval(() => {
    if (driver.status().role !== 'leader') return;
    queue.stats({}).then(
      (stats) => (queueDepth = stats.depth),
      () => undefined,
    );
  }, 1000);
  depthPoller.unref();

  const recovered = state.entries.length;
  await hostGrpcService({
    name: 'order-executor',
    host: ex.host,
    port: ex.port,
    logger,
    register: (server) => server.add(OrderExecutorDefinition, service),
    maxReceiveBytes: MAX_RAFT_MESSAGE_BYTES,
    // Raft traffic and status polls would be hundreds of traces a second.
    untraced: ['/causeway.v1.OrderExecutor/Stream', '/causeway.v1.OrderExecutor/Status', '/causeway.v1.OrderExecutor/Executions'],
    onShutdown: async () => {
      clearInterval(depthPoller);
      await consumer?.stop();
      twoPhase?.stop();
      paymentPort?.close();
      await driver.stop();
      transport.close();
      queueChannel.close();
      booksDatabase.close();
      await storage.close();
    },
  });
  const snapshotIndex = state.snapshot?.index ?? 0;
  logger.info(
    `executor ${ex.id} recovered term ${state.hardState.term}, snapshot at ${snapshotIndex}, ${recovered} log entries after it; peers ${Object.keys(ex.peers).join(', ')}`,
  );
  logger.info(`orders are committed by ${twoPhaseOn ? `two-phase commit (books database and payment at ${ex.paymentAddress})` : "the books database's decrement"}`);
  driver.start();
  twoPhase?.start();
  consumer.start();
});
