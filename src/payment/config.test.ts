import { ConfigError } from '../platform/config';
import { loadPaymentConfig } from './config';

describe('loadPaymentConfig', () => {
  it('defaults: port 50075, data under CAUSEWAY_DATA_DIR/payment, the test decline number, a 10 s decision timeout', () => {
    const config = loadPaymentConfig({ CAUSEWAY_DATA_DIR: '/var/causeway' });
    expect(config).toMatchObject({ port: 50075, dataDir: '/var/causeway/payment', decisionTimeoutMs: 10_000, decisionRetryMs: 2000 });
    expect([...config.declinedCards]).toEqual(['4000000000000002']);
    expect(Object.keys(config.executors)).toEqual(['executor-1', 'executor-2', 'executor-3']);
  });

  it('reads the decline list with spaces and hyphens, and an empty list as none', () => {
    expect([...loadPaymentConfig({ PAYMENT_DECLINED_CARDS: '5555 5555 5555 4444, 4000-0000-0000-0002' }).declinedCards]).toEqual(['5555555555554444', '4000000000000002']);
    expect(loadPaymentConfig({ PAYMENT_DECLINED_CARDS: '' }).declinedCards.size).toBe(0);
  });

  it('refuses a decline-list entry that is not a card number, naming its position and not its text', () => {
    expect(() => loadPaymentConfig({ PAYMENT_DECLINED_CARDS: '4000000000000002,41111111111x1111' })).toThrow(ConfigError);
    expect(() => loadPaymentConfig({ PAYMENT_DECLINED_CARDS: '4000000000000002,41111111111x1111' })).toThrow(/^PAYMENT_DECLINED_CARDS entry 2 is not/);
    // The whole message, so nothing of the entry can be in it.
    expect(() => loadPaymentConfig({ PAYMENT_DECLINED_CARDS: '41111111111x1111' })).toThrow(/^PAYMENT_DECLINED_CARDS entry 1 is not a card number \(12 to 19 digits\)$/);
  });

  it('takes PAYMENT_PORT, PAYMENT_DATA_DIR and the decision timings', () => {
    expect(loadPaymentConfig({ PAYMENT_PORT: '6000', PAYMENT_DATA_DIR: '/d', PAYMENT_DECISION_TIMEOUT_MS: '500', PAYMENT_DECISION_RETRY_MS: '100' })).toMatchObject({
      port: 6000,
      dataDir: '/d',
      decisionTimeoutMs: 500,
      decisionRetryMs: 100,
    });
    expect(() => loadPaymentConfig({ PAYMENT_DECISION_TIMEOUT_MS: '0' })).toThrow(ConfigError);
  });
});
