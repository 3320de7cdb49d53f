/**
 * `npm run bench`: measures Causeway on this machine, prints a table, and writes
 * bench/results/<date>.json (the README quotes the latest). Behaviour is tested
 * by `npm test`; this only measures. Everything runs in one go on one machine, so
 * the ratios hold even on a noisy 2-core box.
 *
 * BENCH_KILLS (default 50) sets how many leader kills the failover measure uses; BENCH_GROWTH_ORDERS
 * (default 200,000) how many orders go through the queue before restart time and memory are measured again;
 * BENCH_HEALS (default 20) how many times the leader, and a follower, are cut off and healed. The heal measure
 * runs executors in network namespaces: it needs root, `ip` and `nft`, checked before anything runs.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { coursePageOrder, postCheckout, ROOT, startSystem, waitFor } from '../harness/system';
import { measureFailover } from './failover';
import { missingForNetworks } from '../harness/netns';
import { measureGrowth } from './growth';
import { measureHealsOnFreshSystem } from './heals';
import { cpuPerCheckout } from './cpu';
import { checkoutLatencyAtHalfLoad, checkoutSaturation, queueCommitRate, rpcFloor } from './measures';
import { OtlpReceiver } from './otlp-receiver';
import { table } from './stats';

function machine(): string {
  const cpus = os.cpus();
  return `${cpus.length} × ${cpus[0]?.model.trim() ?? 'unknown CPU'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.type()} ${os.release()}, Node ${process.version}`;
}

const LOAD_ENV = {
  FRAUD_CONTACT_VELOCITY_LIMIT: '1000000000',
  FRAUD_CARD_VELOCITY_LIMIT: '1000000000',
  // The SDK's default span batching, as shipped (the test harness shortens it so tests see spans sooner).
  OTEL_BSP_SCHEDULE_DELAY: '5000',
};

async function main(): Promise<void> {
  const kills = Number(process.env.BENCH_KILLS ?? 50);
  const heals = Number(process.env.BENCH_HEALS ?? 20);
  const missing = missingForNetworks();
  if (missing) throw new Error(`${missing} (step 7, heal → follower)`);
  const log = (s: string) => process.stdout.write(`${s}\n`);
  log(`machine: ${machine()}`);

  log('1/7 RPC floor: bare nice-grpc unary calls between two processes');
  const floor = await rpcFloor();

  log('2/7 checkout with tracing on (100 % sampled, exported over OTLP to a local receiver), as shipped');
  const receiver = new OtlpReceiver();
  const endpoint = await receiver.start();
  let traced: {
    throughput: number;
    k: number;
    latency: { p50Ms: number; p99Ms: number; rate: number; connections: number };
    queueRate: number;
    cpu: Record<string, number>;
  };
  {
    const system = await startSystem({ ...LOAD_ENV, OTEL_EXPORTER_OTLP_ENDPOINT: endpoint });
    try {
      // k: the gRPC calls one checkout makes, counted from its own trace (server spans). Its enqueue travels in an
      // EnqueueBatch call traced on its own (a batch serves many checkouts); the order's 'order durable' span in
      // this trace stands for it.
      const { body } = await postCheckout(system.baseUrl, coursePageOrder());
      const k = await waitFor(
        'the checkout trace',
        async () => {
          const spans = receiver.spans().filter((s) => s.traceId === body.traceId);
          const servers = spans.filter((s) => s.kind === 2 && s.name.startsWith('causeway.v1.'));
          const cleared = servers.filter((s) => s.name.endsWith('/ClearOrder')).length === 3;
          return cleared && spans.some((s) => s.name === 'order durable') ? servers.length + 1 : undefined;
        },
        30_000,
      );
      // The spans are still sent and answered from here on, just not kept.
      receiver.discard();
      const throughput = await checkoutSaturation(system);
      log(`    saturation: ${throughput} orders/s; now at half of that`);
      const latency = await checkoutLatencyAtHalfLoad(system, throughput);
      const cpu = await cpuPerCheckout(system);
      log('3/7 queue commit rate: enqueue → replicated commit → execution, fsync on');
      const queueRate = await queueCommitRate(system);
      traced = { throughput, k, latency, queueRate, cpu };
    } finally {
      await system.stop();
      await receiver.stop();
    }
  }

  log('4/7 checkout with tracing off, for the overhead');
  let untraced: number;
  let untracedCpu: Record<string, number>;
  {
    const system = await startSystem({ ...LOAD_ENV, OTEL_SDK_DISABLED: 'true' });
    try {
      untraced = await checkoutSaturation(system);
      untracedCpu = await cpuPerCheckout(system);
    } finally {
      await system.stop();
    }
  }

  log(`5/7 failover: ${kills} leader kills under load`);
  let failover;
  {
    const system = await startSystem({
      ...LOAD_ENV,
      // The victim comes back after the failover it caused: its start-up (~0.6 s of CPU) would otherwise compete with it.
      CAUSEWAY_RESTART_DELAY_MS: '1000',
    });
    try {
      failover = await measureFailover(system, kills, log);
    } finally {
      await system.stop();
    }
  }

  const growthOrders = Number(process.env.BENCH_GROWTH_ORDERS ?? 200_000);
  log(`6/7 what history costs: executor restart time, memory and disk, fresh and after ${growthOrders} orders`);
  let growth;
  {
    const system = await startSystem({ CAUSEWAY_RESTART_DELAY_MS: '100', LOG_LEVEL: 'warn' });
    try {
      growth = await measureGrowth(system, growthOrders, log);
    } finally {
      await system.stop();
    }
  }

  log(`7/7 heal → follower: ${heals} isolate-and-heal cycles of the leader and ${heals} of a follower, under a light load`);
  const healed = await measureHealsOnFreshSystem(heals, log);

  const floorRatio = traced.throughput / (floor.peak / traced.k);
  const tracingOverhead = 1 - traced.throughput / untraced;
  const results = {
    date: new Date().toISOString(),
    machine: machine(),
    rpcFloor: floor.peak,
    rpcFloorLatency: { p50Ms: floor.p50Ms, p99Ms: floor.p99Ms },
    rpcsPerCheckout: traced.k,
    checkoutThroughput: traced.throughput,
    checkoutThroughputUntraced: untraced,
    floorRatio: Math.round(floorRatio * 100) / 100,
    p50Ms: traced.latency.p50Ms,
    p99Ms: traced.latency.p99Ms,
    halfLoadRate: traced.latency.rate,
    halfLoadConnections: traced.latency.connections,
    tracingOverhead: Math.round(tracingOverhead * 1000) / 1000,
    queueCommitRate: traced.queueRate,
    // CPU time per checkout of each process (ms, /proc/<pid>/stat), 8 checkouts at a time: where the cores go.
    cpuMsPerCheckout: { traced: traced.cpu, untraced: untracedCpu },
    failover: { kills: failover.kills, p50Ms: failover.p50Ms, p99Ms: failover.p99Ms, maxMs: failover.maxMs, electionP50Ms: failover.electionP50Ms },
    // Follower restart (kill → serving, caught up; includes the launcher's 100 ms restart delay), RSS and disk,
    // on a fresh cluster, a warm one (growth.warm.orders in) and after growth.after.orders orders.
    growth,
    // Cut off from the other executors (both directions dropped), then healed: heal → a follower of the current
    // leader in its term, caught up to its commit at the heal (src/dev/bench/heals.ts).
    heals: { leader: healed.leader, follower: healed.follower, seed: healed.seed, history: healed.history },
  };
  const maxRss = (s: typeof growth.fresh) => Math.max(...Object.values(s.rssMiB));
  log('');
  log(
    table([
      ['RPC floor R (nice-grpc unary, peak)', `${results.rpcFloor} req/s`, ''],
      ['RPC floor latency, one at a time', `p50 ${floor.p50Ms} ms, p99 ${floor.p99Ms} ms`, ''],
      ['k: gRPC calls per checkout', String(results.rpcsPerCheckout), ''],
      ['checkout throughput (tracing on)', `${results.checkoutThroughput} orders/s`, ''],
      ['floor ratio = throughput ÷ (R ÷ k)', String(results.floorRatio), '≥ 0.6'],
      [`latency at half load (${results.halfLoadRate}/s, ${results.halfLoadConnections} conn.)`, `p50 ${results.p50Ms} ms, p99 ${results.p99Ms} ms`, 'p99 ≤ 25 ms'],
      ['tracing overhead (throughput lost)', `${(results.tracingOverhead * 100).toFixed(1)} % (off: ${untraced}/s)`, '≤ 15 %'],
      ['queue commit rate', `${results.queueCommitRate} orders/s`, '≥ 2000/s'],
      ['failover p50 / p99 / max', `${failover.p50Ms} / ${failover.p99Ms} / ${failover.maxMs} ms`, '≤ 200 / 500 ms'],
      ['kill → new leader p50', `${failover.electionP50Ms} ms`, ''],
      ['kills', String(failover.kills), '≥ 50'],
      ['executor restart, fresh / warm → after history', `${growth.fresh.restartMs} / ${growth.warm.restartMs} → ${growth.after.restartMs} ms (${growth.after.orders} orders)`, '≤ 2× fresh'],
      ['largest RSS (queue, executors), fresh / warm → after', `${maxRss(growth.fresh)} / ${maxRss(growth.warm)} → ${maxRss(growth.after)} MiB`, '≤ 2× warm'],
      ...(['leader', 'follower'] as const).map((which): [string, string, string] => {
        const h = healed[which];
        return [
          `heal → follower, ${which} cut off (${h.heals} heals): p50 / p99 / max`,
          `${h.p50Ms} / ${h.p99Ms} / ${h.maxMs} ms (${h.disturbed} disturbed, re-run; all ${h.all.heals}: p99 ${h.all.p99Ms} ms)`,
          'p99 ≤ 1000 ms',
        ];
      }),
      ['elections caused by a healed node (started on its way back, leader still there)', String(healed.leader.electionsByHealedNode + healed.follower.electionsByHealedNode), '0'],
      ['heals followed by any term change (who started it: the log)', String(healed.leader.termChanges + healed.follower.termChanges), ''],
    ]),
  );
  log('');
  log('CPU ms per checkout, by process (tracing on / off):');
  for (const name of Object.keys(traced.cpu)) log(`  ${name.padEnd(26)} ${String(traced.cpu[name]).padStart(6)} / ${untracedCpu[name] ?? '-'}`);
  const dir = path.join(ROOT, 'bench', 'results');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${results.date.slice(0, 10)}.json`);
  fs.writeFileSync(file, JSON.stringify(results, null, 2) + '\n');
  log(`\nwrote ${path.relative(ROOT, file)}`);
}

main().catch((err: Error) => {
  process.stderr.write(`bench failed: ${err.stack ?? err.message}\n`);
  process.exit(1);
});
