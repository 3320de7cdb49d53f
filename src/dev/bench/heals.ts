/**
 * Issue 15's measure: cycles of cutting an executor off (the leader, or a
 * follower) and healing the cut, each heal timed until the healed executor is a
 * caught-up follower of the current leader, and checked for a term change. Used
 * by test/heal-rejoin.test.ts, which holds it to the issue's bounds, and by
 * `npm run bench` (or only this: `npm run bench:heals`), which reports it.
 *
 * One cycle:
 *   1. the cluster is stable: one leader, both others following it in its term;
 *   2. cut: the leader, or a follower drawn at random, loses both directions of
 *      its links to the other executors (the queue and the test still reach it);
 *   3. the cut is made real: for the leader, until it has stepped down and the
 *      majority has a new leader followed in its term; for a follower, at least
 *      two election timeouts (it starts pre-votes that nobody answers); then a
 *      random extra hold, so cuts of different lengths are measured;
 *   4. heal, timed from the moment the drop rules are gone (`nft` has committed
 *      the flush and exited; starting it takes 100-300 ms on a busy machine and
 *      is reported apart) until the healed node is a follower of the current
 *      leader, in its term, with a commit index at least the leader's at the heal;
 *   5. settle for two election timeouts and read every term again: any term above
 *      the one at the heal is an election after the heal. The executors' own log
 *      lines (`starting election for term N`, at info) say who started it.
 *
 * A heal during which another executor started an election before the healed
 * one rejoined is "disturbed": the healed node then has to wait for the majority
 * to replace a leader it lost on its own (on two cores shared with other work,
 * the executors could miss an election timeout of heartbeats, 140-280 ms,
 * even with no fault at all), so its time says nothing about the heal.
 * It is reported, kept in the `all` figures, and re-run for the percentiles.
 * One heal of each kind is run first as a warm-up and not counted.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ExecutorStatus } from '../../gen/causeway/v1/order_executor';
import { readRaftConfig } from '../../platform/raft-host/config';
import { seededRandom } from '../../raft/random';
import { missingForNetworks } from '../harness/netns';
import { ROOT, type RunningSystem } from '../harness/system';
import { checkHistory, emptyHistory, historyFaults, OrderLoad, type HistoryFaults } from './history';
import { startPartitionedSystem, type Partitioner } from './partitions';
import { percentile } from './stats';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export const HEAL_CASES = ['leader', 'follower'] as const;
export type HealCase = (typeof HEAL_CASES)[number];

/** The executors' longest election timeout at the default timing (2 × 14 ticks of 10 ms: 280 ms). */
const ELECTION_TIMEOUT_MS = (() => {
  const { electionTicks, tickMs } = readRaftConfig({});
  return 2 * electionTicks * tickMs;
})();

export interface HealSample {
  case: HealCase;
  /** The executor that was cut off and healed. */
  node: string;
  /** How long it was cut off. */
  cutMs: number;
  /** Healed (drop rules gone) → the node follows the current leader in its term, caught up to the leader's commit at the heal. */
  rejoinMs: number;
  /** How long removing the drop rules took (`ip netns exec … nft`, before the rejoin is timed). */
  healMs: number;
  /** When the drop rules were gone (epoch ms, to line it up with the services' log timestamps). */
  healedAt: number;
  /** The current leader's term when the heal started. */
  termAtHeal: number;
  /** The highest term any executor holds after the rejoin and the settle. */
  termAfter: number;
  /**
   * Elections started after the heal (`starting election for term N`, N > termAtHeal, from the log at info): by
   * whom, and when, in ms after the heal by the executor's own clock.
   */
  elections: { by: string; afterHealMs: number }[];
  /** Pre-votes for a term above termAtHeal started after the heal by the other executors: each had lost its leader. */
  othersPreVotes: { by: string; afterHealMs: number }[];
}

export interface HealSummary {
  /** Heals measured: undisturbed ones (see disturbedBy), the ones the percentiles are over. */
  heals: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Heals left out of the percentiles because the majority held an election of its own before the rejoin. */
  disturbed: number;
  /** Over every heal, disturbed ones included. */
  all: { heals: number; p50Ms: number; p99Ms: number; maxMs: number };
  /** Heals after which some executor's term was above the term at the heal. */
  termChanges: number;
  /** Elections the heal caused (see electionsByHealedNode). */
  electionsByHealedNode: number;
  /** Other elections the healed node started: after it had rejoined, or once another had started one. */
  otherElectionsByHealedNode: number;
  /** Term changes after a heal that no `starting election` line accounts for (the log is not at info, or lost lines). */
  unexplainedTermChanges: number;
}

