/** Checkout latency under an open-loop load at a fixed rate, from a generator in its own process. */
import { fork } from 'node:child_process';
import path from 'node:path';
import { coursePageOrder, type RunningSystem } from '../harness/system';
import type { GeneratorJob, GeneratorReport } from './open-loop-generator';

export interface OpenLoopLatency {
  rate: number;
  seconds: number;
  p50Ms: number;
  p99Ms: number;
  p999Ms: number;
  maxMs: number;
  openLoop: true;
  requests: number;
  failed: number;
  /** The generator's own lag behind its schedule (already inside the latencies). */
  sendLagMs: { p99Ms: number; maxMs: number };
}

export async function openLoopLatency(system: RunningSystem, rate: number, seconds: number): Promise<OpenLoopLatency> {
  const child = fork(path.join(__dirname, 'open-loop-generator.js'), { stdio: 'inherit' });
  try {
    const report = await new Promise<GeneratorReport>((resolve, reject) => {
      child.once('message', (m) => resolve(m as GeneratorReport));
      child.once('error', reject);
      child.once('exit', (code) => reject(new Error(`the open-loop generator exited (${code}) without a report`)));
      const job: GeneratorJob = { url: `${system.baseUrl}/checkout`, body: JSON.stringify(coursePageOrder()), rate, seconds, timeoutMs: 30_000 };
      child.send(job);
    });
    const { p50Ms, p99Ms, p999Ms, maxMs } = report.latency;
    return { rate, seconds, p50Ms, p99Ms, p999Ms, maxMs, openLoop: true, requests: report.planned, failed: report.failed, sendLagMs: report.sendLagMs };
  } finally {
    if (child.exitCode === null) child.kill();
  }
}
