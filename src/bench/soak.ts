/**
 * A Jepsen-style soak: continuous orders while a nemesis SIGKILLs and SIGSTOPs
 * executors and kills the queue; then everything is healed and the history is
 * checked. Every order the shop acknowledged (HTTP 200, approved) must be
 * executed exactly once, identically on every replica; nothing may be executed
 * that was never submitted.
 *
 *   npm run chaos:soak -- --minutes 10
 */
import { createChannel, createClient } from 'nice-grpc';
import { OrderExecutorDefinition, type Execution } from '../gen/causeway/v1/order_executor';
import { OrderQueueDefinition } from '../gen/causeway/v1/order_queue';
import { clusterExecutors, coursePageOrder, postCheckout, startSystem, waitFor, type RunningSystem } from '../launcher/harness';
import { seededRandom } from '../raft/random';

export interface SoakReport {
  seconds: number;
  attempted: number;
  acknowledged: number;
  rejected: number;
  /** Requests that failed (503, timeout): the order may or may not exist; it may be executed or not. */
  indeterminate: number;
  executed: number;
  lost: number;
  duplicated: number;
  unexpected: number;
  /** Replicas whose ledger differs from the others'. */
  divergent: number;
  faults: Record<string, number>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs the soak against a fresh system for `seconds`, then heals it and checks the history. */
export async function soak(seconds: number, log: (s: string) => void, seed = Date.now()): Promise<SoakReport> {
  const random = seededRandom(seed);
  log(`soak: ${seconds} s, nemesis seed ${seed}`);
  const system = await startSystem({
    FRAUD_CONTACT_VELOCITY_LIMIT: '100000000',
    FRAUD_CARD_VELOCITY_LIMIT: '100000000',
    CAUSEWAY_RESTART_DELAY_MS: '300',
    ORDER_QUEUE_LEASE_MS: '2000',
    LOG_LEVEL: 'warn',
  });
  try {
    return await run(system, seconds, random, log);
  } finally {
    await system.stop();
  }
}

async function run(system: RunningSystem, seconds: number, random: () => number, log: (s: string) => void): Promise<SoakReport> {
  const attempted = new Set<string>();
  const acknowledged = new Set<string>();
  let rejected = 0;
  let indeterminate = 0;
  let submitted = 0;
  const deadline = Date.now() + seconds * 1000;

  const submitter = async (worker: number) => {
    while (Date.now() < deadline) {
      submitted++;
      // A unique contact per order: the fraud velocity rules must not shape the history.
      const order = coursePageOrder({ user: { name: `Soak ${worker}`, contact: `soak-${worker}-${submitted}@example.com` } });
      try {
        const { status, body } = await postCheckout(system.baseUrl, order);
        if (body?.orderId) attempted.add(body.orderId);
        if (status === 200 && body.status === 'Order Approved') acknowledged.add(body.orderId);
        else if (status === 200) rejected++;
        else indeterminate++;
      } catch {
        indeterminate++;
      }
    }
  };

  const faults: Record<string, number> = { 'kill leader': 0, 'kill executor': 0, 'pause executor': 0, 'kill queue': 0 };
  const paused = new Set<number>();
  const nemesis = async () => {
    while (Date.now() < deadline - 1500) {
      await sleep(1500 + random() * 2500);
      const pids = system.pids();
      const executors = Object.keys(system.executors);
      const roll = random();
      try {
        if (roll < 0.35) {
          const leader = (await clusterExecutors(system)).find((e) => e.role === 'leader');
          if (leader) {
            process.kill(pids[leader.id], 'SIGKILL');
            faults['kill leader']++;
          }
        } else if (roll < 0.55) {
          process.kill(pids[executors[Math.floor(random() * executors.length)]], 'SIGKILL');
          faults['kill executor']++;
        } else if (roll < 0.85) {
          const pid = pids[executors[Math.floor(random() * executors.length)]];
          process.kill(pid, 'SIGSTOP');
          paused.add(pid);
          faults['pause executor']++;
          await sleep(500 + random() * 2500);
          process.kill(pid, 'SIGCONT');
          paused.delete(pid);
        } else {
          process.kill(pids['order-queue'], 'SIGKILL');
          faults['kill queue']++;
        }
      } catch {
        // the process was already gone (restarting): fine, the nemesis tries again later
      }
    }
  };

  await Promise.all([nemesis(), ...[0, 1, 2, 3].map(submitter)]);
  for (const pid of paused) process.kill(pid, 'SIGCONT');
  log(`soak: load and nemesis done (${JSON.stringify(faults)}); healing and checking`);

  // Heal: every executor back, the queue drained, every replica caught up.
  const clients = Object.fromEntries(
    Object.entries(system.executors).map(([id, address]) => [id, createClient(OrderExecutorDefinition, createChannel(address))]),
  );
  const queue = createClient(OrderQueueDefinition, createChannel(system.addresses['order-queue']));
  const ledgers = await waitFor(
    'the cluster to drain the queue and converge',
    async () => {
      const stats = await queue.stats({});
      if (stats.depth !== 0) return undefined;
      const all: Record<string, Execution[]> = {};
      for (const [id, client] of Object.entries(clients)) all[id] = (await client.executions({ orderIds: [] })).executions;
      const counts = new Set(Object.values(all).map((l) => l.length));
      const complete = Object.values(all).every((l) => [...acknowledged].every((id) => l.some((e) => e.orderId === id)));
      return complete && counts.size === 1 ? all : undefined;
    },
    120_000,
  );

  const key = (e: Execution) => `${e.orderId}@${e.index}/${e.term}/${e.executor}`;
  const reference = Object.values(ledgers)[0];
  const executedIds = reference.map((e) => e.orderId);
  const executed = new Set(executedIds);
  const divergent = Object.values(ledgers).filter((l) => l.map(key).sort().join() !== reference.map(key).sort().join()).length;
  const executedLines = system.records().filter((r) => /^Order \S+ executed/.test(r.message));
  const perProcess = new Map<string, number>();
  for (const r of executedLines) perProcess.set(`${r.executor} ${r.order_id}`, (perProcess.get(`${r.executor} ${r.order_id}`) ?? 0) + 1);

  return {
    seconds,
    attempted: submitted,
    acknowledged: acknowledged.size,
    rejected,
    indeterminate,
    executed: executed.size,
    lost: [...acknowledged].filter((id) => !executed.has(id)).length,
    duplicated: executedIds.length - executed.size + [...perProcess.values()].filter((n) => n > 1).length,
    // An order whose HTTP answer was lost (a 503 after the queue had made it durable) may run without
    // the client ever learning its id: up to `indeterminate` of those are expected, any more are not.
    unexpected: Math.max(0, [...executed].filter((id) => !attempted.has(id)).length - indeterminate),
    divergent,
    faults,
  };
}

export function formatReport(r: SoakReport): string {
  const rows: [string, number | string][] = [
    ['seconds', r.seconds],
    ['attempted', r.attempted],
    ['acknowledged (approved)', r.acknowledged],
    ['rejected (by a rule)', r.rejected],
    ['indeterminate (503/timeout)', r.indeterminate],
    ['executed', r.executed],
    ['lost', r.lost],
    ['duplicated', r.duplicated],
    ['unexpected', r.unexpected],
    ['divergent replicas', r.divergent],
    ['faults', Object.entries(r.faults).map(([k, v]) => `${k} ×${v}`).join(', ')],
  ];
  return rows.map(([k, v]) => `${k.padEnd(28)} ${v}`).join('\n');
}

async function main(): Promise<void> {
  const i = process.argv.indexOf('--minutes');
  const minutes = i >= 0 ? Number(process.argv[i + 1]) : 1;
  const seedArg = process.argv.indexOf('--seed');
  const report = await soak(Math.round(minutes * 60), (s) => process.stdout.write(`${s}\n`), seedArg >= 0 ? Number(process.argv[seedArg + 1]) : undefined);
  process.stdout.write(`\n${formatReport(report)}\n`);
  const ok = report.lost === 0 && report.duplicated === 0 && report.unexpected === 0 && report.divergent === 0;
  process.stdout.write(ok ? '\nOK: nothing lost, duplicated or unexpected.\n' : '\nFAILED: the history is not clean.\n');
  process.exit(ok ? 0 : 1);
}

if (require.main === module) {
  main().catch((err: Error) => {
    process.stderr.write(`soak failed: ${err.stack ?? err.message}\n`);
    process.exit(1);
  });
}