const percentiles = (ms: number[]) => ({ heals: ms.length, p50Ms: percentile(ms, 50), p99Ms: percentile(ms, 99), maxMs: ms.length ? Math.max(...ms) : NaN });

export function summarizeHeals(samples: readonly HealSample[]): HealSummary {
  const undisturbed = samples.filter((s) => disturbedBy(s) === undefined);
  return {
    ...percentiles(undisturbed.map((s) => s.rejoinMs)),
    disturbed: samples.length - undisturbed.length,
    all: percentiles(samples.map((s) => s.rejoinMs)),
    termChanges: samples.filter((s) => s.termAfter !== s.termAtHeal).length,
    electionsByHealedNode: samples.reduce((n, s) => n + electionsByHealedNode(s).length, 0),
    otherElectionsByHealedNode: samples.reduce((n, s) => n + s.elections.filter((e) => e.by === s.node).length - electionsByHealedNode(s).length, 0),
    unexplainedTermChanges: samples.filter((s) => s.termAfter !== s.termAtHeal && s.elections.length === 0).length,
  };
}

/**
 * The election, started by another executor between the heal and the rejoin, that the healed node had to wait
 * out: the rejoin then times the majority replacing its leader (on a busy machine, missed heartbeats), not the
 * heal. Undefined for an undisturbed heal.
 */
export function disturbedBy(s: HealSample): HealSample['elections'][number] | undefined {
  return s.elections.find((e) => e.by !== s.node && e.afterHealMs <= s.rejoinMs);
}

/**
 * Elections the heal caused: started by the healed node after the heal, before it rejoined, while the cluster still
 * had its leader, i.e. before any other executor had started a pre-vote or an election for a term above the one
 * at the heal (which it does only when it has heard nothing from the leader for an election timeout). The healed
 * node cannot make another executor lose its leader (its term is not above theirs and a pre-vote changes no one's
 * term, so nothing it sends changes their state or stops the leader's heartbeats); once another has, the leader
 * had gone quiet, and the healed node's own election is its part in replacing it, as any member's would be.
 * Without any fault, a busy machine (load average 20 on two cores) can see the executors miss an election timeout
 * (140-280 ms; 80-160 ms before, when it happened every few seconds) of heartbeats and hold an election.
 */
export function electionsByHealedNode(s: HealSample): HealSample['elections'] {
  const othersFrom = Math.min(...[...s.elections.filter((e) => e.by !== s.node), ...s.othersPreVotes].map((e) => e.afterHealMs));
  return s.elections.filter((e) => e.by === s.node && e.afterHealMs <= s.rejoinMs && e.afterHealMs < othersFrom);
}

export function formatHealSample(s: HealSample): string {
  const elections = s.elections.length ? `; elections started by ${s.elections.map((e) => `${e.by} at +${e.afterHealMs} ms`).join(', ')}` : '';
  const preVotes = s.othersPreVotes.length ? `; pre-votes by the others at ${s.othersPreVotes.map((e) => `+${e.afterHealMs} ms (${e.by})`).join(', ')}` : '';
  return `${s.case} ${s.node}: cut ${s.cutMs} ms, rejoined ${s.rejoinMs} ms after the heal (removing the drop rules took ${s.healMs} ms), term ${s.termAtHeal} → ${s.termAfter}${elections}${preVotes}`;
}

