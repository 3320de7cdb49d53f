/**
 * A Jepsen-style soak: continuous orders while a nemesis injects faults; then
 * everything is healed and the history is checked. Every order the shop
 * acknowledged (HTTP 200, approved) must be executed exactly once, identically
 * on every replica; nothing may be executed that was never submitted.
 *
 * Orders commit through the two-phase commit (issue 14), so after the history
 * the commit invariants are checked too (src/dev/bench/commit-invariants.ts):
 * stock accounted for by the committed orders, each captured exactly once,
 * aborts never captured and released, every participant agreeing with the
 * logged decision, nothing left prepared or held, replicas equal.
 *
 * Nemeses: `process` SIGKILLs and SIGSTOPs executors, kills the queue, payment
 * and the books database's leader; `partition` runs the queue, the executors,
 * the books database and payment as hosts in network namespaces (needs root,
 * ip, nft) and cuts links between them: the leader or a follower isolated, one
 * direction of a link dropped, a flapping link, the queue cut off, the leader
 * cut off from payment or from the books database; `all` mixes both.
 *
 *   npm run chaos:soak -- --minutes 10 [--nemesis process|partition|all] [--seed N]
 */
import { clusterExecutors, coursePageOrder, startSystem, waitFor, type RunningSystem } from '../harness/system';
import { seededRandom } from '../../raft/random';
import { checkCommitInvariants, CommitProbe, commitViolations, type CommitViolations, type OrderItem } from './commit-invariants';
import { checkHistory, OrderLoad } from './history';
import { PARTITION_ENV, PARTITION_KINDS, Partitioner, type PartitionKind } from './partitions';
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
  /** Per healed partition that cut an executor off: heal → that executor follows the current leader (or leads a whole cluster), ms. */
  rejoinMs: number[];
  /** Heals after which the executor neither followed the leader nor led the others within 15 s. */
  rejoinTimeouts: number;
  /** Two-phase commit: orders committed and aborted (by reason), as the executors' ledger logged them. */
  committed: number;
  aborted: number;
  abortReasons: Record<string, number>;
  /** The commit invariants' violations (all must be 0), and the first few in words. */
  commit: CommitViolations;
  commitProblems: string[];
  /** Whether everything settled (decisions finished, nothing prepared or held, replicas equal) after the heal. */
  settled: boolean;
}

/** Whether a report is clean: the history, the commit invariants, and every healed executor back in the cluster. */
export function soakPassed(r: SoakReport): boolean {
  return (
    r.lost === 0 &&
    r.duplicated === 0 &&
    r.unexpected === 0 &&
    r.divergent === 0 &&
    r.settled &&
    r.rejoinTimeouts === 0 &&
    Object.values(r.commit).every((n) => n === 0)
  );
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const PROCESS_FAULTS = ['kill leader', 'kill executor', 'pause executor', 'kill queue', 'kill payment', 'kill books leader'];
/** How often each process fault comes up per round of the nemesis's deck: the executors' leader most. */
const PROCESS_DECK = ['kill leader', 'kill leader', 'kill leader', 'kill executor', 'kill executor', 'pause executor', 'pause executor', 'kill queue', 'kill payment', 'kill books leader'];

/** The items of every order the load places (the course page's order): what the commit invariants account for. */
const LOAD_ITEMS = coursePageOrder().items as OrderItem[];

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
  const probe = new CommitProbe(system);
  try {
    return await run(system, probe, seconds, random, log, nemesis, quota);
  } finally {
    probe.close();
    await system.stop();
  }
}

