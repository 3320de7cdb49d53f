/** Composition root of the orchestrator: HTTP on :8081, clients to the three checkout services. */
import 'reflect-metadata';
import { container } from 'tsyringe';
import { FRAUD_DETECTION_CLIENT, SUGGESTIONS_CLIENT, TRANSACTION_VERIFICATION_CLIENT } from '../checkout/tokens';
import { OrderExecutorDefinition } from '../gen/causeway/v1/order_executor';
import { OrderQueueDefinition } from '../gen/causeway/v1/order_queue';
import { FraudDetectionDefinition } from '../gen/causeway/v1/fraud_detection';
import { SuggestionsDefinition } from '../gen/causeway/v1/suggestions';
import { TransactionVerificationDefinition } from '../gen/causeway/v1/transaction_verification';
import { HealthDefinition } from '../gen/grpc/health/v1/health';
import { CHECKOUT_SERVICES } from '../platform/config';
import { GrpcClients } from '../platform/grpc';
import { Lifecycle } from '../platform/lifecycle';
import { createLogger, LOGGER } from '../platform/logger';
import { CheckoutFlow } from './checkout';
import { BOOKS_DATABASE_REPLICAS, ClusterView, EXECUTOR_CLIENTS, QUEUE_STATS_CLIENT } from './cluster';
import { BooksDatabaseDefinition } from '../gen/causeway/v1/books_database';
import { BooksDatabaseClient } from '../books-database-client/client';
import { BooksInventory } from './books';
import { loadOrchestratorConfig } from './config';
import { CATALOG_PROBE, DownstreamHealth, HEALTH_CLIENTS } from './health';
import { buildHttpApp } from './http';
import { LocalLeaderKiller } from './leader-killer';
import { ORDER_STORE, OrderStore, WRITER_SCRIPT } from './order-store';
import { EXECUTION_LOOKUP, ORDER_RECONCILER_OPTIONS, OrderReconciler, type OrderReconcilerOptions } from './order-reconciler';
import { ORDER_RETENTION_OPTIONS, OrderRetention, type OrderRetentionOptions } from './order-retention';
import { CARD_TOKENIZER, ENQUEUE_BATCHER, FINAL_CLOCK_BROADCAST, PRICE_LIST } from './tokens';
import { FinalClockBroadcast } from './final-clock-broadcast';
import { PaymentClient } from '../payment-client/client';
import { PriceList } from './prices';
import { EnqueueBatcher } from '../order-queue-client/enqueue-batcher';
import { readProcessTable } from '../platform/process-table';
import { runMain } from '../platform/run-main';
import { systemTime } from '../platform/time';
import catalog from '../catalog/catalog.json';

