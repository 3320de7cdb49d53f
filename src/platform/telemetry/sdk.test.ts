import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { BasicTracerProvider, BatchSpanProcessor, type ReadableSpan, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { NextTurnSpanExporter } from './sdk';

/** Records each export's span names, and answers it at once. */
class RecordingExporter implements SpanExporter {
  readonly batches: string[][] = [];

  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    this.batches.push(spans.map((s) => s.name));
    done({ code: ExportResultCode.SUCCESS });
  }

  async shutdown(): Promise<void> {}
}

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A tracer whose batches go to `exporter` once `batchSize` spans have ended (the timer never fires in a test). */
function batchingTracer(exporter: SpanExporter, batchSize: number) {
  const provider = new BasicTracerProvider({
    spanProcessors: [new BatchSpanProcessor(exporter, { maxExportBatchSize: batchSize, scheduledDelayMillis: 60_000 })],
  });
  return { provider, tracer: provider.getTracer('test') };
}

describe('NextTurnSpanExporter', () => {
  it('exports a full batch after the span.end() that filled it has returned, not inside it', async () => {
    const inner = new RecordingExporter();
    const { provider, tracer } = batchingTracer(new NextTurnSpanExporter(inner), 3);
    for (const name of ['a', 'b']) tracer.startSpan(name).end();
    tracer.startSpan('c').end(); // fills the batch: the processor exports now
    expect(inner.batches).toEqual([]);

    await nextTurn();
    expect(inner.batches).toEqual([['a', 'b', 'c']]);
    await provider.shutdown();
  });

  it('still exports straight away without it (what the wrapper changes)', async () => {
    const inner = new RecordingExporter();
    const { provider, tracer } = batchingTracer(inner, 3);
    for (const name of ['a', 'b', 'c']) tracer.startSpan(name).end();
    expect(inner.batches).toEqual([['a', 'b', 'c']]);
    await provider.shutdown();
  });

  it('lets a flush wait for the deferred export, so nothing ended before shutdown is lost', async () => {
    const inner = new RecordingExporter();
    const { provider, tracer } = batchingTracer(new NextTurnSpanExporter(inner), 512);
    for (const name of ['a', 'b']) tracer.startSpan(name).end();
    await provider.shutdown();
    expect(inner.batches).toEqual([['a', 'b']]);
  });
});
