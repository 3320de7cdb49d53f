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
import { CONFIG, loadConfig } from '../platform/config';
import { createGrpcClient } from '../platform/grpc';
import { hostGrpcService } from '../platform/grpc-host';
import { createLogger, LOGGER } from '../platform/logger';
import { RaftNode } from '../raft/node';
import { announceExecution } from './announce-execution';
import { ElectionTelemetry } from './election-telemetry';
import { ExecutionLedger } from './execution-ledger';
import { ExecutorMetrics } from './metrics';
import { QueueConsumer } from './queue-consumer';
import { RaftDriver } from './raft-driver';
import { RaftFileStorage } from './raft-storage';
import { RaftTransport } from './raft-transport';
import { MEMBERSHIP, OrderExecutorService } from './service';

/** How long one Dequeue long poll waits for an order. */
const QUEUE_WAIT_MS = 500;
/** A snapshot travels in one Raft message: allow far more than the ledger's retained executions need. */
const MAX_RAFT_MESSAGE_BYTES = 64 * 1024 * 1024;

runMain('order-executor', async () => {
  const config = loadConfig();
  const ex = config.executor;
  const logger = createLogger('order-executor', config.logLevel, { executor: ex.id });

  const { storage, state, repairedBytes } = await RaftFileStorage.open(ex.dataDir);
  if (repairedBytes > 0) {
    // A crash tore the last write; it was never acknowledged, so cutting it loses nothing promised.
    logger.warn(`cut ${repairedBytes} bytes of a torn final record off the raft log`, { dir: ex.dataDir });
  }
  const node = new RaftNode(
    {
      id: ex.id,
      peers: Object.keys(ex.peers),
      electionTicks: ex.electionTicks,
      heartbeatTicks: ex.heartbeatTicks,
      random: Math.random,
      preVote: true,
      checkQuorum: true,
    },
    state,
  );
  const transport = new RaftTransport(ex.peers, ex.id, logger);
  const ledger = new ExecutionLedger(ex.ledgerRetain);
  if (state.snapshot) ledger.restore(state.snapshot.data);
  // Not traced per call: an idle leader long-polls the queue continuously.
  const { client: queue, channel: queueChannel } = createGrpcClient(OrderQueueDefinition, config.addresses['order-queue'], {
    deadlineMs: config.rpcDeadlineMs + QUEUE_WAIT_MS,
    traced: false,
    // A restarted queue is dialled again within half a second, not after grpc-js's growing back-off.
    maxReconnectBackoffMs: 500,
  });

  // Connect now, not on the first Dequeue after winning an election: that would add a handshake to every failover.
  (queueChannel as unknown as { getConnectivityState(connect: boolean): unknown }).getConnectivityState(true);

  let queueDepth: number | undefined;
  let consumer: QueueConsumer | undefined;
  const metrics = new ExecutorMetrics(ex.id, () => node.status(), () => queueDepth);
  const elections = new ElectionTelemetry(ex.id, logger, metrics);

  const driver = new RaftDriver(
    node,
    storage,
    {
      send: (messages) => transport.send(messages),
      heardFrom: (peer) => transport.heardFrom(peer),
      apply: (entries, replay) => {
        for (const entry of entries) {
          const applied = ledger.apply(entry);
          if (applied.kind === 'noop') continue;
          if (applied.kind === 'executed') {
            if (replay) logger.debug(`replayed order ${applied.execution.orderId}`, { order_id: applied.execution.orderId });
            else {
              announceExecution(applied.command, applied.execution, ex.id, node.status().role === 'leader', logger);
              metrics.orderExecuted();
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
      compacted: (snapshot, bytes, ms) =>
        logger.info(`snapshot at index ${snapshot.index} (${Math.round(bytes / 1024)} KiB, ${ms.toFixed(0)} ms); log before it dropped`, {
          snapshot_index: snapshot.index,
        }),
      observe: (events) => elections.observe(events),
      fatal: (error) => {
        // Fail-stop: a supervisor (the launcher, Kubernetes) restarts us from what is on disk.
        logger.error(`stopping: ${error.message}`, { stack: error.stack });
        process.exit(1);
      },
    },
    { tickMs: ex.tickMs, snapshotEntries: ex.snapshotEntries, replicationSampleRate: ex.replicationSampleRate },
  );

  container.register(CONFIG, { useValue: config });
  container.register(LOGGER, { useValue: logger });
  container.register(ExecutionLedger, { useValue: ledger });
  container.register(RaftDriver, { useValue: driver });
  container.register(MEMBERSHIP, { useValue: { self: ex.id, peers: Object.keys(ex.peers) } });
  const service = container.resolve(OrderExecutorService);

  consumer = new QueueConsumer(queue, driver, ledger, { id: ex.id, batch: ex.batch, leaseMs: config.queue.leaseMs, backoffMs: ex.backoffMs, waitMs: QUEUE_WAIT_MS }, logger);
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
    port: ex.port,
    config,
    logger,
    register: (server) => server.add(OrderExecutorDefinition, service),
    maxReceiveBytes: MAX_RAFT_MESSAGE_BYTES,
    // Raft traffic and status polls would be hundreds of traces a second.
    untraced: ['/causeway.v1.OrderExecutor/Stream', '/causeway.v1.OrderExecutor/Status', '/causeway.v1.OrderExecutor/Executions'],
    onShutdown: async () => {
      clearInterval(depthPoller);
      await consumer?.stop();
      await driver.stop();
      transport.close();
      queueChannel.close();
      await storage.close();
    },
  });
  const snapshotIndex = state.snapshot?.index ?? 0;
  logger.info(
    `executor ${ex.id} recovered term ${state.hardState.term}, snapshot at ${snapshotIndex}, ${recovered} log entries after it; peers ${Object.keys(ex.peers).join(', ')}`,
  );
  driver.start();
  consumer.start();
});
