/** Composition root of fraud-detection (events D, E). */
import { ParticipantRoot } from '../checkout/participant-root';
import { runMain } from '../platform/run-main';
import { SUGGESTIONS_CLIENT, TRANSACTION_VERIFICATION_CLIENT } from '../checkout/tokens';
import { FraudDetectionDefinition } from '../gen/causeway/v1/fraud_detection';
import { SuggestionsDefinition } from '../gen/causeway/v1/suggestions';
import { TransactionVerificationDefinition } from '../gen/causeway/v1/transaction_verification';
import { FraudRules } from './rules';
import { FraudDetectionService } from './service';

runMain('fraud-detection', async () => {
  const root = new ParticipantRoot('fraud-detection');
  root.container.register(FraudRules, { useValue: new FraudRules(root.config.fraud) });
  root.container.register(TRANSACTION_VERIFICATION_CLIENT, {
    useValue: root.client(TransactionVerificationDefinition, 'transaction-verification'),
  });
  root.container.register(SUGGESTIONS_CLIENT, { useValue: root.client(SuggestionsDefinition, 'suggestions') });
  const service = root.container.resolve(FraudDetectionService);
  await root.start((server) => server.add(FraudDetectionDefinition, service));
});
