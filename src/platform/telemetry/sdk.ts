import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-grpc';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-grpc';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { BatchLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { PeriodicExportingMetricReader, type IMetricReader } from '@opentelemetry/sdk-metrics';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { BatchSpanProcessor, type ReadableSpan, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import { readBool, readHost, readOtlpEndpoints, readOtlpSignals, readPort } from '../config';

type Report = (level: 'warn' | 'info', message: string) => void;

/**
 * Wraps the OTLP exporter so that a missing collector is reported once (and its
 * return once), instead of an error per batch; the service never depends on it.
 */
export class ReportingSpanExporter implements SpanExporter {
  private healthy: boolean | undefined;

  constructor(
    private readonly inner: SpanExporter,
    private readonly endpoint: string,
    private readonly report: Report,
  ) {}

  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    this.inner.export(spans, (result) => {
      const ok = result.code === ExportResultCode.SUCCESS;
      if (!ok && this.healthy !== false) {
        this.report(
          'warn',
          `trace export to ${this.endpoint} failed (${result.error?.message ?? 'unknown error'}); ` +
            'the service keeps working and keeps retrying quietly; start a collector or set OTEL_EXPORTER_OTLP_ENDPOINT',
        );
      } else if (ok && this.healthy === false) {
        this.report('info', `trace export to ${this.endpoint} recovered`);
      }
      this.healthy = ok;
      done(result);
    });
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush?.() ?? Promise.resolve();
  }
}

/**
 * The BatchSpanProcessor exports a batch the moment it is full, from inside the `span.end()` that filled it, and the
 * exporter serializes the whole batch (512 spans, 1.5–3 ms) before returning. That `end()` is usually a server span
 * ending in the gRPC middleware, just before the call's answer is sent: one answer in every batch waited for the
 * serialization of everybody's spans. This hands each batch to the exporter on the next turn of the event loop
 * instead, between calls rather than inside one; the batch, its order and its result are the same.
 */
export class NextTurnSpanExporter implements SpanExporter {
  constructor(private readonly inner: SpanExporter) {}

  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    setImmediate(() => this.inner.export(spans, done));
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush?.() ?? Promise.resolve();
  }
}

let sdk: NodeSDK | undefined;

/**
 * Starts OpenTelemetry for this process: traces, metrics and logs over OTLP/gRPC. Runs first (see preload.ts), so the
 * global tracer, meter and logger providers are in place before any service code asks for them.
 */
export function startTelemetry(serviceName: string, env: NodeJS.ProcessEnv = process.env): void {
  if (sdk || readBool(env, 'OTEL_SDK_DISABLED', false)) return;
  const endpoints = readOtlpEndpoints(env);
  const signals = readOtlpSignals(env);
  const metricsPort = env.CAUSEWAY_METRICS_PORT?.trim() ? readPort(env, 'CAUSEWAY_METRICS_PORT', 0) : undefined;
  const report: Report = (level, message) =>
    process.stdout.write(
      JSON.stringify({ level, message, service: serviceName, timestamp: new Date().toISOString() }) + '\n',
    );
  // Without a span processor the SDK registers no tracer provider: spans record nothing, and an incoming trace
  // context still passes through to the calls this service makes.
  const spanProcessors = signals.traces
    ? [
        new BatchSpanProcessor(
          new NextTurnSpanExporter(
            new ReportingSpanExporter(new OTLPTraceExporter({ url: endpoints.traces }), endpoints.traces, report),
          ),
        ),
      ]
    : [];
  // Metrics go out over OTLP, and, where CAUSEWAY_METRICS_PORT is set, on a Prometheus /metrics endpoint. With
  // neither, the SDK registers no meter provider and every instrument is a no-op.
  const metricReaders: IMetricReader[] = [];
  if (signals.metrics) {
    metricReaders.push(
      new PeriodicExportingMetricReader({
        exporter: new OTLPMetricExporter({ url: endpoints.metrics }),
        exportIntervalMillis: 10_000,
      }),
    );
  }
  if (metricsPort !== undefined) {
    metricReaders.push(new PrometheusExporter({ host: readHost(env), port: metricsPort }));
  }
  sdk = new NodeSDK({
    resource: resourceFromAttributes({
      [ATTR_SERVICE_NAME]: serviceName,
      [ATTR_SERVICE_VERSION]: env.npm_package_version ?? '0.1.0',
      'service.namespace': 'causeway',
    }),
    spanProcessors,
    metricReaders,
    // Log records (from the winston transport in logger.ts) go out over OTLP too, for Loki. Left out, the SDK reads
    // OTEL_LOGS_EXPORTER=none itself and registers no logger provider (and logger.ts adds no transport).
    logRecordProcessors: signals.logs
      ? [new BatchLogRecordProcessor({ exporter: new OTLPLogExporter({ url: endpoints.logs }) })]
      : undefined,
    // No auto-instrumentation: gRPC calls are traced by our own middleware (platform/grpc-tracing.ts) and
    // the orchestrator's HTTP requests by two Fastify hooks (orchestrator/http-tracing.ts).
    instrumentations: [],
  });
  sdk.start();
}

/** Flushes and stops the SDK; safe to call when telemetry never started. */
export async function shutdownTelemetry(): Promise<void> {
  const running = sdk;
  sdk = undefined;
  await running?.shutdown().catch(() => undefined);
}
