import { loadFraudDetectionConfig } from './config';

describe('fraud-detection config', () => {
  it('has the defaults `npm start` uses', () => {
    const config = loadFraudDetectionConfig({});
    expect(config.participant).toEqual({ host: '127.0.0.1', logLevel: 'info', port: 50051, rpcDeadlineMs: 3000, orderTtlMs: 120_000, orderArrivalWaitMs: 1000 });
    expect(config.transactionVerificationAddress).toBe('127.0.0.1:50052');
    expect(config.suggestionsAddress).toBe('127.0.0.1:50053');
    expect(config.rules.contactVelocity).toEqual({ limit: 30, windowMs: 60_000 });
    expect(config.rules.cardVelocity).toEqual({ limit: 30, windowMs: 60_000 });
    expect(config.rules.maxItemQuantity).toBe(100);
    expect(config.rules.blockedUsers).toEqual(['blocked@example.com']);
    expect(config.rules.disposableDomains).toContain('mailinator.com');
  });

  it('lower-cases the blocklist and the disposable domains', () => {
    const { rules } = loadFraudDetectionConfig({ FRAUD_BLOCKED_USERS: 'Eve@Example.com, Mallory', FRAUD_DISPOSABLE_DOMAINS: 'Spam.Example' });
    expect(rules.blockedUsers).toEqual(['eve@example.com', 'mallory']);
    expect(rules.disposableDomains).toEqual(['spam.example']);
  });

  it('refuses its own bad values, naming the variable', () => {
    expect(() => loadFraudDetectionConfig({ FRAUD_CARD_VELOCITY_LIMIT: '0' })).toThrow('FRAUD_CARD_VELOCITY_LIMIT="0" must be an integer in [1,');
    expect(() => loadFraudDetectionConfig({ FRAUD_DETECTION_PORT: '65536' })).toThrow('FRAUD_DETECTION_PORT="65536"');
    expect(() => loadFraudDetectionConfig({ SUGGESTIONS_ADDRESS: 'suggestions' })).toThrow('SUGGESTIONS_ADDRESS must look like host:port');
  });

  it('starts whatever is wrong in the settings of services it does not run or call', () => {
    const config = loadFraudDetectionConfig({
      EXECUTOR_ID: 'nope',
      EXECUTOR_PEERS: 'not a peer list',
      RAFT_TICK_MS: 'soon',
      ORDER_QUEUE_PORT: '99999',
      ORDER_QUEUE_LEASE_MS: '-1',
      ORCHESTRATOR_PORT: 'http',
      CAUSEWAY_MAX_INFLIGHT_CHECKOUTS: 'many',
      SUGGESTIONS_COUNT: '1000',
      WEB_PORT: '-8080',
    });
    expect(config.participant.port).toBe(50051);
  });
});
