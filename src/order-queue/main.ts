/** Composition root of the order queue: journal replay, lease expiry timer, gRPC hosting. */
import 'reflect-metadata';
import { metrics } from '@opentelemetry/api';
import { container } from 'tsyringe';
import { runMain } from '../platform/run-main';
import { OrderQueueDefinition } from '../gen/causeway/v1/order_queue';
import { hostGrpcService } from '../platform/grpc-host';
import { createLogger, LOGGER } from '../platform/logger';
import { systemTime, TIME } from '../platform/time';
import { Journal } from './journal';
import { loadOrderQueueConfig } from './config';
import { DEFAULT_LEASE_MS, JOURNAL, OrderQueueService, QUEUE_STATE } from './service';

/** How often leases past their visibility timeout are released. */
const EXPIRY_INTERVAL_MS = 250;

runMain('order-queue', async () => {
  const config = loadOrderQueueConfig();
  const logger = createLogger('order-queue', config.logLevel);

  const journal = new Journal(config.dataDir, {
    onFailure: (err) => {
      // The disk no longer holds what we think it does: stop, and let a restart replay the journal.
      logger.error('journal write failed; exiting so a restart recovers from the journal', { error: err.message });
      process.exit(1);
    },
  });
  const state = await journal.load();
  if (journal.truncatedBytes > 0) {
    logger.warn(`cut ${journal.truncatedBytes} bytes of a torn final record off the journal`, { file: journal.file });
  }
  logger.info(`journal replayed: ${state.depth} orders waiting, term ${state.term}`, {
    file: journal.file,
    records: journal.size,
    depth: state.depth,
    term: state.term,
  });

  container.register(DEFAULT_LEASE_MS, { useValue: config.leaseMs });
  container.register(LOGGER, { useValue: logger });
  container.register(TIME, { useValue: systemTime });
  container.register(QUEUE_STATE, { useValue: state });
  container.register(JOURNAL, { useValue: journal });
  const service = container.resolve(OrderQueueService);

  // Metrics (OTLP, and Prometheus /metrics on CAUSEWAY_METRICS_PORT): the queue's own view of its depth.
  const meter = metrics.getMeter('causeway.order-queue');
  meter.createObservableGauge('order.queue.depth', { unit: '{order}', description: 'Orders enqueued and not yet acked' }).addCallback((r) => {
    const s = state.stats();
    r.observe(s.ready, { state: 'ready' });
    r.observe(s.leased, { state: 'leased' });
  });
  meter.createObservableCounter('order.queue.enqueued', { unit: '{order}', description: 'Orders enqueued since start' }).addCallback((r) => r.observe(state.stats().enqueuedTotal));
  meter.createObservableCounter('order.queue.redelivered', { unit: '{lease}', description: 'Leases delivered again after expiry or failover' }).addCallback((r) =>
    r.observe(state.stats().redeliveredTotal),
  );

  const expiry = setInterval(() => service.expireLeases(), EXPIRY_INTERVAL_MS);
  expiry.unref();

  await hostGrpcService({
    name: 'order-queue',
    host: config.host,
    port: config.port,
    logger,
    register: (server) => server.add(OrderQueueDefinition, service),
    // Enqueues are traced (a batched order gets its own span in its checkout's trace); the leader's long polls and
    // acks would flood the trace store.
    untraced: ['/causeway.v1.OrderQueue/Dequeue', '/causeway.v1.OrderQueue/Ack', '/causeway.v1.OrderQueue/Nack', '/causeway.v1.OrderQueue/Stats'],
    onShutdown: async () => {
      clearInterval(expiry);
      await journal.close();
    },
  });
});
