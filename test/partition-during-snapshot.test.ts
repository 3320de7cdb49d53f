/**
 * Issue 9's fourth partition scenario, a partition during a snapshot transfer.
 *
 * The scenario: a follower is cut off (and restarted, inside the partition) while
 * orders flow, until the leader has compacted past the follower's last entry (so
 * only a snapshot can bring it back); then its link to the leader flaps, so the snapshot transfer is cut
 * mid-way, again and again; then the link heals. The follower must catch up
 * through a snapshot and converge with the others, and the history stays clean.
 */
import { checkHistory, emptyHistory, historyFaults, NO_HISTORY_FAULTS, OrderLoad } from '../src/dev/bench/history';
import { startPartitionedSystem, type PartitionedSystem, type Partitioner } from '../src/dev/bench/partitions';
import { getJson, waitFor, type RunningSystem } from './support/system';

let cluster: PartitionedSystem;
let system: RunningSystem;
let partitions: Partitioner;

beforeAll(async () => {
  cluster = await startPartitionedSystem({
    RAFT_SNAPSHOT_ENTRIES: '50',
    CAUSEWAY_RESTART_DELAY_MS: '300',
    // Info, so the follower's 'installed the leader's snapshot' line is there to check.
    LOG_LEVEL: 'info',
  });
  ({ system, partitions } = cluster);
}, 60_000);

afterAll(async () => {
  await cluster?.stop();
});

/** snapshotIndex per executor, as GET /cluster reports it (undefined where it reports none). */
async function snapshotIndexes(): Promise<Record<string, number | undefined>> {
  const cluster = await getJson(`${system.baseUrl}/cluster`);
  return Object.fromEntries(cluster.executors.map((e: { id: string; snapshotIndex?: number }) => [e.id, e.snapshotIndex]));
}

it('brings a follower cut off past the leader’s snapshot back through InstallSnapshot, even when its link flaps during the transfer', async () => {
  const history = emptyHistory();
  const leader = await partitions.waitForStableCluster();
  const follower = Object.keys(system.executors).find((e) => e !== leader.id)!;
  expect(await snapshotIndexes()).toEqual({ 'executor-1': expect.any(Number), 'executor-2': expect.any(Number), 'executor-3': expect.any(Number) });
  const load = OrderLoad.start(system, 3, 'snapshot', history);
  try {
    await scenario(follower);
  } finally {
    await load.stop();
  }
  const check = await checkHistory(system, history, 60_000);
  expect(historyFaults(check)).toEqual(NO_HISTORY_FAULTS);
}, 180_000);

async function scenario(follower: string): Promise<void> {
  await partitions.network.cut(follower, Object.keys(system.executors).filter((e) => e !== follower));
  const atCut = (await partitions.statuses())[follower]?.logLength;
  // Restart it while it is cut off. Otherwise the leader's pipelined Appends, sent into the partition while it
  // still held those entries, sit in its TCP send buffer and arrive after the heal: a follower catches up from
  // them, never needing the snapshot. A restarted follower's sockets are gone, so nothing old reaches it.
  const pid = system.pids()[follower];
  process.kill(pid, 'SIGKILL');
  // Its log as it restarted, not as a status read just after the cut said: Appends that arrived before the cut
  // but were still in its socket buffer at that read are applied after it (on a loaded box, dozens of them).
  const behindAt = await waitFor(`${follower} restarted inside its namespace`, async () => {
    const current = system.pids()[follower];
    return current !== pid ? (await partitions.statuses())[follower]?.logLength : undefined;
  }, 60_000);
  console.log(`${follower} cut off with ${atCut ?? '?'} entries read just after the cut, restarted with ${behindAt}`);
  // Behind past the snapshot: the leader's log no longer holds the entry after the follower's last one.
  await waitFor(
    `the majority to snapshot past ${follower}'s last entry (${behindAt})`,
    async () => {
      // Both: leadership may move between them (a loaded box misses heartbeats), and whichever leads after the
      // heal must no longer hold the entries the follower lacks.
      const snapshots = await snapshotIndexes();
      const majority = Object.keys(system.executors).filter((e) => e !== follower);
      return majority.every((e) => (snapshots[e] ?? 0) > behindAt + 50) ? true : undefined;
    },
    60_000,
  );

  // A status poll can miss the leader on a loaded box (300 ms timeouts): wait for one.
  const current = await partitions.waitForLeader(30_000);
  await partitions.heal();
  partitions.flap(current.id, follower, 120);
  await new Promise((r) => setTimeout(r, 3000));
  await partitions.heal();
  const rejoinMs = await partitions.rejoinMs(follower);
  console.log(`partition during snapshot transfer: ${follower} followed again ${rejoinMs} ms after the heal`);
  // It came back through a snapshot, not by replaying entries the leader no longer has.
  await waitFor(`${follower} to hold a snapshot past ${behindAt}`, async () => (((await snapshotIndexes())[follower] ?? 0) > behindAt ? true : undefined));
  // The log line travels executor → launcher → this process through two pipes, so it can arrive after the Status
  // answer that showed the snapshot (on a loaded box it did, twice): wait for it rather than look once.
  const installed = await waitFor(
    `${follower} to log an installed snapshot`,
    async () => {
      const lines = system.records().filter((r) => r.executor === follower && /installed the leader.s snapshot/.test(r.message));
      return lines.length > 0 ? lines : undefined;
    },
    15_000,
  ).catch(() => []);
  expect(installed.length).toBeGreaterThan(0);
}
