import { metrics } from '@opentelemetry/api';
import { AggregationTemporality, MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { ClientError, createChannel, createClient, Status, type Server } from 'nice-grpc';
import { HealthCheckResponse_ServingStatus, HealthDefinition } from '../gen/grpc/health/v1/health';
import { createLogger } from './logger';

/** Collects on demand, as an export or a scrape does. */
class OnDemandReader extends MetricReader {
  constructor() {
    super({ aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE });
  }
  protected async onForceFlush(): Promise<void> {}
  protected async onShutdown(): Promise<void> {}
}

// The middleware's instrument is made when grpc.ts loads, from the global provider: set it first.
const reader = new OnDemandReader();
const provider = new MeterProvider({ readers: [reader] });
metrics.setGlobalMeterProvider(provider);
const { createGrpcServer } = require('./grpc') as typeof import('./grpc');

const METHOD = '/grpc.health.v1.Health/Check';

/** rpc.server.calls.in_flight for METHOD, as the SDK collects it now. */
async function inFlight(): Promise<number | undefined> {
  const { resourceMetrics } = await reader.collect();
  const metric = resourceMetrics.scopeMetrics.flatMap((s) => s.metrics).find((m) => m.descriptor.name === 'rpc.server.calls.in_flight');
  return metric?.dataPoints.find((p) => p.attributes['rpc.method'] === METHOD)?.value as number | undefined;
}

let server: Server;
let address: string;
let release: () => void = () => undefined;
let held = new Promise<void>((r) => (release = r));

beforeAll(async () => {
  server = createGrpcServer(createLogger('test', 'error'));
  server.add(HealthDefinition, {
    async check() {
      await held;
      return { status: HealthCheckResponse_ServingStatus.SERVING };
    },
  });
  address = `127.0.0.1:${await server.listen('127.0.0.1:0')}`;
});
afterAll(async () => {
  await server.shutdown();
  await provider.shutdown();
  metrics.disable();
});

it('counts the calls a server is handling per method, read when the SDK collects, and back to 0 when they end', async () => {
  const client = createClient(HealthDefinition, createChannel(address));
  const calls = [client.check({ service: 'a' }), client.check({ service: 'b' })];
  const deadline = Date.now() + 5000;
  while ((await inFlight()) !== 2) {
    if (Date.now() > deadline) throw new Error(`expected 2 calls in flight, collected ${await inFlight()}`);
    await new Promise((r) => setTimeout(r, 10));
  }
  release();
  await Promise.all(calls);
  expect(await inFlight()).toBe(0);
  held = new Promise<void>((r) => (release = r));
});

it('answers a handler bug with INTERNAL and no details, logs it with its stack, and keeps a downstream status', async () => {
  const errors: { message: string; meta?: object }[] = [];
  const logger = { level: 'info', isLevelEnabled: () => true, warn() {}, info() {}, debug() {}, error: (message: string, meta?: object) => errors.push({ message, meta }) };
  const failing = createGrpcServer(logger);
  failing.add(HealthDefinition, {
    async check({ service }) {
      if (service === 'downstream') throw new ClientError('/causeway.v1.Payment/Tokenize', Status.UNAVAILABLE, 'payment is down');
      throw new Error('a bug in the handler');
    },
  });
  const port = await failing.listen('127.0.0.1:0');
  try {
    const client = createClient(HealthDefinition, createChannel(`127.0.0.1:${port}`));
    const bug = await client.check({ service: 'bug' }).catch((e: { code: number; details: string }) => e);
    expect(bug).toMatchObject({ code: Status.INTERNAL, details: 'internal error' });
    expect(errors).toHaveLength(1);
    expect(errors[0].message).toBe(`unexpected error in ${METHOD}`);
    expect(errors[0].meta).toMatchObject({ error: 'a bug in the handler', stack: expect.stringContaining('a bug in the handler') });
    const downstream = await client.check({ service: 'downstream' }).catch((e: { code: number; details: string }) => e);
    expect(downstream).toMatchObject({ code: Status.UNAVAILABLE, details: '/causeway.v1.Payment/Tokenize: payment is down' });
    expect(errors).toHaveLength(1);
    expect(await inFlight()).toBe(0);
  } finally {
    await failing.shutdown();
  }
});
