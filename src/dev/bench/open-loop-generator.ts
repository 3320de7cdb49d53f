/**
 * The open-loop generator, run as its own process (forked by open-loop-latency.ts) so that nothing else on the
 * bench's event loop delays its sends. It is sent one GeneratorJob, posts back one GeneratorReport and exits.
 */
import http from 'node:http';
import { dueRequests, latencyFromSchedule, LatencyHistogram, plannedRequests, scheduledAtMs, type LatencySummary, type OpenLoopPlan } from './open-loop';

export interface GeneratorJob extends OpenLoopPlan {
  url: string;
  body: string;
  /** A request unanswered after this long counts as failed (its latency is still recorded, as at least this). */
  timeoutMs: number;
}

export interface GeneratorReport {
  planned: number;
  ok: number;
  failed: number;
  latency: LatencySummary;
  /** How late the generator itself sent, behind schedule (the latencies already include it): its own health. */
  sendLagMs: { p99Ms: number; maxMs: number };
}

function run(job: GeneratorJob): Promise<GeneratorReport> {
  const url = new URL(job.url);
  const agent = new http.Agent({ keepAlive: true });
  const body = Buffer.from(job.body);
  const latency = new LatencyHistogram();
  const lag = new LatencyHistogram();
  const total = plannedRequests(job);
  let ok = 0;
  let failed = 0;
  let next = 0;
  const start = performance.now();

  return new Promise((resolve) => {
    const finished = () => {
      if (ok + failed < total) return;
      agent.destroy();
      resolve({ planned: total, ok, failed, latency: latency.summary(), sendLagMs: { p99Ms: lag.summary().p99Ms, maxMs: lag.summary().maxMs } });
    };
    const answered = (i: number, success: boolean) => {
      latency.record(latencyFromSchedule(start, i, job.rate, performance.now()));
      if (success) ok++;
      else failed++;
      finished();
    };
    const send = (i: number) => {
      lag.record(performance.now() - (start + scheduledAtMs(i, job.rate)));
      let done = false;
      const settle = (success: boolean) => {
        if (done) return;
        done = true;
        answered(i, success);
      };
      const req = http.request(
        { host: url.hostname, port: url.port, path: url.pathname, method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': body.length } },
        (res) => {
          res.resume();
          res.on('end', () => settle(res.statusCode === 200));
          res.on('error', () => settle(false));
        },
      );
      req.setTimeout(job.timeoutMs, () => req.destroy(new Error('timeout')));
      req.on('error', () => settle(false));
      req.end(body);
    };
    const tick = () => {
      const due = dueRequests(performance.now() - start, job.rate, total);
      while (next < due) send(next++);
      if (next < total) setTimeout(tick, Math.max(0, start + scheduledAtMs(next, job.rate) - performance.now()));
    };
    if (total === 0) finished();
    else tick();
  });
}

process.once('message', (job: GeneratorJob) => {
  void run(job).then((report) => process.send?.(report, () => process.exit(0)));
});
