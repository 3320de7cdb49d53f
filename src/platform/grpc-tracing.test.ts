import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { ClientError, createChannel, createClientFactory, createServer, ServerError, Status, type Server } from 'nice-grpc';
import { OrderExecutorDefinition } from '../gen/causeway/v1/order_executor';
import { HealthCheckResponse_ServingStatus, HealthDefinition } from '../gen/grpc/health/v1/health';
import { clientCalls, serverTracing } from './grpc-tracing';

const CHECK = '/grpc.health.v1.Health/Check';
const exporter = new InMemorySpanExporter();
const sdk = new NodeSDK({ spanProcessors: [new SimpleSpanProcessor(exporter)], instrumentations: [], metricReaders: [] });

/** What the handler does for a service name: answer, fail, or take its time; and the span it ran under. */
let seenInHandler: (string | undefined)[] = [];
let server: Server;
let address: string;

beforeAll(async () => {
  sdk.start();
  server = createServer().use(serverTracing(new Set(['/grpc.health.v1.Health/Unused'])));
  server.add(HealthDefinition, {
    async check({ service }) {
      await new Promise((r) => setTimeout(r, service === 'slow' ? 300 : 1));
      // After an await: the server span must still be the active one here.
      seenInHandler.push(trace.getActiveSpan()?.spanContext().spanId);
      if (service === 'missing') throw new ServerError(Status.NOT_FOUND, 'no such service');
      return { status: HealthCheckResponse_ServingStatus.SERVING };
    },
  });
  address = `127.0.0.1:${await server.listen('127.0.0.1:0')}`;
});
afterAll(async () => {
  await server.shutdown();
  await sdk.shutdown();
});
beforeEach(() => {
  exporter.reset();
  seenInHandler = [];
});

function client(deadlineMs: number, traced: boolean) {
  return createClientFactory().use(clientCalls(deadlineMs, traced)).create(HealthDefinition, createChannel(address));
}

const byKind = (kind: SpanKind) => exporter.getFinishedSpans().filter((s) => s.kind === kind);
const only = (spans: ReadableSpan[]) => {
  expect(spans).toHaveLength(1);
  return spans[0];
};

