/**
 * A Jepsen-style history of orders: a load that submits orders continuously and
 * records what the shop answered, and a checker that waits for the cluster to
 * drain and converge and then compares the answers with what every replica
 * executed. Used by the chaos soak and the partition tests.
 */
import { createChannel, createClient } from 'nice-grpc';
import { OrderExecutorDefinition, type Execution } from '../../gen/causeway/v1/order_executor';
import { OrderQueueDefinition } from '../../gen/causeway/v1/order_queue';
import { coursePageOrder, postCheckout, waitFor, type RunningSystem } from '../harness/system';

/** What the shop answered. */
export interface History {
  attempted: number;
  /** Every order id the shop returned, approved or not. */
  attemptedIds: Set<string>;
  /** Answered 200 "Order Approved": must be executed exactly once. */
  acknowledged: Set<string>;
  rejected: number;
  /** Requests that failed (503, timeout): the order may or may not exist; it may be executed or not. */
  indeterminate: number;
}

export interface HistoryCheck {
  executed: number;
  lost: number;
  duplicated: number;
  unexpected: number;
  /** Replicas whose ledger differs from the others'. */
  divergent: number;
  /** The applied index every replica reached (they are equal once converged). */
  appliedIndex: number;
}

/** What must be 0 in every checked history. */
export type HistoryFaults = Pick<HistoryCheck, 'lost' | 'duplicated' | 'unexpected' | 'divergent'>;

export const NO_HISTORY_FAULTS: HistoryFaults = { lost: 0, duplicated: 0, unexpected: 0, divergent: 0 };

/** The counts that must be 0, for comparing with NO_HISTORY_FAULTS (a failure shows them all at once). */
export function historyFaults({ lost, duplicated, unexpected, divergent }: HistoryCheck): HistoryFaults {
  return { lost, duplicated, unexpected, divergent };
}

export function emptyHistory(): History {
  return { attempted: 0, attemptedIds: new Set(), acknowledged: new Set(), rejected: 0, indeterminate: 0 };
}

/**
 * Orders submitted continuously by `workers` concurrent clients until `stop()`. Several loads against one
 * system share one History (pass it in), since the checker compares it with everything the cluster ran.
 */
export class OrderLoad {
  private running = true;
  private readonly done: Promise<void[]>;

  private constructor(
    private readonly system: RunningSystem,
    workers: number,
    private readonly tag: string,
    private readonly history: History,
  ) {
    this.done = Promise.all(Array.from({ length: workers }, (_, w) => this.worker(w)));
  }

  static start(system: RunningSystem, workers = 4, tag = 'load', history = emptyHistory()): OrderLoad {
    return new OrderLoad(system, workers, tag, history);
  }

  async stop(): Promise<History> {
    this.running = false;
    await this.done;
    return this.history;
  }

  private async worker(worker: number): Promise<void> {
    const h = this.history;
    while (this.running) {
      const n = ++h.attempted;
      // A unique contact per order: the fraud velocity rules must not shape the history.
      const order = coursePageOrder({ user: { name: `${this.tag} ${worker}`, contact: `${this.tag}-${worker}-${n}@example.com` } });
      try {
        const { status, body } = await postCheckout(this.system.baseUrl, order);
        if (body?.orderId) h.attemptedIds.add(body.orderId);
        if (status === 200 && body.status === 'Order Approved') h.acknowledged.add(body.orderId);
        else if (status === 200) h.rejected++;
        else h.indeterminate++;
      } catch {
        h.indeterminate++;
      }
    }
  }
}

/**
 * Waits until the queue is empty and every replica has executed every acknowledged order, holds the same
 * number of executions and has applied the same index; then counts what went wrong.
 */
export async function checkHistory(system: RunningSystem, history: History, timeoutMs = 120_000): Promise<HistoryCheck> {
  const channels = [...Object.values(system.executors), system.addresses['order-queue']].map((address) => createChannel(address));
  const clients = Object.fromEntries(Object.keys(system.executors).map((id, i) => [id, createClient(OrderExecutorDefinition, channels[i])]));
  const queue = createClient(OrderQueueDefinition, channels.at(-1)!);
  const { ledgers, appliedIndex } = await waitFor(
    'the cluster to drain the queue and converge',
    async () => {
      const stats = await queue.stats({});
      if (stats.depth !== 0) return undefined;
      const all: Record<string, Execution[]> = {};
      const applied = new Set<number>();
      for (const [id, client] of Object.entries(clients)) {
        all[id] = (await client.executions({ orderIds: [] })).executions;
        applied.add((await client.status({})).appliedIndex);
      }
      const counts = new Set(Object.values(all).map((l) => l.length));
      const complete = Object.values(all).every((l) => {
        const ids = new Set(l.map((e) => e.orderId));
        return [...history.acknowledged].every((id) => ids.has(id));
      });
      return complete && counts.size === 1 && applied.size === 1 ? { ledgers: all, appliedIndex: [...applied][0] } : undefined;
    },
    timeoutMs,
  ).finally(() => channels.forEach((c) => c.close()));

  const key = (e: Execution) => `${e.orderId}@${e.index}/${e.term}/${e.executor}`;
  const reference = Object.values(ledgers)[0];
  const executedIds = reference.map((e) => e.orderId);
  const executed = new Set(executedIds);
  const divergent = Object.values(ledgers).filter((l) => l.map(key).sort().join() !== reference.map(key).sort().join()).length;
  // The leader logs "Order … executed" (when info is on): no executor may log one order twice.
  const perProcess = new Map<string, number>();
  for (const r of system.records()) {
    if (!/^Order \S+ executed/.test(r.message)) continue;
    const k = `${r.executor} ${r.order_id}`;
    perProcess.set(k, (perProcess.get(k) ?? 0) + 1);
  }
  return {
    executed: executed.size,
    lost: [...history.acknowledged].filter((id) => !executed.has(id)).length,
    duplicated: executedIds.length - executed.size + [...perProcess.values()].filter((n) => n > 1).length,
    // An order whose HTTP answer was lost (a 503 after the queue had made it durable) may run without
    // the client ever learning its id: up to `indeterminate` of those are expected, any more are not.
    unexpected: Math.max(0, [...executed].filter((id) => !history.attemptedIds.has(id)).length - history.indeterminate),
    divergent,
    appliedIndex,
  };
}
