/**
 * A real OTLP/gRPC receiver for traces and logs (TraceService/Export, LogsService/Export)
 * on loopback, keeping everything it is sent so tests can read the spans and log records back.
 */
import { createServer, ServerError, Status, type Server } from 'nice-grpc';
import { ExportLogsServiceRequest, LogsServiceDefinition } from '../../gen/opentelemetry/proto/collector/logs/v1/logs_service';
import {
  ExportTraceServiceRequest,
  TraceServiceDefinition,
  type AnyValue,
  type KeyValue,
} from '../../gen/opentelemetry/proto/collector/trace/v1/trace_service';

export type AttributeValue = string | number | boolean | AttributeValue[] | null;

export interface ReceivedSpan {
  service: string;
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  /** OTLP SpanKind: 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  kind: number;
  attributes: Record<string, AttributeValue>;
  links: { traceId: string; spanId: string; attributes: Record<string, AttributeValue> }[];
  events: { name: string; attributes: Record<string, AttributeValue> }[];
  status: { code: number; message: string };
  /** Start, ms since the epoch (sub-ms precision), and duration in ms. */
  startMs: number;
  durationMs: number;
}

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

/** A fixed64 nanosecond time our trimmed proto decodes as a double (see trace_service.proto), in ms since the epoch. */
function nanosAsMs(bits: number): number {
  const buffer = Buffer.alloc(8);
  buffer.writeDoubleLE(bits);
  return Number(buffer.readBigUInt64LE() / 1000n) / 1000;
}

function valueOf(value: AnyValue | undefined): AttributeValue {
  const v = value?.value;
  if (!v) return null;
  switch (v.$case) {
    case 'stringValue':
      return v.value;
    case 'boolValue':
      return v.value;
    case 'intValue':
    case 'doubleValue':
      return v.value;
    case 'arrayValue':
      return v.value.values.map(valueOf);
    case 'bytesValue':
      return hex(v.value);
  }
}

const attributes = (kvs: KeyValue[]) => Object.fromEntries(kvs.map((kv) => [kv.key, valueOf(kv.value)]));

export interface ReceivedLog {
  service: string;
  severity: string;
  body: AttributeValue;
  attributes: Record<string, AttributeValue>;
  traceId: string;
  spanId: string;
}

/**
 * Export requests of one signal, kept as bytes and decoded the first time someone
 * reads them, so a receiver under load (the bench's) costs little more than a
 * collector on another core would.
 */
class Inbox<T> {
  private readonly raw: Uint8Array[] = [];
  private readonly decoded: T[] = [];
  keep = true;
  /** Sees every request's bytes as it arrives, kept or not (the bench counts spans this way). */
  observe: ((bytes: Uint8Array) => void) | undefined;
  /** Answer every export UNAVAILABLE (after filing it), as a collector that is up but failing would. */
  refuse = false;

  constructor(private readonly decode: (bytes: Uint8Array) => T) {}

  /** A copy of a service definition whose Export hands its handler the request's bytes. */
  undecoded<D extends { methods: { export: { requestType: object } } }>(definition: D): D {
    const method = definition.methods.export;
    return { ...definition, methods: { export: { ...method, requestType: { ...method.requestType, decode: (input: Uint8Array) => input } } } };
  }

  /** The Export handler: files the bytes (the request, as `undecoded` delivers it) unless told to discard. */
  readonly handler = {
    export: async (request: unknown) => {
      this.observe?.(request as Uint8Array);
      if (this.keep) this.raw.push(request as Uint8Array);
      if (this.refuse) throw new ServerError(Status.UNAVAILABLE, 'this test collector refuses every export');
      return {};
    },
  };

  all(): T[] {
    for (const bytes of this.raw.splice(0)) this.decoded.push(this.decode(bytes));
    return this.decoded;
  }
}

export class OtlpReceiver {
  private readonly traces = new Inbox((bytes) => ExportTraceServiceRequest.decode(bytes));
  private readonly logInbox = new Inbox((bytes) => ExportLogsServiceRequest.decode(bytes));
  private server: Server | undefined;
  port = 0;

  async start(): Promise<string> {
    this.server = createServer();
    this.server.add(this.traces.undecoded(TraceServiceDefinition), this.traces.handler);
    this.server.add(this.logInbox.undecoded(LogsServiceDefinition), this.logInbox.handler);
    this.port = await this.server.listen('127.0.0.1:0');
    return `http://127.0.0.1:${this.port}`;
  }

  /** From now on, file every export and then fail it: for tests of what a service does when exporting fails. */
  refuseAll(): void {
    this.traces.refuse = true;
    this.logInbox.refuse = true;
  }

  /** From now on, answer exports without keeping them (a long load run would otherwise fill the memory). */
  discard(): void {
    this.traces.keep = false;
    this.logInbox.keep = false;
  }

  /** Hands every trace export request's raw bytes to `observer` as it arrives, whether kept or discarded. */
  observeTraces(observer: (bytes: Uint8Array) => void): void {
    this.traces.observe = observer;
  }

  async stop(): Promise<void> {
    this.server?.forceShutdown();
  }

  get requests(): ExportTraceServiceRequest[] {
    return this.traces.all();
  }

  get logRequests(): ExportLogsServiceRequest[] {
    return this.logInbox.all();
  }

  logs(): ReceivedLog[] {
    return this.logRequests.flatMap((request) =>
      request.resourceLogs.flatMap((rl) => {
        const service = String(attributes(rl.resource?.attributes ?? [])['service.name'] ?? '');
        return rl.scopeLogs.flatMap((sl) =>
          sl.logRecords.map((record) => ({
            service,
            severity: record.severityText,
            body: valueOf(record.body),
            attributes: attributes(record.attributes),
            traceId: hex(record.traceId),
            spanId: hex(record.spanId),
          })),
        );
      }),
    );
  }

  spans(): ReceivedSpan[] {
    return this.requests.flatMap((request) =>
      request.resourceSpans.flatMap((rs) => {
        const service = String(attributes(rs.resource?.attributes ?? [])['service.name'] ?? '');
        return rs.scopeSpans.flatMap((ss) =>
          ss.spans.map((span) => ({
            service,
            traceId: hex(span.traceId),
            spanId: hex(span.spanId),
            parentSpanId: hex(span.parentSpanId),
            name: span.name,
            kind: span.kind,
            attributes: attributes(span.attributes),
            links: span.links.map((l) => ({ traceId: hex(l.traceId), spanId: hex(l.spanId), attributes: attributes(l.attributes) })),
            events: span.events.map((e) => ({ name: e.name, attributes: attributes(e.attributes) })),
            status: { code: span.status?.code ?? 0, message: span.status?.message ?? '' },
            startMs: nanosAsMs(span.startTimeUnixNano),
            durationMs: nanosAsMs(span.endTimeUnixNano) - nanosAsMs(span.startTimeUnixNano),
          })),
        );
      }),
    );
  }
}
