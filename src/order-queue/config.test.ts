import { loadOrderQueueConfig } from './config';

describe('order-queue config', () => {
  it('has the defaults `npm start` uses', () => {
    expect(loadOrderQueueConfig({})).toEqual({ host: '127.0.0.1', logLevel: 'info', port: 50054, dataDir: './data/order-queue', leaseMs: 5000 });
  });

  it('keeps its journal under CAUSEWAY_DATA_DIR unless ORDER_QUEUE_DATA_DIR says otherwise', () => {
    expect(loadOrderQueueConfig({ CAUSEWAY_DATA_DIR: '/data' }).dataDir).toBe('/data/order-queue');
    expect(loadOrderQueueConfig({ CAUSEWAY_DATA_DIR: '/data', ORDER_QUEUE_DATA_DIR: '/q' }).dataDir).toBe('/q');
  });

  it('refuses its own bad values, naming the variable', () => {
    expect(() => loadOrderQueueConfig({ ORDER_QUEUE_PORT: '99999' })).toThrow('ORDER_QUEUE_PORT="99999" must be an integer in [0, 65535]');
    expect(() => loadOrderQueueConfig({ ORDER_QUEUE_LEASE_MS: '0' })).toThrow('ORDER_QUEUE_LEASE_MS="0" must be an integer in [1,');
  });

  it('starts whatever is wrong in the settings of other services', () => {
    const config = loadOrderQueueConfig({
      EXECUTOR_ID: 'nope',
      EXECUTOR_PEERS: 'garbage',
      CAUSEWAY_RPC_DEADLINE_MS: 'soon',
      FRAUD_MAX_ITEM_QUANTITY: 'lots',
      ORCHESTRATOR_PORT: 'http',
    });
    expect(config.port).toBe(50054);
  });
});
