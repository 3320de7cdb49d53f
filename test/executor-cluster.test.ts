/**
 * The executor cluster for real: the queue and three executors as separate
 * processes (run by the launcher, as `npm start` does). Orders stream in while
 * the leader is SIGKILLed again and again; at the end every accepted order has
 * been executed exactly once, identically on every replica, and none is lost.
 */
import { createChannel, createClient } from 'nice-grpc';
import { OrderExecutorDefinition, type Execution } from '../src/gen/causeway/v1/order_executor';
import { OrderQueueDefinition } from '../src/gen/causeway/v1/order_queue';
import { settledLedgers } from './support/ledgers';
import { clusterExecutors, coursePageOrder, postCheckout, startSystem, waitFor, type RunningSystem, getJson } from './support/system';

const ORDERS = 300;
const KILLS = 5;

let system: RunningSystem;

beforeAll(async () => {
  system = await startSystem({
    FRAUD_CONTACT_VELOCITY_LIMIT: '1000000',
    FRAUD_CARD_VELOCITY_LIMIT: '1000000',
    CAUSEWAY_RESTART_DELAY_MS: '300',
    ORDER_QUEUE_LEASE_MS: '2000',
  });
});
afterAll(async () => {
  await system?.stop();
});

const executorClients = () =>
  Object.fromEntries(Object.entries(system.executors).map(([id, address]) => [id, createClient(OrderExecutorDefinition, createChannel(address))]));

const scrape = async (name: string) => (await fetch(`http://127.0.0.1:${system.metricsPorts[name]}/metrics`)).text();
const sampleOf = (text: string, metric: string): number | undefined => {
  const match = new RegExp(`^${metric}(?:\\{[^}]*\\})? ([0-9.e+-]+)$`, 'm').exec(text);
  return match ? Number(match[1]) : undefined;
};
const sample = (text: string, metric: string): number => {
  const value = sampleOf(text, metric);
  if (value === undefined) throw new Error(`${metric} missing from:\n${text}`);
  return value;
};

async function currentLeader(): Promise<{ id: string; term: number } | undefined> {
  const leaders = (await clusterExecutors(system)).filter((e) => e.role === 'leader');
  if (leaders.length !== 1) return undefined;
  return { id: leaders[0].id, term: leaders[0].term };
}

