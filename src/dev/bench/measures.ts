import autocannon from 'autocannon';
import { fork } from 'node:child_process';
import path from 'node:path';
import { createChannel, createClient } from 'nice-grpc';
import { OrderExecutorDefinition } from '../../gen/causeway/v1/order_executor';
import { OrderQueueDefinition, type QueuedOrder } from '../../gen/causeway/v1/order_queue';
import { HealthDefinition } from '../../gen/grpc/health/v1/health';
import { coursePageOrder, type RunningSystem } from '../harness/system';
import { EnqueueBatcher } from '../../order-queue-client/enqueue-batcher';
import { percentile } from './stats';

/** Runs `job(0)` … `job(count - 1)`, at most `concurrency` at a time. */
export async function runConcurrently(count: number, concurrency: number, job: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) await job(next++);
    }),
  );
}

/** Runs `fn` from `concurrency` loops for `ms`; returns completed calls per second and latencies. */
async function closedLoop(concurrency: number, ms: number, fn: () => Promise<unknown>) {
  const latencies: number[] = [];
  const end = performance.now() + ms;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        const t = performance.now();
        await fn();
        latencies.push(performance.now() - t);
      }
    }),
  );
  return { perSecond: latencies.length / (ms / 1000), p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
}

/** R: a raw nice-grpc unary call between two processes, at its peak, and its latency one call at a time. */
export async function rpcFloor(): Promise<{ peak: number; p50Ms: number; p99Ms: number }> {
  const child = fork(path.join(__dirname, 'echo-server.js'), { stdio: 'ignore' });
  try {
    const port = await new Promise<number>((resolve) => child.once('message', (m: { port: number }) => resolve(m.port)));
    const client = createClient(HealthDefinition, createChannel(`127.0.0.1:${port}`));
    await closedLoop(8, 1000, () => client.check({})); // warm up both sides
    const single = await closedLoop(1, 3000, () => client.check({}));
    let peak = 0;
    for (const c of [16, 64]) peak = Math.max(peak, (await closedLoop(c, 4000, () => client.check({}))).perSecond);
    return { peak: Math.round(peak), p50Ms: round(single.p50), p99Ms: round(single.p99) };
  } finally {
    child.kill();
  }
}

const round = (n: number) => Math.round(n * 100) / 100;

function fire(options: autocannon.Options): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    autocannon(options, (err, result) => (err ? reject(err) : resolve(result)));
  });
}

const checkoutRequest = (system: RunningSystem) => ({
  url: `${system.baseUrl}/checkout`,
  method: 'POST' as const,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(coursePageOrder()),
});

/**
 * Orders/s at saturation (autocannon, 32 connections, closed loop), counting only approved answers: the median of
 * `runs` runs, since this 2-core box drifts by ±15 % from one run to the next. The processes are warmed up first:
 * a server runs for hours, and V8 needs some thousands of checkouts to optimise the hot paths.
 */
export async function checkoutSaturation(system: RunningSystem, seconds = 8, runs = 3): Promise<number> {
  await fire({ ...checkoutRequest(system), connections: 32, duration: 15 }); // warm up
  const rates: number[] = [];
  for (let i = 0; i < runs; i++) {
    const result = await fire({ ...checkoutRequest(system), connections: 32, duration: seconds });
    if (result.non2xx > 0 || result.errors > 0) throw new Error(`checkout load failed: ${result.non2xx} non-2xx, ${result.errors} errors`);
    rates.push(result.requests.average);
  }
  return Math.round(percentile(rates, 50));
}

/**
 * Latency at half load. autocannon's rate limiter (overallRate) releases each second's quota in one burst, so a
 * fixed offered rate measures how a burst queues, not the latency of a steady half load. Instead: the fewest
 * closed-loop connections whose throughput reaches half the saturation rate, and the rate they carried.
 */
export async function checkoutLatencyAtHalfLoad(system: RunningSystem, saturation: number, seconds = 10) {
  for (let connections = 1; ; connections++) {
    const result = await fire({ ...checkoutRequest(system), connections, duration: seconds });
    if (result.requests.average >= saturation / 2 || connections >= 32) {
      return { p50Ms: result.latency.p50, p99Ms: result.latency.p99, rate: Math.round(result.requests.average), connections };
    }
  }
}

/** An order as the orchestrator enqueues one, straight into the queue (no checkout in front of it). */
export function benchOrder(orderId: string): QueuedOrder {
  return { orderId, shippingMethod: 'Standard', items: [{ name: 'Dune', quantity: 1 }], customerName: 'Bench', maskedCard: '**** 1111', traceparent: '', enqueuedAtMs: 0 };
}

/**
 * Orders/s from enqueue to replicated commit and execution on the leader, with fsync on every step. 64 producers
 * enqueue through the orchestrator's EnqueueBatcher, so concurrent orders share calls as checkouts' do.
 */
export async function queueCommitRate(system: RunningSystem, orders = 3000): Promise<number> {
  const queue = EnqueueBatcher.over(createClient(OrderQueueDefinition, createChannel(system.addresses['order-queue'])), { maxBatch: 256, maxInFlight: 2 });
  const executors = Object.values(system.executors).map((a) => createClient(OrderExecutorDefinition, createChannel(a)));
  const executedNow = async () => Math.max(...(await Promise.all(executors.map(async (e) => (await e.status({})).executedCount))));
  const before = await executedNow();
  const start = performance.now();
  await runConcurrently(orders, 64, (i) => queue.enqueue(benchOrder(`bench-${Date.now()}-${i}`)));
  while ((await executedNow()) < before + orders) await new Promise((r) => setTimeout(r, 20));
  return Math.round(orders / ((performance.now() - start) / 1000));
}
