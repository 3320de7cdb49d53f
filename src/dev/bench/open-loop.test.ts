import { dueRequests, latencyFromSchedule, LatencyHistogram, plannedRequests, scheduledAtMs } from './open-loop';

describe('open-loop schedule', () => {
  it('plans rate × seconds requests, evenly spaced from the start', () => {
    expect(plannedRequests({ rate: 35, seconds: 60 })).toBe(2100);
    expect(plannedRequests({ rate: 2.5, seconds: 3 })).toBe(7);
    expect(scheduledAtMs(0, 40)).toBe(0);
    expect(scheduledAtMs(4, 40)).toBe(100);
  });

  it('counts the requests due at a time, whatever the sender managed to send before', () => {
    expect(dueRequests(-1, 40, 100)).toBe(0);
    expect(dueRequests(0, 40, 100)).toBe(1);
    expect(dueRequests(24.9, 40, 100)).toBe(1);
    expect(dueRequests(25, 40, 100)).toBe(2);
    // A sender that woke 1 s late owes every request scheduled in that second at once.
    expect(dueRequests(1000, 40, 100)).toBe(41);
    expect(dueRequests(10_000, 40, 100)).toBe(100);
    // Rates whose interval is not a whole number of ms still land on their schedule.
    for (let i = 0; i < 1000; i++) expect(dueRequests(scheduledAtMs(i, 3), 3, 10_000)).toBe(i + 1);
  });

  it('measures latency from the scheduled send time, not from the actual send (no coordinated omission)', () => {
    // Request 10 at 50/s was due 200 ms after the start; the generator sent it late, at 700 ms, answered at 710 ms.
    expect(latencyFromSchedule(1000, 10, 50, 1710)).toBe(510);
  });
});

describe('latency histogram', () => {
  it('reports p50, p99, p99.9 and max to within the histogram resolution', () => {
    const h = new LatencyHistogram();
    for (let i = 1; i <= 10_000; i++) h.record(i / 100); // 0.01 … 100 ms, uniform
    const s = h.summary();
    expect(s.count).toBe(10_000);
    expect(s.p50Ms).toBeCloseTo(50, 0);
    expect(s.p99Ms).toBeCloseTo(99, 0);
    expect(s.p999Ms).toBeCloseTo(99.9, 0);
    expect(s.maxMs).toBeCloseTo(100, 0);
  });

  it('keeps one stall visible in the max and the tail', () => {
    const h = new LatencyHistogram();
    for (let i = 0; i < 999; i++) h.record(5);
    h.record(2500);
    const s = h.summary();
    expect(s.p50Ms).toBeCloseTo(5, 1);
    expect(s.p99Ms).toBeCloseTo(5, 1);
    expect(s.maxMs).toBeGreaterThanOrEqual(2497);
    expect(s.maxMs).toBeLessThanOrEqual(2503);
  });

  it('never reports a percentile above the max', () => {
    const h = new LatencyHistogram();
    for (let i = 0; i < 9; i++) h.record(100);
    h.record(285.83);
    const s = h.summary();
    expect(s.p999Ms).toBeLessThanOrEqual(s.maxMs);
    expect(s.p99Ms).toBeLessThanOrEqual(s.maxMs);
  });
});
