/**
 * A Jepsen-style soak: continuous orders while a nemesis injects faults; then
 * everything is healed and the history is checked. Every order the shop
 * acknowledged (HTTP 200, approved) must be executed exactly once, identically
 * on every replica; nothing may be executed that was never submitted.
 *
 * Nemeses: `process` SIGKILLs and SIGSTOPs executors and kills the queue;
 * `partition` runs the queue and the executors as hosts in network namespaces
 * (needs root, ip, nft) and cuts links between them: the leader or a follower
 * isolated, one direction of a link dropped, a flapping link, the queue cut
 * off; `all` mixes both.
 *
 *   npm run chaos:soak -- --minutes 10 [--nemesis process|partition|all] [--seed N]
 */
import { clusterExecutors, startSystem, type RunningSystem } from '../harness/system';
import { seededRandom } from '../../raft/random';
import { checkHistory, OrderLoad } from './history';
import { PARTITION_ENV, PARTITION_KINDS, Partitioner } from './partitions';
import { percentile } from './stats';

export const NEMESES = ['process', 'partition', 'all'] as const;
export type Nemesis = (typeof NEMESES)[number];

export interface SoakReport {
  seconds: number;
  nemesis: Nemesis;
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
  /** Per healed partition that cut an executor off: heal → that executor follows the current leader, ms. */
  rejoinMs: number[];
  /** Heals after which the executor did not follow the leader within 15 s. */
  rejoinTimeouts: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const PROCESS_FAULTS = ['kill leader', 'kill executor', 'pause executor', 'kill queue'];

/**
 * The fewest faults a soak must inject: the nemesis goes on past `seconds` (by at
 * most `seconds` more) until it has injected this many, so a slow machine or an
 * unlucky seed cannot turn a short soak into one that tested nothing.
 */
export interface FaultQuota {
  total: number;
  partitions: number;
}

/** Runs the soak against a fresh system for `seconds`, then heals it and checks the history. */
export async function soak(
  seconds: number,
  log: (s: string) => void,
  seed = Date.now(),
  nemesis: Nemesis = 'process',
  quota: FaultQuota = { total: 0, partitions: 0 },
): Promise<SoakReport> {
  const random = seededRandom(seed);
  log(`soak: ${seconds} s, nemesis ${nemesis}, seed ${seed}`);
  const system = await startSystem({ ...PARTITION_ENV, CAUSEWAY_RESTART_DELAY_MS: '300' }, { hosts: nemesis !== 'process' });
  try {
    return await run(system, seconds, random, log, nemesis, quota);
  } finally {
    await system.stop();
  }
}

async function run(
  system: RunningSystem,
  seconds: number,
  random: () => number,
  log: (s: string) => void,
  nemesis: Nemesis,
  quota: FaultQuota,
): Promise<SoakReport> {
  const deadline = Date.now() + seconds * 1000;
  const overtime = deadline + seconds * 1000;
  const load = OrderLoad.start(system, 4, 'soak');
  const partitioner = nemesis === 'process' ? undefined : new Partitioner(system);
  const kinds = [...(nemesis === 'partition' ? [] : PROCESS_FAULTS), ...(partitioner ? PARTITION_KINDS : [])];
  const faults: Record<string, number> = Object.fromEntries(kinds.map((k) => [k, 0]));
  const rejoinMs: number[] = [];
  let rejoinTimeouts = 0;
  const paused = new Set<number>();

  const processFault = async (roll: number) => {
    const pids = system.pids();
    const executors = Object.keys(system.executors);
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
  };

  const partitionFault = async (p: Partitioner) => {
    const kind = PARTITION_KINDS[Math.floor(random() * PARTITION_KINDS.length)];
    const { rejoining, description } = await p.inject(kind, random).catch(async (err) => {
      await p.heal();
      throw err;
    });
    faults[kind]++;
    try {
      await sleep(800 + random() * 2200);
    } finally {
      await p.heal();
    }
    if (!rejoining) return;
    try {
      const ms = await p.rejoinMs(rejoining);
      rejoinMs.push(ms);
      log(`soak: ${description}; healed, ${rejoining} following again after ${ms} ms`);
    } catch (err) {
      rejoinTimeouts++;
      log(`soak: ${description}; healed, but ${(err as Error).message}`);
    }
  };

  const injected = (names: readonly string[]) => names.reduce((sum, k) => sum + (faults[k] ?? 0), 0);
  const quotaMet = () => injected(kinds) >= quota.total && injected(PARTITION_KINDS) >= quota.partitions;
  const nemesisLoop = async () => {
    // `all` alternates, partition first, so even a short soak has both kinds.
    for (let n = 0; Date.now() < deadline - 1500 || (!quotaMet() && Date.now() < overtime); n++) {
      await sleep(1500 + random() * 2500);
      try {
        if (partitioner && (nemesis === 'partition' || n % 2 === 0)) await partitionFault(partitioner);
        else await processFault(random());
      } catch {
        // the process was already gone (restarting), or no leader right now: fine, the nemesis tries again later
      }
    }
  };

  try {
    await nemesisLoop();
  } finally {
    for (const pid of paused) process.kill(pid, 'SIGCONT');
    await partitioner?.close();
  }
  await sleep(Math.max(0, deadline - Date.now()));
  const history = await load.stop();
  log(`soak: load and nemesis done (${JSON.stringify(faults)}); healing and checking`);
  const check = await checkHistory(system, history);

  return {
    seconds,
    nemesis,
    attempted: history.attempted,
    acknowledged: history.acknowledged.size,
    rejected: history.rejected,
    indeterminate: history.indeterminate,
    executed: check.executed,
    lost: check.lost,
    duplicated: check.duplicated,
    unexpected: check.unexpected,
    divergent: check.divergent,
    faults,
    rejoinMs,
    rejoinTimeouts,
  };
}

export function formatReport(r: SoakReport): string {
  const rows: [string, number | string][] = [
    ['seconds', r.seconds],
    ['nemesis', r.nemesis],
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
  if (r.rejoinMs.length || r.rejoinTimeouts) {
    const sorted = [...r.rejoinMs].sort((a, b) => a - b);
    rows.push([
      'heal → follower (ms)',
      `${sorted.length} heals: p50 ${sorted.length ? percentile(sorted, 50) : '-'}, max ${sorted.at(-1) ?? '-'}${r.rejoinTimeouts ? `; ${r.rejoinTimeouts} not within 15 s` : ''}`,
    ]);
  }
  return rows.map(([k, v]) => `${k.padEnd(28)} ${v}`).join('\n');
}

async function main(): Promise<void> {
  const i = process.argv.indexOf('--minutes');
  const minutes = i >= 0 ? Number(process.argv[i + 1]) : 1;
  const seedArg = process.argv.indexOf('--seed');
  const nemesisArg = process.argv.indexOf('--nemesis');
  const nemesis = (nemesisArg >= 0 ? process.argv[nemesisArg + 1] : 'process') as Nemesis;
  if (!NEMESES.includes(nemesis)) throw new Error(`--nemesis must be one of ${NEMESES.join(', ')}`);
  const report = await soak(Math.round(minutes * 60), (s) => process.stdout.write(`${s}\n`), seedArg >= 0 ? Number(process.argv[seedArg + 1]) : undefined, nemesis);
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
