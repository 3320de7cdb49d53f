import { metrics, type BatchObservableCallback } from '@opentelemetry/api';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { Logger } from './logger';

/**
 * Watches this process's event loop. Everything a Node service does waits for the loop, so a stall (a long
 * synchronous task, a major GC, a blocking write) delays every request in flight at once: it is the first
 * suspect for a latency tail, and invisible in traces, where it shows only as a gap.
 *
 * - `nodejs.eventloop.delay.max` and `.p99` (ms): how late the loop ran timers since the last collection (by any
 *   reader: the OTLP export and a Prometheus scrape each start a new period).
 * - A warning in the log when one stall lasts longer than `warnAfterMs`, saying how long, so a slow trace can be
 *   matched with the process that stalled.
 */
export interface EventLoopWatchOptions {
  warnAfterMs: number;
  /** How often the stall check runs. */
  checkEveryMs?: number;
}

export function watchEventLoop(logger: Logger, options: EventLoopWatchOptions): () => void {
  const histogram = monitorEventLoopDelay({ resolution: 10 });
  histogram.enable();
  const meter = metrics.getMeter('causeway.runtime');
  const max = meter.createObservableGauge('nodejs.eventloop.delay.max', {
    unit: 'ms',
    description: 'Longest event-loop delay since the last collection',
  });
  const p99 = meter.createObservableGauge('nodejs.eventloop.delay.p99', {
    unit: 'ms',
    description: '99th percentile of event-loop delay since the last collection',
  });
  const observe: BatchObservableCallback = (result) => {
    // The histogram counts in nanoseconds; an empty one reports 0.
    result.observe(max, histogram.max / 1e6);
    result.observe(p99, histogram.percentile(99) / 1e6);
    histogram.reset();
  };
  meter.addBatchObservableCallback(observe, [max, p99]);

  const every = options.checkEveryMs ?? 100;
  let expected = performance.now() + every;
  const timer = setInterval(() => {
    const now = performance.now();
    const late = now - expected;
    expected = now + every;
    if (late > options.warnAfterMs) {
      logger.warn(`the event loop was blocked for ${Math.round(late)} ms`, { event_loop_blocked_ms: Math.round(late) });
    }
  }, every);
  timer.unref();

  return () => {
    clearInterval(timer);
    histogram.disable();
    meter.removeBatchObservableCallback(observe, [max, p99]);
  };
}
