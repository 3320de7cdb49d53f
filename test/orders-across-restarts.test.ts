/**
 * Orders the API answered are remembered across a crash of everything: every
 * process (the launcher included) is SIGKILLed at once in the middle of a burst
 * of checkouts, then the system starts again on the same data directory. Every
 * approved answer is executed exactly once, identically on every replica, and
 * GET /orders/:id gives back each answered order with the body it was answered
 * with, approved ones as `executed` (recorded by the orchestrator's reconciler,
 * before anyone asks), rejected ones with their rejection.
 */
import Database from 'better-sqlite3';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createChannel, createClient } from 'nice-grpc';
import { OrderExecutorDefinition, type Execution } from '../src/gen/causeway/v1/order_executor';
import { coursePageOrder, getJson, postCheckout, startSystem, waitFor, type RunningSystem } from './support/system';

const ENV = {
  FRAUD_CONTACT_VELOCITY_LIMIT: '1000000',
  FRAUD_CARD_VELOCITY_LIMIT: '1000000',
};
const SUBMITTERS = 8;
/** Answers to collect before the crash; the submitters keep going, so checkouts are in flight when it comes. */
const ANSWERS_BEFORE_CRASH = 60;

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'causeway-orders-restart-'));
const systems: RunningSystem[] = [];

afterAll(async () => {
  for (const system of systems) await system.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

/** Gone, or a zombie nobody has reaped yet: either way it runs no more code. */
function isGone(pid: number): boolean {
  try {
    return fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.startsWith('Z') ?? true;
  } catch {
    return true;
  }
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Answer = any;

describe('orders across a crash of every process', () => {
  it('keeps every answered order readable and executes every approved one exactly once', async () => {
    const first = await startSystem(ENV, { dataDir });
    systems.push(first);

    // A burst of concurrent checkouts, one in four rejected at event A.
    const approved = new Map<string, Answer>();
    const rejected = new Map<string, Answer>();
    let attempted = 0;
    let crashed = false;
    const submitter = async () => {
      while (!crashed) {
        const reject = ++attempted % 4 === 0;
        try {
          const { status, body } = await postCheckout(first.baseUrl, coursePageOrder(reject ? { items: [] } : {}));
          if (status !== 200) continue;
          (body.status === 'Order Approved' ? approved : rejected).set(body.orderId, body);
        } catch {
          // The connection died with the orchestrator: no answer, so nothing was promised.
        }
      }
    };
    const submitting = Promise.all(Array.from({ length: SUBMITTERS }, submitter));
    await waitFor('answers before the crash', async () => (approved.size + rejected.size >= ANSWERS_BEFORE_CRASH ? true : undefined), 60_000);

    // Everything at once: the launcher first, so it restarts nothing.
    const pids = [first.launcherPid, ...Object.values(first.pids())];
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    crashed = true;
    await submitting;
    await first.stop();
    await waitFor('every killed process to be gone', async () => (pids.every(isGone) ? true : undefined));
    expect(approved.size).toBeGreaterThan(0);
    expect(rejected.size).toBeGreaterThan(0);

    const second = await startSystem(ENV, { dataDir });
    systems.push(second);

    // Every replica executes every approved order, and they agree.
    const executors = Object.values(second.executors).map((address) => createClient(OrderExecutorDefinition, createChannel(address)));
    const ledgers = await waitFor(
      'every replica to execute every approved order, identically',
      async () => {
        const all = await Promise.all(executors.map(async (client) => (await client.executions({ orderIds: [] })).executions));
        const complete = all.every((list) => [...approved.keys()].every((id) => list.some((e) => e.orderId === id)));
        const same = all.every((list) => JSON.stringify(sorted(list)) === JSON.stringify(sorted(all[0])));
        return complete && same ? all : undefined;
      },
      60_000,
    );
    for (const list of ledgers) {
      for (const id of approved.keys()) expect(list.filter((e) => e.orderId === id)).toHaveLength(1);
      // Nothing beyond what was submitted (orders in flight at the crash may or may not be there).
      expect(list.length).toBeLessThanOrEqual(attempted);
    }
    // No replica ran an order twice, across both lives of the system (the leader announces each at info).
    const executed = new Map<string, number>();
    for (const r of [...first.records(), ...second.records()]) {
      if (!/^Order \S+ executed/.test(r.message)) continue;
      const key = `${r.executor} ${r.order_id}`;
      executed.set(key, (executed.get(key) ?? 0) + 1);
    }
    expect([...executed].filter(([, n]) => n > 1)).toEqual([]);

    // The orchestrator's reconciler records the executions in orders.db without anyone asking.
    const db = new Database(path.join(dataDir, 'orchestrator', 'orders.db'), { readonly: true });
    try {
      await waitFor(
        'orders.db to hold no queued order',
        async () => ((db.prepare("SELECT count(*) AS n FROM orders WHERE state = 'queued'").get() as { n: number }).n === 0 ? true : undefined),
        30_000,
      );
      const stored = (db.prepare('SELECT count(*) AS n FROM orders').get() as { n: number }).n;
      expect(stored).toBeGreaterThanOrEqual(approved.size + rejected.size);
    } finally {
      db.close();
    }

    // Each order reads back with the body it was answered with, and its state now.
    const byId = new Map(ledgers[0].map((e) => [e.orderId, e]));
    for (const [id, answer] of approved) {
      const { executor, term, index } = byId.get(id)!;
      // Decided by two-phase commit: the decision (its delivery may still be under way) and the payment's state.
      const { commit, payment, ...rest } = await getJson(`${second.baseUrl}/orders/${id}`);
      expect(rest).toEqual({ ...answer, state: 'executed', execution: { executor, term, index } });
      expect(commit).toMatchObject({ decision: 'commit', coordinator: executor });
      expect(payment).toEqual({ status: expect.stringMatching(/^(captured|pending)$/), amountCents: expect.any(Number) });
    }
    for (const [id, answer] of rejected) {
      expect(answer).toMatchObject({ state: 'rejected', rejection: { event: 'A', code: 'ITEMS_EMPTY' } });
      expect(await getJson(`${second.baseUrl}/orders/${id}`)).toEqual(answer);
    }

    // Ids that name nothing still get the API's error shape, over real HTTP too.
    for (const [id, status] of [
      ['ord_nope', 404],
      [`ord_${'x'.repeat(2000)}`, 404],
      ['%ff', 400],
      [encodeURIComponent('ord_\u0000"<script>'), 404],
    ] as const) {
      const res = await fetch(`${second.baseUrl}/orders/${id}`);
      expect([res.status, await res.json()]).toEqual([status, { error: { code: expect.any(String), message: expect.any(String) } }]);
    }
  }, 180_000);
});

function sorted(list: Execution[]): Execution[] {
  return [...list].sort((a, b) => a.index - b.index);
}