/** One isolate-and-heal cycle (see the top of the file). */
export async function isolateAndHeal(system: RunningSystem, partitions: Partitioner, which: HealCase, random: () => number = Math.random): Promise<HealSample> {
  const before = await partitions.waitForStableCluster();
  const cutFrom = system.lines.length;
  const { rejoining } = await partitions.inject(which === 'leader' ? 'isolate leader' : 'isolate follower', random);
  const node = rejoining!;
  const cutAt = performance.now();
  let healStarted = false;
  try {
    if (which === 'leader') {
      await majorityMovedOn(partitions, node, before.term);
      // The majority's election is in the log; if it is not, the log is not at info and could not name who
      // started an election after the heal either.
      const deadline = Date.now() + 2000;
      while (electionsSince(system, cutFrom, before.term).length === 0) {
        if (Date.now() > deadline) throw new Error('no `starting election` line in the executors\' output: the heal measure needs LOG_LEVEL=info');
        await sleep(20);
      }
    } else {
      await sleep(2 * ELECTION_TIMEOUT_MS);
    }
    await sleep(Math.floor(random() * 700));

    const atHeal = await partitions.waitForLeader(10_000);
    if (atHeal.id === node) throw new Error(`${node} leads while cut off from the other executors`);
    const from = system.lines.length;
    const healStart = performance.now();
    healStarted = true;
    await partitions.heal();
    const healed = performance.now();
    const healedAt = Date.now();
    const healMs = Math.round(healed - healStart);
    const cutMs = Math.round(healed - cutAt);
    const rejoinMs = await partitions.rejoinMs(node, 15_000, { since: healed, caughtUpTo: atHeal.commitIndex });

    await sleep(2 * ELECTION_TIMEOUT_MS);
    const termAfter = Math.max(...(await everyStatus(partitions)).map((s) => s.term));
    // The launcher relays the services' lines as they come: give a late `starting election` line a moment.
    let elections = electionsSince(system, from, atHeal.term);
    for (let waited = 0; termAfter !== atHeal.term && elections.length === 0 && waited < 2000; waited += 50) {
      await sleep(50);
      elections = electionsSince(system, from, atHeal.term);
    }
    return {
      case: which,
      node,
      cutMs,
      rejoinMs,
      healMs,
      healedAt,
      termAtHeal: atHeal.term,
      termAfter,
      elections: elections.map((e) => ({ by: e.by, afterHealMs: e.at - healedAt })),
      othersPreVotes: electionsSince(system, from, atHeal.term, 'pre-vote')
        .filter((e) => e.by !== node)
        .map((e) => ({ by: e.by, afterHealMs: e.at - healedAt })),
    };
  } finally {
    if (!healStarted) await partitions.heal();
  }
}

/** Every executor's Status (a busy machine can miss the 300 ms a Status poll allows: ask again). */
async function everyStatus(partitions: Partitioner, timeoutMs = 10_000): Promise<ExecutorStatus[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const all = Object.values(await partitions.statuses());
    if (all.every((s) => s !== undefined)) return all as ExecutorStatus[];
    if (Date.now() > deadline) throw new Error(`not every executor answered Status within ${timeoutMs} ms`);
    await sleep(20);
  }
}

/**
 * Who logged `starting election for term N` (or, with `kind` 'pre-vote', `starting pre-vote for term N`) with N above
 * `term`, and when (epoch ms), from output line `from` on.
 */
function electionsSince(system: RunningSystem, from: number, term: number, kind: 'election' | 'pre-vote' = 'election'): { by: string; at: number }[] {
  const started: { by: string; at: number }[] = [];
  const prefix = `starting ${kind} for term `;
  for (const line of system.lines.slice(from)) {
    if (!line.includes(prefix)) continue;
    try {
      const record = JSON.parse(line) as { message?: string; executor?: string; timestamp?: string };
      const message = record.message ?? '';
      if (message.startsWith(prefix) && Number(message.slice(prefix.length).split(' ')[0]) > term) {
        started.push({ by: String(record.executor), at: Date.parse(String(record.timestamp)) });
      }
    } catch {
      // not a JSON line
    }
  }
  return started;
}

/** The cut leader has stepped down, and the two others agree on a leader of a higher term. */
async function majorityMovedOn(partitions: Partitioner, old: string, oldTerm: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const s = await partitions.statuses();
    const majority = Object.keys(s).filter((id) => id !== old);
    const leader = majority.map((id) => s[id]).find((x) => x?.role === 'leader' && x.term > oldTerm);
    const follows = leader && majority.every((id) => id === leader.id || (s[id]?.role === 'follower' && s[id]?.leaderId === leader.id && s[id]?.term === leader.term));
    if (follows && s[old] && s[old]!.role !== 'leader') return;
    await sleep(10);
  }
  throw new Error(`the majority did not settle on a new leader within ${timeoutMs} ms of cutting off ${old}`);
}

export interface HealMeasure {
  samples: HealSample[];
  leader: HealSummary;
  follower: HealSummary;
}

/** `cycles` isolate-and-heal cycles of the leader and as many of a follower, alternating. */
/**
 * Isolate-and-heal cycles of the leader and of a follower, alternating, until each case has `cycles` undisturbed
 * heals (see disturbedBy), re-running a disturbed one; throws if a case needs more than 1.5 × `cycles` attempts
 * (the machine is too busy to measure the heal).
 */
