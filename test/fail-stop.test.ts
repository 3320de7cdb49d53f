/**
 * Fail-stop for real: an executor that finds its replicated state broken stops
 * loudly (an error line with the details, exit code 1) instead of carrying on,
 * and the documented recovery (wipe that replica's data directory; it catches
 * up from the others) brings it back with the same ledger as its peers.
 *
 * The break is injected the only way a correct cluster cannot produce it: a
 * message that claims to come from the leader commits an entry the state
 * machine cannot decode.
 */
import fs from 'node:fs';
import path from 'node:path';
import { createChannel, createClient } from 'nice-grpc';
import { OrderExecutorDefinition, type Execution } from '../src/gen/causeway/v1/order_executor';
import { clusterExecutors, coursePageOrder, postCheckout, startSystem, waitFor, type RunningSystem } from './support/system';

let system: RunningSystem;

beforeAll(async () => {
  // Long enough to wipe the broken replica before the launcher restarts it.
  system = await startSystem({ CAUSEWAY_RESTART_DELAY_MS: '2500' });
});
afterAll(async () => {
  await system?.stop();
});

const ledgerOf = async (address: string): Promise<string[]> =>
  (await createClient(OrderExecutorDefinition, createChannel(address)).executions({ orderIds: [] })).executions
    .map((e: Execution) => `${e.orderId}@${e.index}`)
    .sort();

it('stops an executor whose committed log cannot be applied, and a wiped replica catches up', async () => {
  // An idle, settled cluster: every log ends with the leader's own no-op, in its term.
  const view = await waitFor('a settled cluster', async () => {
    const all = await clusterExecutors(system);
    const leader = all.find((e) => e.role === 'leader');
    const settled = leader && all.every((e) => e.term === leader.term && e.leaderId === leader.id && e.appliedIndex === leader.commitIndex);
    return settled ? all : undefined;
  });
  const leader = view.find((e) => e.role === 'leader')!;
  const victim = view.find((e) => e.role === 'follower')!;
  const pid = system.pids()[victim.id];
  const next = victim.logLength + 1;

  const client = createClient(OrderExecutorDefinition, createChannel(system.executors[victim.id]));
  // Over the peers' own channel: a stream of batches, here of one.
  await client.stream(
    (async function* () {
      yield {
        messages: [
          {
            type: 'Append', from: leader.id, to: victim.id, term: leader.term, logTerm: leader.term, index: victim.logLength,
            entries: [{ term: leader.term, index: next, type: 'command', data: 'this is not an order' }],
            commit: next, reject: false, rejectHint: 0, snapshot: undefined,
          },
        ],
      };
    })(),
  );

  const exited = await waitFor(`${victim.id} to stop`, async () => system.lines.find((l) => l.includes(`${victim.id} exited (code 1)`)));
  expect(exited).toBeDefined();
  const error = system.records().find((r) => r.executor === victim.id && r.level === 'error');
  expect(error?.message).toMatch(/^stopping: /);
  expect(error?.message).toContain('JSON');

  // The documented recovery: wipe that replica while it is down; the launcher restarts it empty.
  fs.rmSync(path.join(system.dataDir, 'order-executor', victim.id), { recursive: true, force: true });
  const order = await postCheckout(system.baseUrl, coursePageOrder());
  expect(order.body.status).toBe('Order Approved');
  await waitFor(`${victim.id} back (new pid) and caught up`, async () => {
    if (system.pids()[victim.id] === pid) return undefined;
    const [mine, theirs] = await Promise.all([ledgerOf(system.executors[victim.id]), ledgerOf(system.executors[leader.id])]);
    return mine.length > 0 && JSON.stringify(mine) === JSON.stringify(theirs) ? true : undefined;
  }, 30_000);
  expect(await ledgerOf(system.executors[victim.id])).toContainEqual(expect.stringMatching(new RegExp(`^${order.body.orderId}@`)));
}, 90_000);
