import fs from 'node:fs';
import path from 'node:path';
import { createChannel, createClient } from 'nice-grpc';
import { OrderExecutorDefinition } from '../../gen/causeway/v1/order_executor';
import { OrderQueueDefinition } from '../../gen/causeway/v1/order_queue';
import { clusterExecutors, waitFor, type RunningSystem } from '../harness/system';
import { createGrpcClient } from '../../platform/grpc';
import { EnqueueBatcher } from '../../order-queue-client/enqueue-batcher';
import { benchOrder, benchToken, runConcurrently } from './measures';

/** What history costs: the same measures on a fresh cluster and after many orders. */
export interface GrowthSample {
  orders: number;
  /** SIGKILL of a follower → it answers Status again with everything committed before the kill applied (ms). */
  restartMs: number;
  /** Resident memory per process (MiB). */
  rssMiB: Record<string, number>;
  /** Bytes on disk per data directory (MiB). */
  diskMiB: Record<string, number>;
}

const mib = (bytes: number) => Math.round((bytes / 2 ** 20) * 10) / 10;
const rssOf = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) * 1024;

function du(dir: string): number {
  if (!fs.existsSync(dir)) return 0;
  let total = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    total += entry.isDirectory() ? du(p) : fs.statSync(p).size;
  }
  return total;
}

/**
 * Kills a follower and times until it serves again, caught up with the commit index it was killed at. The probe's
 * channel redials every 20 ms: grpc-js's default backoff (1 s, then 1.6 s, …) after the refused connections of a
 * dead process would time the probe's backoff, not the restart (it added up to 1.6 s to this measure before).
 */
async function restartFollower(system: RunningSystem): Promise<number> {
  const executors = await clusterExecutors(system);
  const follower = executors.find((e) => e.role === 'follower');
  const leader = executors.find((e) => e.role === 'leader');
  if (!follower || !leader) throw new Error('no stable cluster to restart a follower of');
  const { client, channel } = createGrpcClient(OrderExecutorDefinition, system.executors[follower.id], {
    deadlineMs: 200,
    traced: false,
    maxReconnectBackoffMs: 20,
    privateConnection: true,
  });
  const pid = system.pids()[follower.id];
  const commitAtKill = leader.commitIndex;
  const start = performance.now();
  process.kill(pid, 'SIGKILL');
  try {
    await waitFor(
      `${follower.id} serving again`,
      async () => {
        if (system.pids()[follower.id] === pid) return undefined;
        const s = await client.status({});
        return s.appliedIndex >= commitAtKill ? true : undefined;
      },
      60_000,
      10,
    );
    return Math.round(performance.now() - start);
  } finally {
    channel.close();
  }
}

async function sample(system: RunningSystem, orders: number): Promise<GrowthSample> {
  const pids = system.pids();
  const watched = ['order-queue', ...Object.keys(system.executors)];
  const rssMiB = Object.fromEntries(watched.map((name) => [name, mib(rssOf(pids[name]))]));
  const diskMiB = {
    'order-queue': mib(du(path.join(system.dataDir, 'order-queue'))),
    ...Object.fromEntries(Object.keys(system.executors).map((id) => [id, mib(du(path.join(system.dataDir, 'order-executor', id)))])),
  };
  const restartMs = await restartFollower(system);
  return { orders, restartMs, rssMiB, diskMiB };
}

/**
 * Restart time, memory and disk of a fresh cluster; again once it is warm
 * (`warmUp` orders in: Node's heap grows to its working size under load, once);
 * and again after `orders` orders in all went through the queue and the executors
 * (enqueued by 64 producers sharing EnqueueBatch calls, as checkouts do). With
 * snapshots and compaction, warm and after must be alike: history costs nothing.
 */
export async function measureGrowth(
  system: RunningSystem,
  orders: number,
  log: (s: string) => void,
  warmUp = Math.min(20_000, orders),
): Promise<{ fresh: GrowthSample; warm: GrowthSample; after: GrowthSample }> {
  const fresh = await sample(system, 0);
  log(`    fresh: restart ${fresh.restartMs} ms, RSS ${JSON.stringify(fresh.rssMiB)} MiB`);
  const queue = EnqueueBatcher.over(createClient(OrderQueueDefinition, createChannel(system.addresses['order-queue'])), { maxBatch: 256, maxInFlight: 2 });
  const executors = Object.values(system.executors).map((a) => createClient(OrderExecutorDefinition, createChannel(a)));
  const executed = async () => Math.min(...(await Promise.all(executors.map(async (e) => (await e.status({})).executedCount))));
  const token = await benchToken(system);
  const run = Date.now();
  let sent = 0;
  let enqueued = 0;
  const pour = async (count: number) => {
    const from = sent;
    await runConcurrently(count, 64, async (i) => {
      await queue.enqueue(benchOrder(`growth-${run}-${from + i}`, token));
      enqueued++;
    });
    sent += count;
    await waitFor(`all ${sent} orders executed on every replica`, async () => ((await executed()) >= sent ? true : undefined), 600_000);
  };
  const progress = setInterval(() => log(`    ${enqueued} orders enqueued`), 10_000);
  try {
    await pour(warmUp);
    const warm = await sample(system, warmUp);
    log(`    warm (${warmUp}): restart ${warm.restartMs} ms, RSS ${JSON.stringify(warm.rssMiB)} MiB`);
    await pour(orders - warmUp);
    const after = await sample(system, orders);
    log(`    after ${orders}: restart ${after.restartMs} ms, RSS ${JSON.stringify(after.rssMiB)} MiB`);
    return { fresh, warm, after };
  } finally {
    clearInterval(progress);
  }
}

/** `npm run bench:growth`: only this measure, written to bench/results/<date>-growth.json. */
async function main(): Promise<void> {
  const { startSystem: start, ROOT } = await import('../harness/system');
  const orders = Number(process.env.BENCH_GROWTH_ORDERS ?? 200_000);
  const log = (s: string) => process.stdout.write(`${s}\n`);
  log(`what history costs: executor restart time, memory and disk, fresh and after ${orders} orders`);
  const system = await start({ CAUSEWAY_RESTART_DELAY_MS: '100', LOG_LEVEL: 'warn' });
  let growth;
  try {
    growth = await measureGrowth(system, orders, log);
  } finally {
    await system.stop();
  }
  const dir = path.join(ROOT, 'bench', 'results');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${new Date().toISOString().slice(0, 10)}-growth.json`);
  fs.writeFileSync(file, JSON.stringify({ date: new Date().toISOString(), growth }, null, 2) + '\n');
  log(`wrote ${path.relative(ROOT, file)}`);
}

if (require.main === module) {
  main().catch((err: Error) => {
    process.stderr.write(`bench failed: ${err.stack ?? err.message}\n`);
    process.exit(1);
  });
}
