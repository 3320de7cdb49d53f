/** Composition root of transaction-verification (events A, B, C). */
import { ParticipantRoot } from '../checkout/participant-root';
import { runMain } from '../platform/run-main';
import { FRAUD_DETECTION_CLIENT } from '../checkout/tokens';
import { FraudDetectionDefinition } from '../gen/causeway/v1/fraud_detection';
import { TransactionVerificationDefinition } from '../gen/causeway/v1/transaction_verification';
import { TransactionVerificationService } from './service';

runMain('transaction-verification', async () => {
  const root = new ParticipantRoot('transaction-verification');
  root.container.register(FRAUD_DETECTION_CLIENT, {
    useValue: root.client(FraudDetectionDefinition, 'fraud-detection'),
  });
  const service = root.container.resolve(TransactionVerificationService);
  await root.start((server) => server.add(TransactionVerificationDefinition, service));
});