async function run(
  system: RunningSystem,
  probe: CommitProbe,
  seconds: number,
  random: () => number,
  log: (s: string) => void,
  nemesis: Nemesis,
  quota: FaultQuota,
): Promise<SoakReport> {
  // Stock on hand before the first order: the committed orders must account for every copy that goes.
  const initialStock = await waitFor('the seeded stock', () => probe.stockOnHand(), 30_000);
  const started = Date.now();
  const deadline = started + seconds * 1000;
  // Every fault is logged with when it came, so that a failure reads as the sequence that led to it.
  const at = () => `t+${((Date.now() - started) / 1000).toFixed(1)} s`;
  const overtime = deadline + seconds * 1000;
  const load = OrderLoad.start(system, 4, 'soak');
  const partitioner = nemesis === 'process' ? undefined : new Partitioner(system);
  const kinds = [...(nemesis === 'partition' ? [] : PROCESS_FAULTS), ...(partitioner ? PARTITION_KINDS : [])];
  const faults: Record<string, number> = Object.fromEntries(kinds.map((k) => [k, 0]));
  const rejoinMs: number[] = [];
  let rejoinTimeouts = 0;
  const paused = new Set<number>();

  const processDeck: string[] = [];
  const processFault = async () => {
    // Dealt from a shuffled deck weighted as PROCESS_DECK: every kind comes up in every round of the deck.
    if (processDeck.length === 0) processDeck.push(...shuffled(PROCESS_DECK, random));
    const kind = processDeck.pop()!;
    const pids = system.pids();
    const executors = Object.keys(system.executors);
    if (kind === 'kill leader') {
      const leader = (await clusterExecutors(system)).find((e) => e.role === 'leader');
      if (leader) {
        process.kill(pids[leader.id], 'SIGKILL');
        faults['kill leader']++;
        log(`soak: ${at()}: killed ${leader.id} (leader)`);
      }
    } else if (kind === 'kill executor') {
      const victim = executors[Math.floor(random() * executors.length)];
      process.kill(pids[victim], 'SIGKILL');
      faults['kill executor']++;
      log(`soak: ${at()}: killed ${victim}`);
    } else if (kind === 'pause executor') {
      const victim = executors[Math.floor(random() * executors.length)];
      const pid = pids[victim];
      process.kill(pid, 'SIGSTOP');
      paused.add(pid);
      faults['pause executor']++;
      const ms = Math.round(500 + random() * 2500);
      log(`soak: ${at()}: paused ${victim} for ${ms} ms`);
      await sleep(ms);
      process.kill(pid, 'SIGCONT');
      paused.delete(pid);
    } else if (kind === 'kill queue') {
      process.kill(pids['order-queue'], 'SIGKILL');
      faults['kill queue']++;
      log(`soak: ${at()}: killed order-queue`);
    } else if (kind === 'kill payment') {
      process.kill(pids.payment, 'SIGKILL');
      faults['kill payment']++;
      log(`soak: ${at()}: killed payment`);
    } else {
      const statuses = await Promise.all(
        Object.entries(probe.books).map(async ([id, c]) => [id, await c.status({}, { signal: AbortSignal.timeout(500) }).catch(() => undefined)] as const),
      );
      const leader = statuses.find(([, s]) => s?.role === 'leader')?.[0];
      if (leader) {
        process.kill(pids[leader], 'SIGKILL');
        faults['kill books leader']++;
        log(`soak: ${at()}: killed ${leader} (books database leader)`);
      }
    }
  };

  const deck: PartitionKind[] = [];
  const partitionFault = async (p: Partitioner) => {
    // Dealt from a shuffled deck: every kind comes up once before any comes up again, so even a short soak with a
    // handful of partitions covers kinds a plain draw could miss for a whole run.
    if (deck.length === 0) deck.push(...shuffled(PARTITION_KINDS, random));
    const kind = deck.pop()!;
    const { rejoining, description } = await p.inject(kind, random).catch(async (err) => {
      await p.heal();
      throw err;
    });
    faults[kind]++;
    log(`soak: ${at()}: ${description}`);
    try {
      await sleep(800 + random() * 2200);
    } finally {
      await p.heal();
    }
    if (!rejoining) return;
    try {
      const ms = await p.rejoinMs(rejoining, 15_000, { orLeading: true });
      rejoinMs.push(ms);
      const now = (await p.statuses())[rejoining];
      log(`soak: ${at()}: healed, ${rejoining} ${now?.role === 'leader' ? 'leading' : 'following'} again after ${ms} ms`);
    } catch (err) {
      rejoinTimeouts++;
      // What the services said about that executor lately (a crash, a restart, a refused message): the why.
      const said = system.lines.filter((line) => line.includes(rejoining)).slice(-15);
      log(`soak: ${at()}: healed, but ${(err as Error).message}\n  its last lines:\n    ${said.join('\n    ')}`);
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
        else await processFault();
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
  const { state, settled } = await probe.settled(60_000);
  const commit = checkCommitInvariants(state, { initialStock, orders: new Map(), defaultItems: LOAD_ITEMS });

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
    committed: commit.committed,
    aborted: commit.aborted,
    abortReasons: commit.abortReasons,
    commit: commitViolations(commit),
    commitProblems: commit.problems,
    settled,
  };
}

/** A seeded Fisher–Yates shuffle. */
function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
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
    ['committed (2PC)', r.committed],
    ['aborted (2PC)', `${r.aborted}${r.aborted ? ` (${Object.entries(r.abortReasons).map(([k, n]) => `${k} ×${n}`).join(', ')})` : ''}`],
    ['settled after the heal', r.settled ? 'yes' : 'NO (still prepared, held, unfinished or apart)'],
    ...Object.entries(r.commit).map(([k, n]): [string, number] => [`commit: ${k}`, n]),
    ['faults', Object.entries(r.faults).map(([k, v]) => `${k} ×${v}`).join(', ')],
  ];
  if (r.commitProblems.length) rows.push(['commit problems', `\n  ${r.commitProblems.join('\n  ')}`]);
  if (r.rejoinMs.length || r.rejoinTimeouts) {
    const sorted = [...r.rejoinMs].sort((a, b) => a - b);
    rows.push([
      'heal → rejoined (ms)',
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
  const ok = soakPassed(report);
  process.stdout.write(
    ok
      ? '\nOK: nothing lost, duplicated or unexpected; every commit invariant holds; every healed executor rejoined.\n'
      : '\nFAILED: the history is not clean, a commit invariant is broken, or a healed executor did not rejoin.\n',
  );
  process.exit(ok ? 0 : 1);
}

if (require.main === module) {
  main().catch((err: Error) => {
    process.stderr.write(`soak failed: ${err.stack ?? err.message}\n`);
    process.exit(1);
  });
}