runMain('orchestrator', async () => {
  const config = loadOrchestratorConfig();
  const logger = createLogger('orchestrator', config.logLevel);
  const lifecycle = new Lifecycle(logger);
  lifecycle.install();
  const clients = new GrpcClients(config.rpcDeadlineMs);
  const connect = <D extends Parameters<typeof clients.connect>[0]>(definition: D, target: keyof typeof config.addresses | { address: string }, traced = true) =>
    clients.connect(definition, typeof target === 'string' ? config.addresses[target] : target.address, { traced });

  container.register(LOGGER, { useValue: logger });
  const verification = connect(TransactionVerificationDefinition, 'transaction-verification');
  const fraud = connect(FraudDetectionDefinition, 'fraud-detection');
  const suggestions = connect(SuggestionsDefinition, 'suggestions');
  container.register(TRANSACTION_VERIFICATION_CLIENT, { useValue: verification });
  container.register(FRAUD_DETECTION_CLIENT, { useValue: fraud });
  container.register(SUGGESTIONS_CLIENT, { useValue: suggestions });
  // Each checkout's final clock waits up to clearLingerMs for others to share the three ClearOrders calls.
  container.register(FINAL_CLOCK_BROADCAST, {
    useValue: new FinalClockBroadcast(
      { 'transaction-verification': verification, 'fraud-detection': fraud, suggestions },
      logger,
      { maxBatch: 256, maxInFlight: 2, lingerMs: config.clearLingerMs },
    ),
  });
  // Approved orders of concurrent checkouts share EnqueueBatch calls (one fsync, one call per batch).
  container.register(ENQUEUE_BATCHER, {
    useValue: EnqueueBatcher.over(connect(OrderQueueDefinition, 'order-queue'), { maxBatch: 256, maxInFlight: 2 }),
  });
  // Status polling is not traced: the cluster view polls several times a second.
  container.register(EXECUTOR_CLIENTS, {
    useValue: new Map(
      Object.entries(config.executors).map(([id, address]) => [id, { address, client: connect(OrderExecutorDefinition, { address }, false) }]),
    ),
  });
  container.register(QUEUE_STATS_CLIENT, { useValue: connect(OrderQueueDefinition, 'order-queue', false) });
  container.register(BOOKS_DATABASE_REPLICAS, {
    useValue: new Map(
      Object.entries(config.booksDatabase).map(([id, address]) => [id, { address, client: connect(BooksDatabaseDefinition, { address }, false) }]),
    ),
  });
  // GET /books and the admin endpoint: the leader-following client (a read waits through an election for up to
  // two seconds before GET /books answers 503).
  const booksDatabase = new BooksDatabaseClient(config.booksDatabase, { callDeadlineMs: config.rpcDeadlineMs, totalMs: 2000 });
  // Approved orders: the card becomes a payment token, the books are priced (read once, see PriceList).
  const payment = new PaymentClient(config.addresses.payment, { deadlineMs: config.rpcDeadlineMs });
  container.register(CARD_TOKENIZER, { useValue: payment });
  // Its own untraced client: a price read happens once (then on an unknown title), and a span for it in whichever
  // checkout's trace happened to need it would only make traces differ from one another. It waits out an election
  // longer than GET /books does: the first checkouts after a start should not fail while the database elects.
  const priceSource = new BooksDatabaseClient(config.booksDatabase, { callDeadlineMs: config.rpcDeadlineMs, totalMs: 5000, traced: false });
  const prices = new PriceList(priceSource);
  container.register(PRICE_LIST, { useValue: prices });
  // /health also says whether the books are there to price with (the first leader seeds them after its election).
  container.register(CATALOG_PROBE, { useValue: prices });
  container.register(HEALTH_CLIENTS, {
    useValue: Object.fromEntries([...CHECKOUT_SERVICES, 'order-queue' as const, 'payment' as const].map((s) => [s, connect(HealthDefinition, s, false)])),
  });
  container.registerSingleton(ClusterView);
  const cluster = container.resolve(ClusterView);
  const store = OrderStore.open(config.dataDir, {
    retentionMs: config.orderRetentionDays * 24 * 60 * 60 * 1000,
    time: systemTime,
    // Commits (and their fsyncs) on a thread of their own: the event loop keeps serving checkouts meanwhile.
    writer: { worker: WRITER_SCRIPT },
    onFatal: (err) => {
      // Answered orders could no longer be recorded: stop, and let the supervisor restart us on what is on disk.
      logger.error(`stopping: ${err.message}`);
      process.exit(1);
    },
  });
  logger.info(`orders are kept in ${config.dataDir}/orders.db for ${config.orderRetentionDays} days`);
  container.register(ORDER_STORE, { useValue: store });
  container.register(EXECUTION_LOOKUP, { useValue: (ids: readonly string[]) => cluster.findExecutions(ids) });
  // A pass a second, up to 4 Executions calls of 256 ids each: a backlog of thousands is recorded within seconds.
  container.register(ORDER_RECONCILER_OPTIONS, { useValue: { intervalMs: 1000, batch: 256, batchesPerPass: 4 } satisfies OrderReconcilerOptions });
  container.register(ORDER_RETENTION_OPTIONS, { useValue: { intervalMs: 10 * 60 * 1000, chunk: 1000 } satisfies OrderRetentionOptions });
  const reconciler = container.resolve(OrderReconciler);
  const retention = container.resolve(OrderRetention);

  // Local mode: `npm start` runs the executors as processes on this machine, names them by executor id in its
  // process table and tells us where the table is; read at each kill, since a restart changes the pid.
  const processTable = config.processTable;
  const pidOf = (id: string) => (processTable ? readProcessTable(processTable)?.processes[id] : undefined);
  const flow = container.resolve(CheckoutFlow);
  const app = buildHttpApp({
    flow,
    store,
    health: container.resolve(DownstreamHealth),
    cluster,
    catalog,
    books: new BooksInventory(catalog, booksDatabase),
    adminToken: config.adminToken,
    leaderKiller: config.localMode ? new LocalLeaderKiller(cluster, pidOf, logger) : undefined,
    corsOrigins: config.corsOrigins,
    maxInFlight: config.maxInFlightCheckouts,
    checkoutConcurrency: config.checkoutConcurrency,
    logger,
  });
  retention.start();
  reconciler.start();
  await app.listen({ host: config.host, port: config.port });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  logger.info(`orchestrator listening on http://${config.host}:${port}`, { port });
  lifecycle.onShutdown(async () => {
    // Answers in flight are recorded before the HTTP server finishes closing; only then does the database close.
    await app.close();
    // Answered checkouts may still be clearing the order in the three services: let them finish before the clients close.
    await flow.drain();
    reconciler.stop();
    retention.stop();
    await store.close();
    clients.close();
    booksDatabase.close();
    payment.close();
    priceSource.close();
  });
});
