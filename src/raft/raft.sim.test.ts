/**
 * Thousands of seeded fault schedules (drop, delay, duplicate, reorder,
 * partition, crash and restart, crash between persisting and sending, late
 * ticks that stand for several periods) against
 * the Raft core and the executors' queue protocol, checking after every step:
 * - Election Safety: at most one leader per term;
 * - Log Matching: same index and term ⇒ identical prefixes;
 * - Leader Completeness: a leader holds every committed entry;
 * - State Machine Safety: no index is committed with two different entries,
 *   and no replica executes an order twice;
 * - ReadIndex: a read a leader confirms covers every entry committed anywhere
 *   before it was asked (checked as each read is confirmed, in sim/network.ts);
 * and after healing: every enqueued order is executed on every replica.
 * A second run compacts logs every few entries, so lagging and restarted
 * replicas catch up through InstallSnapshot (§7) under the same faults.
 * A failure names its seed; rerun it with SEED=<n>.
 */
import { Cluster, type Faults, type SimOptions } from './sim/network';

const SCHEDULES = Number(process.env.RAFT_SCHEDULES ?? 2000);
const STEPS = 300;

const FAULTS: Faults = { drop: 0.1, duplicate: 0.05, maxDelay: 6, partitionChance: 0.01, crashChance: 0.004, crashMidReady: 0.002, lateTick: 0.05 };

function checkInvariants(cluster: Cluster): void {
  const up = cluster.nodes.filter((n) => n.node);
  for (const sim of up) {
    const s = sim.node!.status();
    if (s.role === 'leader') {
      const known = cluster.leaders.get(s.term);
      if (known !== undefined && known !== sim.id) throw new Error(`two leaders in term ${s.term}: ${known} and ${sim.id}`);
      cluster.leaders.set(s.term, sim.id);
      for (const [index, term] of cluster.committed) {
        if (index <= s.snapshotIndex) continue; // its snapshot stands for it
        // Leader Completeness (§5.4) speaks of the leaders of terms after the one the entry was committed in: a
        // deposed leader of an older term that has not heard of its successors (possible without CheckQuorum) may
        // lack what they committed, even an entry of an older term that a later one committed with its own.
        if (cluster.committedIn.get(index)! > s.term) continue;
        if (sim.node!.entryAt(index)?.term !== term) {
          throw new Error(`leader ${sim.id} (term ${s.term}) lacks committed entry ${index}@${term}`);
        }
      }
    }
    for (let i = s.snapshotIndex + 1; i <= s.commit; i++) {
      const term = sim.node!.entryAt(i)!.term;
      const seen = cluster.committed.get(i);
      if (seen !== undefined && seen !== term) throw new Error(`index ${i} committed as term ${seen} and ${term}`);
      cluster.committed.set(i, term);
      if (!cluster.committedIn.has(i)) cluster.committedIn.set(i, sim.node!.entryAt(s.commit)!.term);
    }
    const ids = sim.executed.map((e) => e.orderId);
    if (new Set(ids).size !== ids.length) throw new Error(`${sim.id} executed an order twice`);
  }
  // Log Matching, from the highest common (index, term) down.
  for (let x = 0; x < up.length; x++) {
    for (let y = x + 1; y < up.length; y++) {
      const a = up[x].node!;
      const b = up[y].node!;
      const last = Math.min(a.status().lastIndex, b.status().lastIndex);
      // Below either snapshot there is nothing left to compare.
      const first = Math.max(a.status().snapshotIndex, b.status().snapshotIndex) + 1;
      let i = last;
      while (i >= first && a.entryAt(i)!.term !== b.entryAt(i)!.term) i--;
      for (let j = i; j >= first; j--) {
        const ea = a.entryAt(j)!;
        const eb = b.entryAt(j)!;
        if (ea.term !== eb.term || ea.data !== eb.data) throw new Error(`logs of ${up[x].id} and ${up[y].id} differ at ${j} below a match at ${i}`);
      }
    }
  }
}

function runSchedule(seed: number, size: number, options?: SimOptions): Cluster {
  const cluster = new Cluster(seed, size, FAULTS, options);
  let next = 0;
  for (let t = 0; t < STEPS; t++) {
    if (cluster.random() < 0.15) cluster.enqueue(`order-${seed}-${next++}`);
    cluster.step(checkInvariants);
  }
  cluster.heal();
  for (let t = 0; t < 2000 && !allExecutedEverywhere(cluster); t++) cluster.step(checkInvariants);
  return cluster;
}

