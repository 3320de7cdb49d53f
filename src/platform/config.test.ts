import {
  ConfigError,
  parsePeers,
  readBool,
  readDataDir,
  readExecutorPeers,
  readFraction,
  readInt,
  readList,
  readOtlpEndpoints,
  readOtlpSignals,
  readPort,
  readProcessConfig,
  readServiceAddress,
  readServicePort,
} from './config';

describe('the shared readers', () => {
  it('fall back on unset or blank variables', () => {
    expect(readInt({}, 'N', 7)).toBe(7);
    expect(readInt({ N: '  ' }, 'N', 7)).toBe(7);
    expect(readFraction({}, 'F', 0.5)).toBe(0.5);
    expect(readBool({ B: '' }, 'B', true)).toBe(true);
    expect(readList({}, 'L', ['a'])).toEqual(['a']);
  });

  it('parse what is set', () => {
    expect(readInt({ N: '42' }, 'N', 7)).toBe(42);
    expect(readFraction({ F: '0.25' }, 'F', 0.5)).toBe(0.25);
    expect(readBool({ B: 'Yes' }, 'B', false)).toBe(true);
    expect(readBool({ B: 'off' }, 'B', true)).toBe(false);
    expect(readList({ L: ' a, ,b ' }, 'L', [])).toEqual(['a', 'b']);
    expect(readList({ L: '' }, 'L', ['a'])).toEqual([]);
  });

  it('refuse bad values with a message naming the variable, the value and what is expected', () => {
    expect(() => readInt({ N: '1.5' }, 'N', 7, 1, 10)).toThrow(new ConfigError('N="1.5" must be an integer in [1, 10]'));
    expect(() => readInt({ N: '11' }, 'N', 7, 1, 10)).toThrow(ConfigError);
    expect(() => readFraction({ F: '2' }, 'F', 0.5)).toThrow('F="2" must be a number in [0, 1]');
    expect(() => readBool({ B: 'maybe' }, 'B', false)).toThrow('B="maybe" must be true or false');
  });

  it('validate every port: an integer in [0, 65535]', () => {
    expect(readPort({ P: '0' }, 'P', 1)).toBe(0);
    expect(readPort({ P: '65535' }, 'P', 1)).toBe(65535);
    for (const bad of ['65536', '-1', 'http', '80.5']) {
      expect(() => readPort({ P: bad }, 'P', 1)).toThrow(`P=${JSON.stringify(bad)} must be an integer in [0, 65535]`);
    }
    expect(readServicePort({}, 'fraud-detection')).toBe(50051);
    expect(() => readServicePort({ FRAUD_DETECTION_PORT: '70000' }, 'fraud-detection')).toThrow('FRAUD_DETECTION_PORT="70000"');
  });
});

describe('the shared settings', () => {
  it('binds loopback unless CAUSEWAY_HOST says otherwise (containers set 0.0.0.0), and logs at info', () => {
    expect(readProcessConfig({})).toEqual({ host: '127.0.0.1', logLevel: 'info' });
    expect(readProcessConfig({ CAUSEWAY_HOST: '0.0.0.0', LOG_LEVEL: 'debug' })).toEqual({ host: '0.0.0.0', logLevel: 'debug' });
    expect(() => readProcessConfig({ LOG_LEVEL: 'loud' })).toThrow('LOG_LEVEL="loud" must be one of error, warn, info');
  });

  it('reaches a service at its own port on loopback unless <SERVICE>_ADDRESS says where', () => {
    expect(readServiceAddress({}, 'order-queue')).toBe('127.0.0.1:50054');
    expect(readServiceAddress({ ORDER_QUEUE_PORT: '6000' }, 'order-queue')).toBe('127.0.0.1:6000');
    expect(readServiceAddress({ ORDER_QUEUE_ADDRESS: 'order-queue:50054' }, 'order-queue')).toBe('order-queue:50054');
    expect(readServiceAddress({ SUGGESTIONS_ADDRESS: '[::1]:50053' }, 'suggestions')).toBe('[::1]:50053');
    expect(() => readServiceAddress({ SUGGESTIONS_ADDRESS: 'suggestions' }, 'suggestions')).toThrow(
      'SUGGESTIONS_ADDRESS must look like host:port with a port in [1, 65535], got "suggestions"',
    );
    expect(() => readServiceAddress({ SUGGESTIONS_ADDRESS: 'suggestions:99999' }, 'suggestions')).toThrow(ConfigError);
  });

  it('reads the executor cluster as id=host:port entries, ports checked', () => {
    expect(readExecutorPeers({})).toEqual({
      'executor-1': '127.0.0.1:50061',
      'executor-2': '127.0.0.1:50062',
      'executor-3': '127.0.0.1:50063',
    });
    expect(parsePeers('a=h1:1, b=h2:2')).toEqual({ a: 'h1:1', b: 'h2:2' });
    expect(() => parsePeers('a=h1')).toThrow('EXECUTOR_PEERS entry a must look like host:port');
    expect(() => parsePeers('a=h1:65536')).toThrow('EXECUTOR_PEERS entry a must look like host:port with a port in [1, 65535]');
    expect(() => parsePeers('h1:1')).toThrow('EXECUTOR_PEERS entry "h1:1" must look like id=host:port');
    expect(() => parsePeers(' , ')).toThrow('EXECUTOR_PEERS lists no executors');
  });

  it('puts durable files under CAUSEWAY_DATA_DIR unless the process has its own directory', () => {
    expect(readDataDir({}, 'X_DATA_DIR', 'x')).toBe('./data/x');
    expect(readDataDir({ CAUSEWAY_DATA_DIR: '/data' }, 'X_DATA_DIR', 'x')).toBe('/data/x');
    expect(readDataDir({ CAUSEWAY_DATA_DIR: '/data', X_DATA_DIR: '/elsewhere' }, 'X_DATA_DIR', 'x')).toBe('/elsewhere');
  });

  it('sends every signal over OTLP unless its OTEL_*_EXPORTER says none', () => {
    expect(readOtlpSignals({})).toEqual({ traces: true, metrics: true, logs: true });
    expect(readOtlpSignals({ OTEL_TRACES_EXPORTER: 'none', OTEL_METRICS_EXPORTER: ' otlp ', OTEL_LOGS_EXPORTER: 'none' })).toEqual({
      traces: false,
      metrics: true,
      logs: false,
    });
    expect(() => readOtlpSignals({ OTEL_LOGS_EXPORTER: 'console' })).toThrow('OTEL_LOGS_EXPORTER="console" must be one of otlp, none');
  });

  it('reads the OTLP endpoint once, with the per-signal overrides', () => {
    expect(readOtlpEndpoints({})).toEqual({ traces: 'http://localhost:4317', metrics: 'http://localhost:4317', logs: 'http://localhost:4317' });
    expect(
      readOtlpEndpoints({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4317', OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: 'http://loki:4317' }),
    ).toEqual({ traces: 'http://collector:4317', metrics: 'http://collector:4317', logs: 'http://loki:4317' });
  });
});
