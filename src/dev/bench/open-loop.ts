/**
 * An open-loop load: requests leave at a fixed arrival rate whether or not earlier ones have been answered, and each
 * request's latency runs from the time it was scheduled to leave, not from when the generator got round to sending
 * it. A closed loop (or a late sender measuring from its own send) waits out the system's stalls instead of
 * recording them: coordinated omission. Pure: the generator process (open-loop-generator.ts) does the I/O.
 */
import { build, type Histogram } from 'hdr-histogram-js';

export interface OpenLoopPlan {
  /** Requests per second. */
  rate: number;
  seconds: number;
}

export const plannedRequests = (plan: OpenLoopPlan): number => Math.floor(plan.rate * plan.seconds);

/** When request `i` (from 0) is due, in ms after the start. */
export const scheduledAtMs = (i: number, rate: number): number => (i * 1000) / rate;

/** How many requests are due `elapsedMs` after the start (request 0 is due at once), capped at `total`. */
export function dueRequests(elapsedMs: number, rate: number, total: number): number {
  if (elapsedMs < 0) return 0;
  // The small epsilon keeps a request due at exactly elapsedMs from being missed to floating-point rounding.
  return Math.min(total, Math.floor((elapsedMs * rate) / 1000 + 1e-9) + 1);
}

export interface LatencySummary {
  count: number;
  p50Ms: number;
  p99Ms: number;
  p999Ms: number;
  maxMs: number;
}

/**
 * Latencies in an HDR histogram, in microseconds with three significant digits (0.1 % resolution at any value), so
 * p99.9 and max of a long run cost a fixed few kilobytes instead of an array of every sample.
 */
export class LatencyHistogram {
  private readonly histogram: Histogram = build({ lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: 3 });

  record(ms: number): void {
    this.histogram.recordValue(Math.max(1, Math.round(ms * 1000)));
  }

  summary(): LatencySummary {
    const h = this.histogram;
    const ms = (us: number) => Math.round(us / 10) / 100;
    // A percentile reads as the top of its bucket, which can lie above the largest value recorded.
    const at = (p: number) => ms(Math.min(h.getValueAtPercentile(p), h.maxValue));
    return { count: h.totalCount, p50Ms: at(50), p99Ms: at(99), p999Ms: at(99.9), maxMs: ms(h.maxValue) };
  }
}

/** Latency of request `i`, answered at `answeredAtMs`, measured from its scheduled send time (same clock as start). */
export const latencyFromSchedule = (startMs: number, i: number, rate: number, answeredAtMs: number): number =>
  answeredAtMs - (startMs + scheduledAtMs(i, rate));
