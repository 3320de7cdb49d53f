import { loadExecutorConfig } from './config';

describe('order-executor config', () => {
  it('is the first peer by default, listening on its own entry’s port', () => {
    const config = loadExecutorConfig({});
    expect(config.id).toBe('executor-1');
    expect(Object.keys(config.peers)).toEqual(['executor-1', 'executor-2', 'executor-3']);
    expect(config.port).toBe(50061);
    expect(config.dataDir).toBe('./data/order-executor/executor-1');
    expect(config.queueAddress).toBe('127.0.0.1:50054');
    expect(config.raft).toEqual({ tickMs: 10, electionTicks: 14, heartbeatTicks: 4, replicationSampleRate: 0.05, snapshotEntries: 10_000 });
    expect(config.consumer).toEqual({ batch: 256, leaseMs: 5000, backoffMs: 100, lingerMs: 120 });
    expect(config.ledgerRetain).toBe(50_000);
    expect(config.commitProtocol).toBe('2pc');
    expect(config.paymentAddress).toBe('127.0.0.1:50075');
    expect(config.twoPhase).toEqual({ prepareTimeoutMs: 8000, retryMs: 1000, proposeRetryMs: 3000, finishDelayMs: 50 });
  });

  it('holds Finishes back EXECUTOR_2PC_FINISH_DELAY_MS (0: not at all, at most a second)', () => {
    expect(loadExecutorConfig({ EXECUTOR_2PC_FINISH_DELAY_MS: '0' }).twoPhase.finishDelayMs).toBe(0);
    expect(loadExecutorConfig({ EXECUTOR_2PC_FINISH_DELAY_MS: '200' }).twoPhase.finishDelayMs).toBe(200);
    expect(() => loadExecutorConfig({ EXECUTOR_2PC_FINISH_DELAY_MS: '5000' })).toThrow(/EXECUTOR_2PC_FINISH_DELAY_MS/);
  });

  it('lingers EXECUTOR_LEASE_LINGER_MS after a lease that was not full (0: not at all, at most a second)', () => {
    expect(loadExecutorConfig({ EXECUTOR_LEASE_LINGER_MS: '0' }).consumer.lingerMs).toBe(0);
    expect(loadExecutorConfig({ EXECUTOR_LEASE_LINGER_MS: '80' }).consumer.lingerMs).toBe(80);
    expect(() => loadExecutorConfig({ EXECUTOR_LEASE_LINGER_MS: '5000' })).toThrow(/EXECUTOR_LEASE_LINGER_MS/);
  });

  it('commits by two-phase commit when CAUSEWAY_COMMIT_PROTOCOL=2pc, and refuses another protocol or a bad payment address', () => {
    expect(loadExecutorConfig({ CAUSEWAY_COMMIT_PROTOCOL: '2pc', PAYMENT_ADDRESS: 'payment:50075' })).toMatchObject({
      commitProtocol: '2pc',
      paymentAddress: 'payment:50075',
    });
    expect(() => loadExecutorConfig({ CAUSEWAY_COMMIT_PROTOCOL: '3pc' })).toThrow(/CAUSEWAY_COMMIT_PROTOCOL="3pc" must be one of decrement, 2pc/);
    expect(() => loadExecutorConfig({ PAYMENT_ADDRESS: 'payment' })).toThrow(/PAYMENT_ADDRESS must look like host:port/);
  });

  it('takes its id, port and directory from the environment', () => {
    const config = loadExecutorConfig({
      EXECUTOR_ID: 'executor-3',
      CAUSEWAY_DATA_DIR: '/data',
      ORDER_QUEUE_ADDRESS: 'order-queue:50054',
      ORDER_QUEUE_LEASE_MS: '2000',
    });
    expect(config.port).toBe(50063);
    expect(config.dataDir).toBe('/data/order-executor/executor-3');
    expect(config.queueAddress).toBe('order-queue:50054');
    expect(config.consumer.leaseMs).toBe(2000);
    expect(loadExecutorConfig({ EXECUTOR_ID: 'executor-2', EXECUTOR_PORT: '7000' }).port).toBe(7000);
  });

  it('refuses an id that is not one of the peers, and bad ports, naming the variable', () => {
    expect(() => loadExecutorConfig({ EXECUTOR_ID: 'nope' })).toThrow(
      'EXECUTOR_ID="nope" is not one of EXECUTOR_PEERS (executor-1, executor-2, executor-3)',
    );
    expect(() => loadExecutorConfig({ EXECUTOR_PORT: '65536' })).toThrow('EXECUTOR_PORT="65536" must be an integer in [0, 65535]');
    expect(() => loadExecutorConfig({ EXECUTOR_PEERS: 'a=h:70000' })).toThrow('EXECUTOR_PEERS entry a must look like host:port');
    expect(() => loadExecutorConfig({ RAFT_ELECTION_TICKS: '1' })).toThrow('RAFT_ELECTION_TICKS="1" must be an integer in [2,');
    expect(() => loadExecutorConfig({ RAFT_TRACE_SAMPLE_RATE: '5' })).toThrow('RAFT_TRACE_SAMPLE_RATE="5" must be a number in [0, 1]');
  });

  it('starts whatever is wrong in the settings of services it does not run or call', () => {
    const config = loadExecutorConfig({
      FRAUD_MAX_ITEM_QUANTITY: 'lots',
      FRAUD_CONTACT_VELOCITY_LIMIT: '0',
      SUGGESTIONS_COUNT: '0',
      CAUSEWAY_ORDER_TTL_MS: 'never',
      FRAUD_DETECTION_PORT: '99999',
      ORCHESTRATOR_PORT: 'http',
      WEB_PORT: '-1',
    });
    expect(config.id).toBe('executor-1');
  });
});
