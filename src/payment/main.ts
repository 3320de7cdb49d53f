/**
 * Composition root of the payment service: the pure payment state restored from payment.db, the ledger that writes
 * every change before answering, the cooperative termination that asks the executors about holds left waiting, and
 * the gRPC service.
 */
import 'reflect-metadata';
import { container } from 'tsyringe';
import { PaymentDefinition } from '../gen/causeway/v1/payment';
import { ExecutorDecisionClient } from '../order-executor-client/decision-client';
import { hostGrpcService } from '../platform/grpc-host';
import { createLogger, LOGGER } from '../platform/logger';
import { runMain } from '../platform/run-main';
import { systemTime } from '../platform/time';
import { loadPaymentConfig } from './config';
import { PaymentLedger } from './ledger';
import { PaymentMetrics } from './metrics';
import { PaymentState } from './payment-state';
import { PaymentStore } from './payment-store';
import { PaymentService } from './service';
import { TokenSeal } from './token-seal';
import { CooperativeTermination, DECISION_SOURCE, type DecisionSource } from './termination';

/** How often held transactions are checked against the decision timeout. */
const TERMINATION_CHECK_MS = 500;

runMain('payment', async () => {
  const config = loadPaymentConfig();
  const logger = createLogger('payment', config.logLevel);

  const store = PaymentStore.open(config.dataDir);
  const seal = new TokenSeal(store.tokenKey());
  const state = new PaymentState(store.load(), seal);
  const counts = state.stats();
  logger.info(
    `payment records loaded from ${store.file}: ${counts.held} held, ${counts.captured} captured, ${counts.voided} voided, ${counts.declined} declined; fence term ${state.fence}; ${config.declinedCards.size} cards on the decline list`,
    { held: counts.held, fence: state.fence },
  );

  const ledger = new PaymentLedger({
    state,
    store,
    time: systemTime,
    seal,
    declinedCards: config.declinedCards,
    observer: new PaymentMetrics(() => state.stats()),
    onStoreFailure: (err) => {
      // Memory is ahead of the disk: answering on would promise what a restart cannot keep. Recover from the file.
      logger.error(`stopping: a write to ${store.file} failed: ${err.message}`);
      process.exit(1);
    },
  });
  const executors = new ExecutorDecisionClient(config.executors, { callDeadlineMs: config.rpcDeadlineMs, totalMs: 2 * config.rpcDeadlineMs }, logger);

  container.register(LOGGER, { useValue: logger });
  container.register(PaymentLedger, { useValue: ledger });
  container.register<DecisionSource>(DECISION_SOURCE, { useValue: executors });
  const service = container.resolve(PaymentService);
  const termination = new CooperativeTermination(ledger, container.resolve<DecisionSource>(DECISION_SOURCE), systemTime, logger, {
    timeoutMs: config.decisionTimeoutMs,
    retryMs: config.decisionRetryMs,
  });

  await hostGrpcService({
    name: 'payment',
    host: config.host,
    port: config.port,
    logger,
    register: (server) => server.add(PaymentDefinition, service),
    // The cluster view polls Status; every other call is part of a checkout or a commit and is traced.
    untraced: ['/causeway.v1.Payment/Status'],
    onShutdown: () => {
      termination.stop();
      executors.close();
      store.close();
    },
  });
  termination.start(TERMINATION_CHECK_MS);
});
