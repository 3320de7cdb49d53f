import { metrics } from '@opentelemetry/api';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { watchEventLoop } from './event-loop';
import type { Logger } from './logger';

class ManualReader extends MetricReader {
  protected async onForceFlush(): Promise<void> {}
  protected async onShutdown(): Promise<void> {}
}

function recordingLogger() {
  const warnings: { message: string; meta?: object }[] = [];
  const logger = { level: 'info', isLevelEnabled: () => true, error() {}, info() {}, debug() {}, warn: (message: string, meta?: object) => warnings.push({ message, meta }) } as Logger;
  return { logger, warnings };
}

/** Keeps the thread busy, as a long synchronous task would. */
function block(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end);
}

const settle = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('watchEventLoop', () => {
  const reader = new ManualReader();
  beforeAll(() => metrics.setGlobalMeterProvider(new MeterProvider({ readers: [reader] })));
  afterAll(() => metrics.disable());

  it('warns about a stall longer than the limit, saying how long it lasted, and reports it as the delay max', async () => {
    const { logger, warnings } = recordingLogger();
    const stop = watchEventLoop(logger, { warnAfterMs: 100, checkEveryMs: 20 });
    try {
      await settle(60);
      block(300);
      await settle(60);
      // (A busy machine may add a stall of its own; the one we caused is the longest.)
      const stalls = warnings.filter((w) => /^the event loop was blocked for \d+ ms$/.test(w.message));
      const blocked = Math.max(...stalls.map((w) => (w.meta as { event_loop_blocked_ms: number }).event_loop_blocked_ms));
      expect(blocked).toBeGreaterThanOrEqual(250);
      expect(blocked).toBeLessThan(2000);

      const { resourceMetrics } = await reader.collect();
      const points = Object.fromEntries(
        resourceMetrics.scopeMetrics.flatMap((s) => s.metrics).map((m) => [m.descriptor.name, m.dataPoints[0]?.value as number]),
      );
      expect(points['nodejs.eventloop.delay.max']).toBeGreaterThanOrEqual(250);
      expect(points['nodejs.eventloop.delay.p99']).toBeGreaterThan(0);
      // The period starts again at each collection: nothing blocked since, so the max is below the 300 ms stall.
      await settle(50);
      const again = await reader.collect();
      const max = again.resourceMetrics.scopeMetrics.flatMap((s) => s.metrics).find((m) => m.descriptor.name === 'nodejs.eventloop.delay.max');
      expect(max!.dataPoints[0].value as number).toBeLessThan(250);
    } finally {
      stop();
    }
  });
});
