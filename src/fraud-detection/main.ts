/** Composition root of fraud-detection (events D, E). */
import { ParticipantRoot } from '../checkout/participant-root';
import { runMain } from '../platform/run-main';
import { SUGGESTIONS_CLIENT, TRANSACTION_VERIFICATION_CLIENT } from '../checkout/tokens';
import { FraudDetectionDefinition } from '../gen/causeway/v1/fraud_detection';
import { SuggestionsDefinition } from '../gen/causeway/v1/suggestions';
import { TransactionVerificationDefinition } from '../gen/causeway/v1/transaction_verification';
import { loadFraudDetectionConfig } from './config';
import { FraudRules } from './rules';
import { FraudDetectionService } from './service';

runMain('fraud-detection', async () => {
  const config = loadFraudDetectionConfig();
  const root = new ParticipantRoot('fraud-detection', config.participant);
  root.container.register(FraudRules, { useValue: new FraudRules(config.rules) });
  root.container.register(TRANSACTION_VERIFICATION_CLIENT, {
    useValue: root.client(TransactionVerificationDefinition, config.transactionVerificationAddress),
  });
  root.container.register(SUGGESTIONS_CLIENT, { useValue: root.client(SuggestionsDefinition, config.suggestionsAddress) });
  const service = root.container.resolve(FraudDetectionService);
  await root.start((server) => server.add(FraudDetectionDefinition, service));
});
