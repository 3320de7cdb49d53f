/**
 * `npm run bench`: measures Causeway on this machine, prints a table, and writes
 * bench/results/<date>.json (the README quotes the latest). Behaviour is tested
 * by `npm test`; this only measures. Everything runs in one go on one machine, so
 * the ratios hold even on a noisy 2-core box.
 *
 * BENCH_KILLS (default 50) sets how many leader kills the failover measure uses; BENCH_GROWTH_ORDERS
 * (default 200,000) how many orders go through the queue before restart time and memory are measured again;
 * BENCH_DB_KILLS (default 20) how many times the books database's leader is killed (step 8, `npm run bench:books` alone);
 * BENCH_HEALS (default 20) how many times the leader, and a follower, are cut off and healed (the heal measure
 * runs executors in network namespaces: it needs root, `ip` and `nft`, checked before anything runs).
 * For a quick try of the checkout measures (not for the README's figures): BENCH_TRACING_RUNS (saturation runs
 * per system, default 5), BENCH_RUN_SECONDS (each, default 8), BENCH_WARMUP_SECONDS (default 15) and
 * BENCH_LATENCY_SECONDS (the open-loop run, default 60) and BENCH_QUEUE_BURSTS (bursts of 3,000 orders whose median
 * is the queue's commit rate, default 5).
 */