export async function measureHeals(
  system: RunningSystem,
  partitions: Partitioner,
  cycles: number,
  log: (s: string) => void,
  random: () => number = Math.random,
): Promise<HealMeasure> {
  const samples: HealSample[] = [];
  const undisturbed = (which: HealCase) => samples.filter((s) => s.case === which && disturbedBy(s) === undefined).length;
  const attempts = (which: HealCase) => samples.filter((s) => s.case === which).length;
  const maxAttempts = Math.ceil(cycles * 1.5);
  // One heal of each first, not counted: a fresh system's first connections and first runs of this code path
  // (the JIT) are not what a heal costs a running cluster.
  for (const which of HEAL_CASES) log(`  warm-up ${formatHealSample(await isolateAndHeal(system, partitions, which, random))}`);
  while (HEAL_CASES.some((which) => undisturbed(which) < cycles)) {
    for (const which of HEAL_CASES) {
      if (undisturbed(which) >= cycles) continue;
      if (attempts(which) >= maxAttempts) {
        throw new Error(`only ${undisturbed(which)} of ${attempts(which)} heals (${which} cut off) were not disturbed by an election of the majority's own: the machine is too busy to time a heal`);
      }
      const sample = await isolateAndHeal(system, partitions, which, random);
      samples.push(sample);
      const disturbance = disturbedBy(sample);
      const note = disturbance ? ` [disturbed: ${disturbance.by} started an election at +${disturbance.afterHealMs} ms; heal re-run]` : '';
      log(`  ${undisturbed(which)}/${cycles} ${formatHealSample(sample)}${note}`);
    }
  }
  return {
    samples,
    leader: summarizeHeals(samples.filter((s) => s.case === 'leader')),
    follower: summarizeHeals(samples.filter((s) => s.case === 'follower')),
  };
}

/**
 * The whole measure on a fresh system (info logs, for the election check) under a light load of orders, with the
 * history checked at the end: what `npm run bench` reports.
 */
export async function measureHealsOnFreshSystem(cycles: number, log: (s: string) => void, seed = Date.now() % 1_000_000): Promise<HealMeasure & { seed: number; history: HistoryFaults & { acknowledged: number } }> {
  log(`    seed ${seed}`);
  // The orders only keep the executors' log moving while heals are timed. They take the books database's one-shot
  // decrement rather than the two-phase commit, whose CPU per order is about five times larger
  // (docs/performance-history.md, "What the two-phase commit costs"): on two cores that load, not Raft, would set
  // the rejoin time.
  const cluster = await startPartitionedSystem({ LOG_LEVEL: 'info', CAUSEWAY_COMMIT_PROTOCOL: 'decrement' });
  try {
    const history = emptyHistory();
    const load = OrderLoad.start(cluster.system, 2, 'heal', history);
    let measure: HealMeasure;
    try {
      measure = await measureHeals(cluster.system, cluster.partitions, cycles, log, seededRandom(seed));
    } finally {
      await load.stop();
    }
    const check = await checkHistory(cluster.system, history, 60_000);
    return { ...measure, seed, history: { ...historyFaults(check), acknowledged: history.acknowledged.size } };
  } finally {
    await cluster.stop();
  }
}

/** `npm run bench:heals`: only this measure, written to bench/results/<date>-heals.json. BENCH_HEALS cycles of each (20). */
async function main(): Promise<void> {
  const missing = missingForNetworks();
  if (missing) throw new Error(missing);
  const cycles = Number(process.env.BENCH_HEALS ?? 20);
  const log = (s: string) => process.stdout.write(`${s}\n`);
  log(`heal → follower: ${cycles} isolate-and-heal cycles of the leader and ${cycles} of a follower, under a light load`);
  // What else loaded the machine: the tail of this measure is the executors waiting for a core.
  const loadBefore = os.loadavg();
  const { leader, follower, seed, history } = await measureHealsOnFreshSystem(cycles, log);
  const loadAverage = { before: loadBefore.map((l) => Math.round(l * 10) / 10), after: os.loadavg().map((l) => Math.round(l * 10) / 10) };
  const dir = path.join(ROOT, 'bench', 'results');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${new Date().toISOString().slice(0, 10)}-heals.json`);
  fs.writeFileSync(file, JSON.stringify({ date: new Date().toISOString(), loadAverage, heals: { leader, follower, seed, history } }, null, 2) + '\n');
  log(`leader:   ${JSON.stringify(leader)}\nfollower: ${JSON.stringify(follower)}\nhistory:  ${JSON.stringify(history)}\nwrote ${path.relative(ROOT, file)}`);
}

if (require.main === module) {
  main().catch((err: Error) => {
    process.stderr.write(`bench failed: ${err.stack ?? err.message}\n`);
    process.exit(1);
  });
}