describe('executor cluster', () => {
  it('elects exactly one leader and reports the cluster on GET /cluster', async () => {
    // Right after start-up a late executor may still be campaigning (pre-vote) until the leader's first
    // heartbeat reaches it: wait for the cluster to settle, then check everything agrees.
    const cluster = await waitFor('one leader, every other executor its follower', async () => {
      const c = await getJson(`${system.baseUrl}/cluster`);
      const roles = c.executors.map((e: { role: string }) => e.role).sort();
      const leader = c.executors.find((e: { role: string }) => e.role === 'leader');
      // A follower that adopted the new term from a vote request knows its leader only at the first heartbeat.
      const agreed = leader && c.executors.every((e: { term: number; leaderId: string }) => e.term === leader.term && e.leaderId === leader.id);
      return JSON.stringify(roles) === JSON.stringify(['follower', 'follower', 'leader']) && agreed ? c : undefined;
    });
    const leader = cluster.executors.find((e: { role: string }) => e.role === 'leader');
    expect(cluster.executors.map((e: { id: string }) => e.id)).toEqual(['executor-1', 'executor-2', 'executor-3']);
    for (const e of cluster.executors) {
      expect(e.term).toBe(leader.term);
      expect(e.leaderId).toBe(leader.id);
      expect(e).toEqual(expect.objectContaining({ address: expect.any(String), commitIndex: expect.any(Number), appliedIndex: expect.any(Number) }));
    }
    expect(cluster.queue.depth).toBe(0);
  });

  it('exports Prometheus metrics from every executor and from the queue', async () => {
    const leader = await waitFor('a leader', currentLeader);
    // Idle, before any order: replication lag falls to 0 everywhere once followers hold the leader's whole log (the wait
    // is that check), and the leader reports the queue's depth once it has polled it.
    const scrapes = await waitFor('every executor to report no replication lag, and the leader the queue depth', async () => {
      const texts = Object.fromEntries(await Promise.all(Object.keys(system.executors).map(async (id) => [id, await scrape(id)] as const)));
      const settled = Object.values(texts).every((t) => sampleOf(t, 'executor_replication_lag') === 0);
      return settled && sampleOf(texts[leader.id], 'executor_queue_depth_observed') !== undefined ? texts : undefined;
    });
    let leaders = 0;
    for (const [id, text] of Object.entries(scrapes)) {
      const isLeader = sample(text, 'executor_is_leader');
      leaders += isLeader;
      expect(isLeader).toBe(id === leader.id ? 1 : 0);
      expect(sample(text, 'executor_raft_term')).toBe(leader.term);
      expect(sample(text, 'executor_leader_changes_total')).toBeGreaterThanOrEqual(1);
      expect(sample(text, 'executor_commit_index')).toBeGreaterThanOrEqual(1);
      expect(sample(text, 'orders_executed_total')).toBe(0);
      expect(text).toMatch(/executor="executor-\d"/);
    }
    expect(leaders).toBe(1);
    expect(sample(scrapes[leader.id], 'executor_queue_depth_observed')).toBe(0);
    expect(await scrape('order-queue')).toMatch(/^order_queue_depth\{[^}]*state="ready"[^}]*\} 0$/m);
  });

  it('executes an approved order and shows it on GET /orders/:id', async () => {
    const { body } = await postCheckout(system.baseUrl, coursePageOrder());
    expect(body.state).toBe('queued');
    const order = await waitFor('the order to be executed', async () => {
      const res = await getJson(`${system.baseUrl}/orders/${body.orderId}`);
      return res.state === 'executed' ? res : undefined;
    });
    expect(order.execution).toEqual({ executor: expect.stringMatching(/^executor-\d$/), term: expect.any(Number), index: expect.any(Number) });
    // Every replica executes it, and counts it, once (the cluster's first order).
    await waitFor('every replica to count the order it executed', async () => {
      const counts = await Promise.all(Object.keys(system.executors).map(async (id) => sampleOf(await scrape(id), 'orders_executed_total')));
      return counts.every((n) => n === 1) ? true : undefined;
    });
    const rejected = await postCheckout(system.baseUrl, coursePageOrder({ items: [] }));
    expect(rejected.body.state).toBe('rejected');
  });

  it('streams role and leader changes as Server-Sent Events', async () => {
    const before = await waitFor('a leader', currentLeader);
    const abort = new AbortController();
    const webOrigin = `http://127.0.0.1:${new URL(system.webUrl).port}`;
    const res = await fetch(`${system.baseUrl}/cluster/events`, { signal: abort.signal, headers: { origin: webOrigin } });
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    expect(res.headers.get('access-control-allow-origin')).toBe(webOrigin);
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    const events = () =>
      text
        .split('\n\n')
        .filter((block) => block.includes('data: '))
        .map((block) => ({ type: /^event: (\S+)/m.exec(block)?.[1], data: JSON.parse(/^data: (.*)$/m.exec(block)![1]) }));
    const readUntil = async (what: string, done: () => boolean) => {
      const deadline = Date.now() + 15000;
      while (!done()) {
        if (Date.now() > deadline) throw new Error(`no ${what} in:\n${text}`);
        const { value } = await reader.read();
        text += decoder.decode(value, { stream: true });
      }
    };
    await readUntil('snapshot', () => events().some((e) => e.type === 'snapshot'));
    const snapshot = events().find((e) => e.type === 'snapshot')!.data.snapshot;
    expect(snapshot.executors.filter((e: { role: string }) => e.role === 'leader').map((e: { id: string }) => e.id)).toEqual([before.id]);

    process.kill(system.pids()[before.id], 'SIGKILL');
    await readUntil('new leader event', () =>
      events().some((e) => e.type === 'leader' && e.data.leaderId !== null && e.data.leaderId !== before.id && e.data.term > before.term),
    );
    const next = events().find((e) => e.type === 'leader' && e.data.leaderId !== before.id && e.data.term > before.term)!.data;
    // The new leader's own role change came with it.
    expect(events().some((e) => e.type === 'role' && e.data.executor === next.leaderId && e.data.role === 'leader')).toBe(true);
    // The survivors took the reset connection for the crash it was, and campaigned without waiting out the timeout.
    // (The line crosses the launcher's pipes, so it may arrive after the event: wait for it.)
    const lostLine = (r: { service: string; message: string }) => r.service === 'order-executor' && r.message.startsWith(`lost the connection to leader ${before.id} `);
    await waitFor('a survivor to log the lost leader', async () => (system.records().some(lostLine) ? true : undefined), 5000);
    abort.abort();
  });

  it(`loses and duplicates nothing across ${KILLS} leader SIGKILLs during ${ORDERS} orders`, async () => {
    const accepted: string[] = [];
    let submitted = 0;
    const submitter = async () => {
      while (submitted < ORDERS) {
        submitted++;
        const { status, body } = await postCheckout(system.baseUrl, coursePageOrder());
        if (status === 200 && body.status === 'Order Approved') accepted.push(body.orderId);
      }
    };
    const submitting = Promise.all([submitter(), submitter(), submitter(), submitter()]);

    const terms: number[] = [];
    for (let kill = 0; kill < KILLS; kill++) {
      const leader = await waitFor('a leader to kill', currentLeader, 20000);
      terms.push(leader.term);
      await new Promise((r) => setTimeout(r, 300));
      process.kill(system.pids()[leader.id], 'SIGKILL');
      // A new leader, in a higher term, takes over.
      await waitFor('a new leader', async () => {
        const next = await currentLeader();
        return next && next.term > leader.term ? next : undefined;
      }, 20000);
    }
    await submitting;
    expect(accepted.length).toBe(ORDERS);
    expect(new Set(terms).size).toBe(KILLS);

    // Wait for the cluster to drain the queue and every replica to catch up.
    const clients = executorClients();
    const ledgers = await settledLedgers(clients, accepted, 60000);

    const byOrder = (list: Execution[]) => Object.fromEntries(list.map((e) => [e.orderId, e]));
    const reference = byOrder(ledgers['executor-1']);
    // Nothing lost, nothing unexpected: exactly the accepted orders plus the earlier test's one.
    const executedIds = Object.keys(reference);
    for (const id of accepted) expect(reference[id]).toBeDefined();
    expect(executedIds.length).toBe(accepted.length + 1);
    // Identical on every replica: same order at the same log index and term, proposed by the same leader.
    for (const list of Object.values(ledgers)) {
      expect(list.length).toBe(executedIds.length);
      expect(byOrder(list)).toEqual(reference);
    }
    // Never executed twice: each replica's state machine counts every execution it performs, a repeated one included
    // (the count is replicated state, so restarts neither lose nor repeat it), and the count is one per order.
    for (const [id, client] of Object.entries(clients)) {
      expect(`${id}: ${(await client.status({})).executedCount}`).toBe(`${id}: ${executedIds.length}`);
    }
    // The queue is drained: every lease was acked after commit.
    const queue = createClient(OrderQueueDefinition, createChannel(system.addresses['order-queue']));
    const stats = await waitFor('the queue to drain', async () => {
      const s = await queue.stats({});
      return s.depth === 0 ? s : undefined;
    });
    expect(stats.enqueuedTotal).toBe(accepted.length + 1);
  }, 180_000);
});
