import { loadTransactionVerificationConfig } from './config';

describe('transaction-verification config', () => {
  it('listens on TRANSACTION_VERIFICATION_PORT and calls fraud-detection', () => {
    const config = loadTransactionVerificationConfig({});
    expect(config.participant.port).toBe(50052);
    expect(config.fraudDetectionAddress).toBe('127.0.0.1:50051');
    expect(loadTransactionVerificationConfig({ FRAUD_DETECTION_ADDRESS: 'fraud-detection:50051' }).fraudDetectionAddress).toBe(
      'fraud-detection:50051',
    );
  });

  it('refuses its own bad values, naming the variable', () => {
    expect(() => loadTransactionVerificationConfig({ TRANSACTION_VERIFICATION_PORT: 'x' })).toThrow('TRANSACTION_VERIFICATION_PORT="x"');
    expect(() => loadTransactionVerificationConfig({ FRAUD_DETECTION_ADDRESS: 'fraud-detection' })).toThrow('FRAUD_DETECTION_ADDRESS');
    expect(() => loadTransactionVerificationConfig({ CAUSEWAY_RPC_DEADLINE_MS: '0' })).toThrow('CAUSEWAY_RPC_DEADLINE_MS="0"');
  });

  it('starts whatever is wrong in the settings of other services', () => {
    const config = loadTransactionVerificationConfig({ EXECUTOR_ID: 'nope', FRAUD_MAX_ITEM_QUANTITY: 'lots', SUGGESTIONS_ADDRESS: 'x' });
    expect(config.participant.port).toBe(50052);
  });
});