import os from 'node:os';
import path from 'node:path';
import { ROOT, startSystem } from '../harness/system';
import { measureFailover } from './failover';
import { missingForNetworks } from '../harness/netns';
import { measureGrowth } from './growth';
import { measureHealsOnFreshSystem } from './heals';
import { measureBooksDatabase } from './books-database';
import { checkoutSession } from './checkout-session';
import { describeIncidents } from './stalls';
import { writeCharts, writeDatedResult } from './results-chart';
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

  log('1-4/8 RPC floor R, checkout with tracing on (100 % sampled, exported over OTLP to a local receiver) and off, interleaved; open-loop latency; CPU; queue commit rate and commit latency');
  const settings = {
    runs: Number(process.env.BENCH_TRACING_RUNS ?? 5),
    runSeconds: Number(process.env.BENCH_RUN_SECONDS ?? 8),
    warmUpSeconds: Number(process.env.BENCH_WARMUP_SECONDS ?? 15),
    latencySeconds: Number(process.env.BENCH_LATENCY_SECONDS ?? 60),
    queueBursts: Number(process.env.BENCH_QUEUE_BURSTS ?? 5),
  };
  const session = await checkoutSession({ env: LOAD_ENV, ...settings }, log);

  log(`5/8 failover: ${kills} leader kills under load`);
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
  log(`6/8 what history costs: executor restart time, memory and disk, fresh and after ${growthOrders} orders`);
  let growth;
  {
    const system = await startSystem({ CAUSEWAY_RESTART_DELAY_MS: '100', LOG_LEVEL: 'warn' });
    try {
      growth = await measureGrowth(system, growthOrders, log);
    } finally {
      await system.stop();
    }
  }

  log(`7/8 heal → follower: ${heals} isolate-and-heal cycles of the leader and ${heals} of a follower, under a light load`);
  const healed = await measureHealsOnFreshSystem(heals, log);

  const dbKills = Number(process.env.BENCH_DB_KILLS ?? 20);
  log(`8/8 books database: write throughput, and ${dbKills} leader kills under a trickle of decrements`);
  const booksDatabase = await measureBooksDatabase(dbKills, log);

  const floorRatio = session.traced / (session.rpcFloor / session.k);
  const tracingOverhead = 1 - session.traced / session.untraced;
  const { spans: latencySpans, ...latency } = session.latency;
  const results = {
    date: new Date().toISOString(),
    machine: machine(),
    // How this run was taken: a shortened run (the BENCH_* knobs) is a try, not a figure to quote.
    settings: { ...settings, kills, growthOrders, heals },
    // R: the median of the short runs interleaved with the checkout runs (rpcFloorRuns).
    rpcFloor: session.rpcFloor,
    rpcFloorRuns: session.rpcFloorRuns,
    rpcFloorLatency: session.rpcFloorLatency,
    rpcsPerCheckout: session.k,
    // Medians of the alternating saturation runs (tracingRuns), traced runs that dropped spans left out.
    checkoutThroughput: session.traced,
    checkoutThroughputUntraced: session.untraced,
    tracingRuns: session.tracingRuns,
    floorRatio: Math.round(floorRatio * 100) / 100,
    tracingOverhead: Math.round(tracingOverhead * 1000) / 1000,
    // Event spans missing from the traced runs and the latency run: anything but 0 makes those runs invalid.
    spansDropped: session.spansDropped,
    // Open loop at half the traced saturation, latency from each request's scheduled send time; `incidents`: the
    // event-loop stalls (see stalls.ts for which the services report) and elections the traced system logged meanwhile.
    latency,
    latencySpans,
    // Under two-phase commit: orders/s from enqueue to the decision applied (both participants prepared), and one
    // order's latency from enqueue to its decision applied, one at a time.
    queueCommitRate: session.queueRate,
    queueCommitRuns: session.queueRuns,
    queueCommitElections: session.queueElections,
    queueCommitWarmUp: session.queueWarmUp,
    commitLatency: session.commit,
    // CPU time per checkout of each process (ms, /proc/<pid>/stat), 8 checkouts at a time: where the cores go.
    cpuMsPerCheckout: session.cpu,
    failover: { kills: failover.kills, p50Ms: failover.p50Ms, p99Ms: failover.p99Ms, maxMs: failover.maxMs, electionP50Ms: failover.electionP50Ms },
    // Follower restart (kill → serving, caught up; includes the launcher's 100 ms restart delay), RSS and disk,
    // on a fresh cluster, a warm one (growth.warm.orders in) and after growth.after.orders orders.
    growth,
    // Cut off from the other executors (both directions dropped), then healed: heal → a follower of the current
    // leader in its term, caught up to its commit at the heal (src/dev/bench/heals.ts).
    heals: { leader: healed.leader, follower: healed.follower, seed: healed.seed, history: healed.history },
    // Its three replicas alone: committed one-copy decrements/s (64 clients), and SIGKILL of the leader → the first
    // decrement another replica answered (src/dev/bench/books-database.ts).
    booksDatabase: { writesPerSecond: booksDatabase.writesPerSecond, writes: booksDatabase.writes, failover: booksDatabase.failover },
  };
  const on = session.tracingRuns.filter((r) => r.tracing === 'on');
  const off = session.tracingRuns.filter((r) => r.tracing === 'off');
  const range = (values: number[]) => `${Math.min(...values)}–${Math.max(...values)}`;
  const maxRss = (s: typeof growth.fresh) => Math.max(...Object.values(s.rssMiB));
  log('');
  log(
    table([
      [`RPC floor R (nice-grpc unary, peak), median of ${session.rpcFloorRuns.length}`, `${results.rpcFloor} req/s (${range(session.rpcFloorRuns.map((r) => r.peak))})`, ''],
      ['RPC floor latency, one at a time', `p50 ${session.rpcFloorLatency.p50Ms} ms, p99 ${session.rpcFloorLatency.p99Ms} ms`, ''],
      ['k: gRPC calls per checkout', String(results.rpcsPerCheckout), ''],
      [`checkout throughput (tracing on), median of ${on.length}`, `${results.checkoutThroughput} orders/s (${range(on.map((r) => r.ordersPerSecond))})`, ''],
      ['floor ratio = throughput ÷ (R ÷ k)', String(results.floorRatio), '≥ 0.6'],
      [
        `latency, open loop at ${latency.rate}/s for ${latency.seconds} s: p50 / p99 / p99.9 / max`,
        `${latency.p50Ms} / ${latency.p99Ms} / ${latency.p999Ms} / ${latency.maxMs} ms (${describeIncidents(latency.incidents)})`,
        'p99 ≤ 25 ms',
      ],
      [`tracing overhead (throughput lost), off: median of ${off.length}`, `${(results.tracingOverhead * 100).toFixed(1)} % (off: ${results.checkoutThroughputUntraced}/s, ${range(off.map((r) => r.ordersPerSecond))})`, '≤ 15 %'],
      ['spans dropped (traced runs, latency run)', `${results.spansDropped}${results.spansDropped > 0 ? ' — INVALID runs' : ''}`, '0'],
      [
        'queue commit rate (enqueue → 2PC decision applied), median of bursts',
        `${results.queueCommitRate} orders/s (${results.queueCommitRuns.join(', ')}; ${results.queueCommitElections} executor elections meanwhile; ` +
          `warm-up burst ${results.queueCommitWarmUp.rate}/s, ${results.queueCommitWarmUp.elections} elections)`,
        '≥ 2000/s',
      ],
      ['commit latency, one order at a time (enqueue → decision applied)', `p50 ${results.commitLatency.p50Ms} ms, p99 ${results.commitLatency.p99Ms} ms (${results.commitLatency.orders} orders)`, ''],
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
      ['books database: committed decrements (64 clients)', `${booksDatabase.writesPerSecond}/s`, ''],
      [
        `books database failover, kill → decrement answered (${booksDatabase.failover.kills} kills): p50 / p99 / max`,
        `${booksDatabase.failover.p50Ms} / ${booksDatabase.failover.p99Ms} / ${booksDatabase.failover.maxMs} ms`,
        '',
      ],
    ]),
  );
  log('');
  log('CPU ms per checkout, by process (tracing on / off):');
  for (const name of Object.keys(session.cpu.traced)) log(`  ${name.padEnd(26)} ${String(session.cpu.traced[name]).padStart(6)} / ${session.cpu.untraced[name] ?? '-'}`);
  const dir = path.join(ROOT, 'bench', 'results');
  // A second run on the same day keeps the first: <date>-2.json, -3, …
  const file = writeDatedResult(dir, results.date.slice(0, 10), results);
  log(`\nwrote ${path.relative(ROOT, file)}`);
  for (const written of writeCharts(dir)) log(`wrote ${path.relative(ROOT, written)}`);
}

main().catch((err: Error) => {
  process.stderr.write(`bench failed: ${err.stack ?? err.message}\n`);
  process.exit(1);
});
