import autocannon from 'autocannon';
import { createChannel, createClient } from 'nice-grpc';
import { OrderExecutorDefinition } from '../../gen/causeway/v1/order_executor';
import { OrderQueueDefinition, type QueuedOrder } from '../../gen/causeway/v1/order_queue';
import { PaymentDefinition } from '../../gen/causeway/v1/payment';
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
export async function closedLoop(concurrency: number, ms: number, fn: () => Promise<unknown>) {
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
 * Warms a system's processes up: a server runs for hours, and V8 needs some thousands of checkouts to optimise the
 * hot paths.
 */
export async function warmUp(system: RunningSystem, seconds = 15): Promise<void> {
  await fire({ ...checkoutRequest(system), connections: 32, duration: seconds });
}

/**
 * One saturation run: autocannon, 32 connections, closed loop. Counts only approved answers (any other answer
 * fails the run); `answered` is how many checkouts it saw complete.
 */
export async function saturationRun(system: RunningSystem, seconds = 8): Promise<{ ordersPerSecond: number; answered: number }> {
  const result = await fire({ ...checkoutRequest(system), connections: 32, duration: seconds });
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`checkout load failed: ${result.non2xx} non-2xx, ${result.errors} errors`);
  return { ordersPerSecond: result.requests.average, answered: result['2xx'] };
}

/**
 * An order as the orchestrator enqueues one, straight into the queue (no checkout in front of it): one Book A at its
 * price, paid with `paymentToken` (benchToken), so that it commits through both participants as a checkout's does.
 */
export function benchOrder(orderId: string, paymentToken: string): QueuedOrder {
  return { orderId, shippingMethod: 'Standard', items: [{ name: 'Book A', quantity: 1 }], customerName: 'Bench', maskedCard: '**** 1111', traceparent: '', enqueuedAtMs: 0, paymentToken, amountCents: 1000 };
}

/** A payment token for bench orders (the course page's test card), as the orchestrator gets one at checkout. */
export async function benchToken(system: RunningSystem): Promise<string> {
  const channel = createChannel(system.addresses['payment']);
  try {
    return (await createClient(PaymentDefinition, channel).tokenize({ cardNumber: '4111111111111111', expirationDate: '12/30' })).token;
  } finally {
    channel.close();
  }
}

/**
 * Orders/s from enqueue to the decision applied on the leader (under two-phase commit: both participants prepared
 * and the decision committed in the executors' log), with fsync on every step. 64 producers
 * enqueue through the orchestrator's EnqueueBatcher, so concurrent orders share calls as checkouts' do.
 */
export async function queueCommitRate(system: RunningSystem, orders = 3000): Promise<number> {
  const queue = EnqueueBatcher.over(createClient(OrderQueueDefinition, createChannel(system.addresses['order-queue'])), { maxBatch: 256, maxInFlight: 2 });
  const executors = Object.values(system.executors).map((a) => createClient(OrderExecutorDefinition, createChannel(a)));
  const executedNow = async () => Math.max(...(await Promise.all(executors.map(async (e) => (await e.status({})).executedCount))));
  const token = await benchToken(system);
  const before = await executedNow();
  const run = Date.now();
  const ids = Array.from({ length: orders }, (_, i) => `bench-${run}-${i}`);
  const start = performance.now();
  await runConcurrently(orders, 64, (i) => queue.enqueue(benchOrder(ids[i], token)));
  while ((await executedNow()) < before + orders) await new Promise((r) => setTimeout(r, 20));
  const rate = Math.round(orders / ((performance.now() - start) / 1000));
  // A rate of aborts would measure the wrong thing: every bench order must have committed.
  const { executions } = await executors[0].executions({ orderIds: ids });
  const failed = executions.filter((e) => e.failureCode !== '');
  if (failed.length > 0) throw new Error(`${failed.length} of ${orders} bench orders failed (first: ${failed[0].failureCode} ${failed[0].failureMessage})`);
  return rate;
}

/**
 * Commit latency under two-phase commit, one order at a time: enqueued straight into the queue (fsync), leased by
 * the executor leader, prepared at the books database and payment, its decision committed and applied; timed until
 * the leader's ledger has it (polled every 2 ms, so up to ~2 ms is the poll). Every order must commit.
 */
export async function commitLatency(system: RunningSystem, orders = 200): Promise<{ orders: number; p50Ms: number; p99Ms: number; maxMs: number }> {
  const queue = createClient(OrderQueueDefinition, createChannel(system.addresses['order-queue']));
  const executors = Object.values(system.executors).map((a) => createClient(OrderExecutorDefinition, createChannel(a)));
  const token = await benchToken(system);
  const leader = async () => {
    for (const e of executors) if ((await e.status({})).role === 'leader') return e;
    throw new Error('no executor leads');
  };
  const samples: number[] = [];
  const run = Date.now();
  for (let i = 0; i < orders; i++) {
    const orderId = `latency-${run}-${i}`;
    const ledger = await leader();
    const start = performance.now();
    await queue.enqueue({ order: benchOrder(orderId, token) });
    for (;;) {
      const [execution] = (await ledger.executions({ orderIds: [orderId] })).executions;
      if (execution) {
        if (execution.failureCode !== '') throw new Error(`bench order ${orderId} failed: ${execution.failureCode} ${execution.failureMessage}`);
        break;
      }
      await new Promise((r) => setTimeout(r, 2));
    }
    samples.push(performance.now() - start);
  }
  const sorted = samples.sort((a, b) => a - b);
  const round = (ms: number) => Math.round(ms * 10) / 10;
  return { orders, p50Ms: round(percentile(sorted, 50)), p99Ms: round(percentile(sorted, 99)), maxMs: round(sorted.at(-1)!) };
}
