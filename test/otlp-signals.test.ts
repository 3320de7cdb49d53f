/**
 * OTEL_TRACES_EXPORTER, OTEL_METRICS_EXPORTER and OTEL_LOGS_EXPORTER in a real process with the telemetry preload, as
 * every service starts: `otlp` (the default) sends the signal to the collector, `none` does not produce it at all,
 * and a value the services do not know stops the process with a one-line error. The process flushes its telemetry
 * before it exits, so what the receiver has once it has exited is all it will ever get.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { OtlpReceiver } from './support/otlp-receiver';
import { requireBuild, ROOT } from './support/system';

const PRELOAD = path.join(ROOT, 'dist', 'platform', 'telemetry', 'preload.js');
const LOGGER = path.join(ROOT, 'dist', 'platform', 'logger.js');
const SDK = path.join(ROOT, 'dist', 'platform', 'telemetry', 'sdk.js');
const INCOMING_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const INCOMING = `00-${INCOMING_TRACE}-00f067aa0ba902b7-01`;

// Continues an incoming trace with one span and one log line inside it, then reports what it would send onwards and
// which providers the SDK registered.
const SCRIPT = `
const api = require(${JSON.stringify(require.resolve('@opentelemetry/api'))});
const { logs } = require(${JSON.stringify(require.resolve('@opentelemetry/api-logs'))});
const { createLogger } = require(${JSON.stringify(LOGGER)});
const { shutdownTelemetry } = require(${JSON.stringify(SDK)});
(async () => {
  const incoming = api.propagation.extract(api.context.active(), { traceparent: ${JSON.stringify(INCOMING)} });
  const onwards = {};
  api.context.with(incoming, () =>
    api.trace.getTracer('signals').startActiveSpan('signals span', (span) => {
      createLogger('signals-test').info('signals line');
      api.propagation.inject(api.context.active(), onwards);
      span.end();
    }),
  );
  await shutdownTelemetry();
  const provider = (p) => p.constructor.name;
  process.stdout.write(JSON.stringify({
    onwards,
    recording: provider(api.trace.getTracerProvider().getDelegate()),
    meter: provider(api.metrics.getMeterProvider()),
    logger: provider(logs.getLoggerProvider()._getDelegate?.() ?? logs.getLoggerProvider()),
  }) + '\\n');
})();
`;

const receiver = new OtlpReceiver();
let endpoint: string;
beforeAll(async () => {
  endpoint = await receiver.start();
});
afterAll(() => receiver.stop());

/** Runs the script in its own process; asynchronously, so that the receiver in this one can answer its exports. */
async function run(env: Record<string, string>) {
  requireBuild();
  const child = await new Promise<{ status: number; stdout: string; stderr: string }>((resolve) =>
    execFile(
      process.execPath,
      ['-r', PRELOAD, '-e', SCRIPT],
      { cwd: ROOT, env: { ...process.env, OTEL_SDK_DISABLED: 'false', OTEL_SERVICE_NAME: 'signals-test', OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, ...env } },
      (err, stdout, stderr) => resolve({ status: err ? Number(err.code ?? -1) : 0, stdout, stderr }),
    ),
  );
  const lines = child.stdout.split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, any>);
  return { status: child.status, stderr: child.stderr, lines, report: lines.at(-1) };
}

const ours = () => ({
  spans: receiver.spans().filter((s) => s.service === 'signals-test'),
  logs: receiver.logs().filter((l) => l.service === 'signals-test'),
});

describe('which signals a service sends (OTEL_*_EXPORTER)', () => {
  it('sends spans and log records over OTLP by default, and keeps metrics', async () => {
    const before = ours();
    const { status, lines, report } = await run({});
    expect(status).toBe(0);
    const spans = ours().spans.slice(before.spans.length);
    const logs = ours().logs.slice(before.logs.length);
    expect(spans.map((s) => [s.name, s.traceId])).toEqual([['signals span', INCOMING_TRACE]]);
    expect(logs.map((l) => [l.body, l.traceId])).toEqual([['signals line', INCOMING_TRACE]]);
    expect(lines.some((l) => l.message === 'signals line')).toBe(true);
    expect(report).toMatchObject({ meter: 'MeterProvider', logger: 'LoggerProvider' });
    expect(report!.recording).not.toBe('NoopTracerProvider');
    expect(report!.onwards.traceparent).toMatch(new RegExp(`^00-${INCOMING_TRACE}-(?!00f067aa0ba902b7)[0-9a-f]{16}-01$`));
  });

  it('with none, records and sends nothing of that signal, and still passes the trace on', async () => {
    const before = ours();
    const { status, lines, report } = await run({ OTEL_TRACES_EXPORTER: 'none', OTEL_METRICS_EXPORTER: 'none', OTEL_LOGS_EXPORTER: 'none' });
    expect(status).toBe(0);
    // The process flushed and exited: nothing more of it will come.
    expect(ours().spans).toHaveLength(before.spans.length);
    expect(ours().logs).toHaveLength(before.logs.length);
    // The JSON line on stdout stays, with the trace it belongs to.
    expect(lines.find((l) => l.message === 'signals line')).toMatchObject({ trace_id: INCOMING_TRACE });
    expect(report).toMatchObject({ recording: 'NoopTracerProvider', meter: 'NoopMeterProvider', logger: 'NoopLoggerProvider' });
    // No span of its own: the incoming context goes on unchanged.
    expect(report!.onwards.traceparent).toBe(INCOMING);
  });

  it('turns off one signal without the others', async () => {
    const before = ours();
    const { status, report } = await run({ OTEL_LOGS_EXPORTER: 'none' });
    expect(status).toBe(0);
    expect(ours().spans.length - before.spans.length).toBe(1);
    expect(ours().logs).toHaveLength(before.logs.length);
    expect(report).toMatchObject({ meter: 'MeterProvider', logger: 'NoopLoggerProvider' });
  });

  it('refuses an exporter it does not have, naming the variable and the choices', async () => {
    const { status, stderr, lines } = await run({ OTEL_METRICS_EXPORTER: 'console' });
    expect(status).toBe(1);
    expect(stderr.trim()).toBe('signals-test failed to start: OTEL_METRICS_EXPORTER="console" must be one of otlp, none');
    expect(lines).toEqual([]);
  });
});