describe('gRPC tracing and deadlines', () => {
  it('traces a call on both ends in one trace, the server span the child of the client span and active in the handler', async () => {
    await client(1000, true).check({ service: 'ok' });
    const c = only(byKind(SpanKind.CLIENT));
    const s = only(byKind(SpanKind.SERVER));
    expect(c.name).toBe('grpc.health.v1.Health/Check');
    expect(s.name).toBe('grpc.health.v1.Health/Check');
    expect(s.spanContext().traceId).toBe(c.spanContext().traceId);
    expect(s.parentSpanContext?.spanId).toBe(c.spanContext().spanId);
    expect(seenInHandler).toEqual([s.spanContext().spanId]);
    for (const span of [c, s]) {
      expect(span.attributes).toMatchObject({ 'rpc.system': 'grpc', 'rpc.service': 'grpc.health.v1.Health', 'rpc.method': 'Check', 'rpc.grpc.status_code': 0, 'rpc.grpc.status_text': 'OK' });
      expect(span.status.code).toBe(SpanStatusCode.UNSET);
    }
    expect(s.attributes).toMatchObject({ 'net.peer.ip': '127.0.0.1' });
    expect(typeof s.attributes['net.peer.port']).toBe('number');
  });

  it('continues the caller’s active span', async () => {
    const tracer = trace.getTracer('test');
    const parent = await tracer.startActiveSpan('checkout', async (span) => {
      await client(1000, true).check({ service: 'ok' });
      span.end();
      return span;
    });
    expect(only(byKind(SpanKind.CLIENT)).parentSpanContext?.spanId).toBe(parent.spanContext().spanId);
  });

  it('marks both spans as errors with the status a failed call ends with', async () => {
    const error = await client(1000, true).check({ service: 'missing' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ClientError);
    expect((error as ClientError).code).toBe(Status.NOT_FOUND);
    for (const span of [only(byKind(SpanKind.CLIENT)), only(byKind(SpanKind.SERVER))]) {
      expect(span.attributes['rpc.grpc.status_code']).toBe(Status.NOT_FOUND);
      expect(span.status).toEqual({ code: SpanStatusCode.ERROR, message: 'NOT_FOUND: no such service' });
    }
  });

  it('cancels a call at its default deadline with DEADLINE_EXCEEDED, and lets the caller set another', async () => {
    const started = performance.now();
    const error = await client(50, true).check({ service: 'slow' }).catch((e: unknown) => e);
    expect((error as ClientError).code).toBe(Status.DEADLINE_EXCEEDED);
    expect(performance.now() - started).toBeLessThan(280);
    expect(only(byKind(SpanKind.CLIENT)).attributes['rpc.grpc.status_code']).toBe(Status.DEADLINE_EXCEEDED);
    // The caller's own deadline wins over the default: this one is long enough.
    await expect(client(50, true).check({ service: 'slow' }, { deadline: 2000 })).resolves.toEqual({ status: HealthCheckResponse_ServingStatus.SERVING });
  });

  it('keeps the deadline, but makes no span and sends no trace context, for an untraced client', async () => {
    const error = await client(50, false).check({ service: 'slow' }).catch((e: unknown) => e);
    expect((error as ClientError).code).toBe(Status.DEADLINE_EXCEEDED);
    await client(1000, false).check({ service: 'ok' });
    expect(byKind(SpanKind.CLIENT)).toEqual([]);
    // The server still traces its side, as a trace of its own.
    await new Promise((r) => setTimeout(r, 300)); // the slow handler finishes after the client gave up
    const servers = byKind(SpanKind.SERVER);
    expect(servers).toHaveLength(2);
    for (const s of servers) expect(s.parentSpanContext).toBeUndefined();
  });
});

describe('serverTracing', () => {
  it('skips the paths it is told to', async () => {
    const skipping = createServer().use(serverTracing(new Set([CHECK])));
    skipping.add(HealthDefinition, { async check() { return { status: HealthCheckResponse_ServingStatus.SERVING }; } });
    const port = await skipping.listen('127.0.0.1:0');
    try {
      await createClientFactory().use(clientCalls(1000, true)).create(HealthDefinition, createChannel(`127.0.0.1:${port}`)).check({});
      expect(byKind(SpanKind.SERVER)).toEqual([]);
      expect(byKind(SpanKind.CLIENT)).toHaveLength(1);
    } finally {
      await skipping.shutdown();
    }
  });
});

describe('serverTracing with a guard', () => {
  const BROKEN = new Error('handler bug');
  const STREAM = '/causeway.v1.OrderExecutor/Stream';
  /** A service with one client-streaming method (the Raft transport's), to guard a streaming call. */
  const StreamOnly = { name: 'OrderExecutor', fullName: 'causeway.v1.OrderExecutor', methods: { stream: OrderExecutorDefinition.methods.stream } } as const;
  let events: string[] = [];
  let mappedIn: (string | undefined)[] = [];
  let guardedServer: Server;
  let address = '';

  const guard = {
    enter: (path: string) => events.push(`enter ${path}`),
    leave: (path: string) => events.push(`leave ${path}`),
    mapError: (err: unknown) => {
      mappedIn.push(trace.getActiveSpan()?.spanContext().spanId);
      return err === BROKEN ? new ServerError(Status.INTERNAL, 'internal error') : err;
    },
  };
  const health = () => createClientFactory().use(clientCalls(1000, true)).create(HealthDefinition, createChannel(address));

  beforeAll(async () => {
    guardedServer = createServer().use(serverTracing(new Set(), guard));
    guardedServer.add(HealthDefinition, {
      async check({ service }) {
        await new Promise((r) => setTimeout(r, 1));
        if (service === 'broken') throw BROKEN;
        return { status: HealthCheckResponse_ServingStatus.SERVING };
      },
    });
    guardedServer.add(StreamOnly, {
      async stream(requests) {
        for await (const request of requests) void request;
        throw BROKEN;
      },
    });
    address = `127.0.0.1:${await guardedServer.listen('127.0.0.1:0')}`;
  });
  afterAll(() => guardedServer.shutdown());
  beforeEach(() => {
    events = [];
    mappedIn = [];
  });

  it('answers with the mapped error, maps it in the server span, and ends the span with its status', async () => {
    const error = await health().check({ service: 'broken' }).catch((e: unknown) => e);
    expect((error as ClientError).code).toBe(Status.INTERNAL);
    expect((error as ClientError).details).toBe('internal error');
    const s = only(byKind(SpanKind.SERVER));
    expect(mappedIn).toEqual([s.spanContext().spanId]);
    expect(s.status).toEqual({ code: SpanStatusCode.ERROR, message: 'INTERNAL: internal error' });
    expect(events).toEqual([`enter ${CHECK}`, `leave ${CHECK}`]);
  });

  it('counts a call that succeeds in and out once, and maps nothing', async () => {
    await health().check({ service: 'ok' });
    expect(events).toEqual([`enter ${CHECK}`, `leave ${CHECK}`]);
    expect(mappedIn).toEqual([]);
  });

  it('guards a streaming call too: its error is mapped, and it is counted out when it ends', async () => {
    const client = createClientFactory().use(clientCalls(0, false)).create(StreamOnly, createChannel(address));
    async function* requests() {
      yield { messages: [] };
    }
    const error = await client.stream(requests()).catch((e: unknown) => e);
    expect((error as ClientError).code).toBe(Status.INTERNAL);
    expect((error as ClientError).details).toBe('internal error');
    expect(mappedIn).toHaveLength(1);
    expect(events).toEqual([`enter ${STREAM}`, `leave ${STREAM}`]);
  });
});
