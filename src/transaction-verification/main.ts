/** Composition root of transaction-verification (events A, B, C). */
import { ParticipantRoot } from '../checkout/participant-root';
import { runMain } from '../platform/run-main';
import { FRAUD_DETECTION_CLIENT } from '../checkout/tokens';
import { FraudDetectionDefinition } from '../gen/causeway/v1/fraud_detection';
import { TransactionVerificationDefinition } from '../gen/causeway/v1/transaction_verification';
import { loadTransactionVerificationConfig } from './config';
import { TransactionVerificationService } from './service';

runMain('transaction-verification', async () => {
  const config = loadTransactionVerificationConfig();
  const root = new ParticipantRoot('transaction-verification', config.participant);
  root.container.register(FRAUD_DETECTION_CLIENT, {
    useValue: root.client(FraudDetectionDefinition, config.fraudDetectionAddress),
  });
  const service = root.container.resolve(TransactionVerificationService);
  await root.start((server) => server.add(TransactionVerificationDefinition, service));
});