function allExecutedEverywhere(cluster: Cluster): boolean {
  return cluster.nodes.every((sim) => cluster.enqueued.every((id) => sim.ledger.get(id) !== undefined));
}

function expectLive(cluster: Cluster): void {
  if (!allExecutedEverywhere(cluster)) {
    const missing = cluster.nodes.map((s) => `${s.id}: ${cluster.enqueued.filter((id) => s.ledger.get(id) === undefined).length} missing`);
    throw new Error(`seed ${cluster.seed}: after healing not every order was executed everywhere (${missing.join(', ')})`);
  }
  // Every replica executed the same orders at the same log indexes, once each, and its ledger says so.
  const reference = JSON.stringify(cluster.nodes[0].executed);
  for (const sim of cluster.nodes) {
    expect(JSON.stringify(sim.executed)).toBe(reference);
    expect(sim.ledger.all().map(({ orderId, index }) => ({ orderId, index }))).toEqual(sim.executed);
  }
}

const seeds = process.env.SEED ? [Number(process.env.SEED)] : Array.from({ length: SCHEDULES }, (_, i) => i + 1);

describe(`Raft under ${seeds.length} random fault schedules`, () => {
  it('keeps every safety invariant and executes every order exactly once on every replica (3 nodes)', () => {
    let leadersSeen = 0;
    let orders = 0;
    let readsConfirmed = 0;
    let readsAborted = 0;
    for (const seed of seeds) {
      let cluster: Cluster;
      try {
        cluster = runSchedule(seed, 3);
      } catch (err) {
        throw new Error(`seed ${seed}: ${(err as Error).message}`);
      }
      expectLive(cluster);
      leadersSeen += cluster.leaders.size;
      orders += cluster.enqueued.length;
      readsConfirmed += cluster.readsConfirmed;
      readsAborted += cluster.readsAborted;
    }
    // The schedules really exercised elections and replication, and reads both confirmed and cut short by a lost lead.
    expect(leadersSeen).toBeGreaterThan(seeds.length * 2);
    expect(orders).toBeGreaterThan(seeds.length * 30);
    expect(readsConfirmed).toBeGreaterThan(seeds.length * 5);
    expect(readsAborted).toBeGreaterThan(0);
  });

  it('does the same when every replica compacts its log every 5 entries, catching up through snapshots', () => {
    let installed = 0;
    let compactions = 0;
    for (const seed of seeds.slice(0, Math.ceil(seeds.length / 2))) {
      let cluster: Cluster;
      try {
        cluster = runSchedule(seed + 200_000, 3, { snapshotEvery: 5 });
      } catch (err) {
        throw new Error(`seed ${seed + 200_000} (snapshots): ${(err as Error).message}`);
      }
      expectLive(cluster);
      installed += cluster.snapshotsInstalled;
      compactions += cluster.compactions;
    }
    // Lagging and restarted replicas really were brought up to date by InstallSnapshot.
    expect(compactions).toBeGreaterThan(seeds.length);
    expect(installed).toBeGreaterThan(seeds.length / 20);
  });

  it('confirms no stale read while a deposed leader lingers in a partition (no CheckQuorum to make it step down)', () => {
    let readsConfirmed = 0;
    for (const seed of seeds.slice(0, Math.ceil(seeds.length / 4))) {
      let cluster: Cluster;
      try {
        cluster = runSchedule(seed + 300_000, 3, { snapshotEvery: 0, checkQuorum: false });
      } catch (err) {
        throw new Error(`seed ${seed + 300_000} (no CheckQuorum): ${(err as Error).message}`);
      }
      expectLive(cluster);
      readsConfirmed += cluster.readsConfirmed;
    }
    expect(readsConfirmed).toBeGreaterThan(seeds.length);
  });

  it('does the same with 5 nodes', () => {
    for (const seed of seeds.slice(0, Math.ceil(seeds.length / 10))) {
      let cluster: Cluster;
      try {
        cluster = runSchedule(seed + 100_000, 5);
      } catch (err) {
        throw new Error(`seed ${seed + 100_000}: ${(err as Error).message}`);
      }
      expectLive(cluster);
    }
  });
});
