import { loadOrchestratorConfig } from './config';

describe('orchestrator config', () => {
  it('has the defaults `npm start` uses', () => {
    const config = loadOrchestratorConfig({});
    expect(config.port).toBe(8081);
    expect(config.addresses).toEqual({
      'transaction-verification': '127.0.0.1:50052',
      'fraud-detection': '127.0.0.1:50051',
      suggestions: '127.0.0.1:50053',
      'order-queue': '127.0.0.1:50054',
      payment: '127.0.0.1:50075',
    });
    expect(Object.keys(config.executors)).toEqual(['executor-1', 'executor-2', 'executor-3']);
    expect(config.corsOrigins).toEqual(['http://localhost:8080', 'http://127.0.0.1:8080']);
    expect(config.localMode).toBe(false);
    expect(config.maxInFlightCheckouts).toBe(256);
    expect(config.dataDir).toBe('./data/orchestrator');
    expect(config.orderRetentionDays).toBe(30);
    expect(Object.keys(config.booksDatabase)).toEqual(['books-1', 'books-2', 'books-3']);
    expect(config.adminToken).toBeUndefined();
  });

  it('takes an admin token of at least 16 characters, and refuses a shorter one without echoing it', () => {
    expect(loadOrchestratorConfig({ CAUSEWAY_ADMIN_TOKEN: 'a-long-enough-token' }).adminToken).toBe('a-long-enough-token');
    expect(loadOrchestratorConfig({ CAUSEWAY_ADMIN_TOKEN: '' }).adminToken).toBeUndefined();
    let message = '';
    try {
      loadOrchestratorConfig({ CAUSEWAY_ADMIN_TOKEN: 'hunter2' });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/CAUSEWAY_ADMIN_TOKEN must be at least 16 characters/);
    expect(message).not.toContain('hunter2');
  });

  it('allows the web app on its configured port, and reaches the services where they are told to listen', () => {
    const config = loadOrchestratorConfig({ WEB_PORT: '9000', SUGGESTIONS_PORT: '6003', CAUSEWAY_LOCAL_MODE: 'true' });
    expect(config.corsOrigins).toEqual(['http://localhost:9000', 'http://127.0.0.1:9000']);
    expect(config.addresses.suggestions).toBe('127.0.0.1:6003');
    expect(config.localMode).toBe(true);
  });

  it('refuses its own bad values, naming the variable', () => {
    expect(() => loadOrchestratorConfig({ ORCHESTRATOR_PORT: '80a' })).toThrow('ORCHESTRATOR_PORT="80a" must be an integer in [0, 65535]');
    expect(() => loadOrchestratorConfig({ CAUSEWAY_MAX_INFLIGHT_CHECKOUTS: '0' })).toThrow('CAUSEWAY_MAX_INFLIGHT_CHECKOUTS="0"');
    expect(() => loadOrchestratorConfig({ CAUSEWAY_LOCAL_MODE: 'sometimes' })).toThrow('CAUSEWAY_LOCAL_MODE="sometimes" must be true or false');
    expect(() => loadOrchestratorConfig({ CAUSEWAY_CHECKOUT_CONCURRENCY: '0' })).toThrow('CAUSEWAY_CHECKOUT_CONCURRENCY="0"');
    expect(() => loadOrchestratorConfig({ CAUSEWAY_CHECKOUT_CONCURRENCY: '64', CAUSEWAY_MAX_INFLIGHT_CHECKOUTS: '16' })).toThrow(
      'CAUSEWAY_CHECKOUT_CONCURRENCY=64 is above CAUSEWAY_MAX_INFLIGHT_CHECKOUTS=16',
    );
  });

  it('lets 64 checkouts run at once by default, never more than may be in progress', () => {
    expect(loadOrchestratorConfig({}).checkoutConcurrency).toBe(64);
    expect(loadOrchestratorConfig({ CAUSEWAY_MAX_INFLIGHT_CHECKOUTS: '8' }).checkoutConcurrency).toBe(8);
    expect(loadOrchestratorConfig({ CAUSEWAY_CHECKOUT_CONCURRENCY: '4' }).checkoutConcurrency).toBe(4);
  });

  it('starts whatever is wrong in the settings of services it only calls or does not know', () => {
    const config = loadOrchestratorConfig({
      EXECUTOR_ID: 'nope',
      RAFT_TICK_MS: 'soon',
      FRAUD_MAX_ITEM_QUANTITY: 'lots',
      SUGGESTIONS_COUNT: '1000',
      ORDER_QUEUE_LEASE_MS: '-1',
      JAEGER_URL: '',
    });
    expect(config.port).toBe(8081);
  });
});
