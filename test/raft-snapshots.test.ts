/**
 * Log compaction for real (§7): with RAFT_SNAPSHOT_ENTRIES=50, a few hundred
 * orders leave every executor with a snapshot; a restarted executor loads it
 * and replays only the entries after it; a follower whose data directory is
 * wiped comes back through InstallSnapshot and ends with the same ledger.
 */
import fs from 'node:fs';
import path from 'node:path';
import { createChannel, createClient, type Client } from 'nice-grpc';
import { OrderExecutorDefinition, type Execution } from '../src/gen/causeway/v1/order_executor';
import { OrderQueueDefinition } from '../src/gen/causeway/v1/order_queue';
import { clusterExecutors, startSystem, waitFor, type RunningSystem } from './support/system';

const SNAPSHOT_ENTRIES = 50;
let system: RunningSystem;
let executors: Record<string, Client<typeof OrderExecutorDefinition>>;
let queue: Client<typeof OrderQueueDefinition>;

beforeAll(async () => {
  system = await startSystem({ RAFT_SNAPSHOT_ENTRIES: String(SNAPSHOT_ENTRIES), CAUSEWAY_RESTART_DELAY_MS: '500' });
  executors = Object.fromEntries(Object.entries(system.executors).map(([id, address]) => [id, createClient(OrderExecutorDefinition, createChannel(address))]));
  queue = createClient(OrderQueueDefinition, createChannel(system.addresses['order-queue']));
});
afterAll(async () => {
  await system?.stop();
});

let placed = 0;
/** Orders straight into the queue (the checkout path is tested elsewhere): `count` more, 25 per call. */
async function enqueue(count: number): Promise<void> {
  for (let done = 0; done < count; done += 25) {
    const orders = Array.from({ length: Math.min(25, count - done) }, () => ({
      orderId: `snap-${++placed}`,
      shippingMethod: 'Standard',
      items: [{ name: 'Dune', quantity: 1 }],
      customerName: 'Snapshot Tester',
      maskedCard: '**** 1111',
      traceparent: '',
      enqueuedAtMs: 0,
    }));
    await queue.enqueueBatch({ orders });
  }
}

const ledgerOf = async (id: string): Promise<string[]> =>
  (await executors[id].executions({ orderIds: [] })).executions.map((e: Execution) => `${e.orderId}@${e.index}`).sort();

/** Every executor has executed all `placed` orders. */
async function allExecuted(): Promise<void> {
  await waitFor(
    `all ${placed} orders executed on every replica`,
    async () => {
      const counts = await Promise.all(Object.values(executors).map((c) => c.status({}).then((s) => s.executedCount)));
      return counts.every((n) => n === placed) ? true : undefined;
    },
    60_000,
  );
}

describe('Raft snapshots and InstallSnapshot', () => {
  it('gives every executor a snapshot once a few hundred orders went through', async () => {
    await enqueue(300);
    await allExecuted();
    const view = await waitFor('a snapshot on every executor', async () => {
      const all = await clusterExecutors(system);
      return all.every((e) => e.snapshotIndex > 0) ? all : undefined;
    });
    for (const e of view) {
      expect(e.snapshotIndex).toBeGreaterThanOrEqual(SNAPSHOT_ENTRIES);
      // Compaction keeps the log short: at most one interval of entries past the snapshot.
      expect(e.logLength - e.snapshotIndex).toBeLessThan(2 * SNAPSHOT_ENTRIES + 10);
    }
  }, 120_000);

  it('restarts an executor from its snapshot, replaying only the entries after it', async () => {
    const follower = (await clusterExecutors(system)).find((e) => e.role === 'follower')!;
    const pid = system.pids()[follower.id];
    const marker = system.lines.length;
    process.kill(pid, 'SIGKILL');
    const line = await waitFor(`${follower.id} to recover`, async () =>
      system.lines.slice(marker).find((l) => l.includes(`"executor":"${follower.id}"`) && l.includes('recovered term')),
    );
    const [, snapshotAt, tail] = /snapshot at (\d+), (\d+) log entries after it/.exec(line)!;
    expect(Number(snapshotAt)).toBeGreaterThan(0);
    expect(Number(tail)).toBeLessThan(2 * SNAPSHOT_ENTRIES + 10);
    await waitFor(`${follower.id} serving again`, () => executors[follower.id].status({}).then((s) => (s.appliedIndex > 0 ? true : undefined)));
    expect(await ledgerOf(follower.id)).toEqual(await ledgerOf((await clusterExecutors(system)).find((e) => e.role === 'leader')!.id));
  }, 60_000);

  it('brings a follower whose data directory was wiped back through InstallSnapshot', async () => {
    const follower = (await clusterExecutors(system)).find((e) => e.role === 'follower')!;
    const dir = path.join(system.dataDir, 'order-executor', follower.id);
    const pid = system.pids()[follower.id];
    process.kill(pid, 'SIGKILL');
    await waitFor(`${follower.id} (pid ${pid}) to exit`, async () => (isAlive(pid) ? undefined : true));
    fs.rmSync(dir, { recursive: true, force: true });
    // The launcher restarts it, empty; meanwhile the others move on past another snapshot or two.
    await enqueue(150);
    await allExecuted();
    const leader = (await clusterExecutors(system)).find((e) => e.role === 'leader')!;
    await waitFor(`${follower.id} to catch up`, async () => {
      const [mine, theirs] = await Promise.all([ledgerOf(follower.id), ledgerOf(leader.id)]);
      return JSON.stringify(mine) === JSON.stringify(theirs) ? true : undefined;
    });
    const installed = system.records().filter((r) => r.executor === follower.id && /installed the leader's snapshot/.test(r.message));
    expect(installed.length).toBeGreaterThan(0);
    const status = await executors[follower.id].status({});
    expect(status.snapshotIndex).toBeGreaterThan(0);
    expect(status.executedCount).toBe(placed);
    expect(fs.existsSync(dir)).toBe(true);
  }, 120_000);
});

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
