import type { AckRequest, DequeueRequest, Lease, OrderQueueClient, QueuedOrder } from '../gen/causeway/v1/order_queue';
import { createLogger } from '../platform/logger';
import type { RaftStatus } from '../raft/node';
import { decodeCommand, ExecutionLedger } from './execution-ledger';
import { QueueConsumer, RAMP_START, RAMP_STEP } from './queue-consumer';
import type { BeginResult } from './two-phase/coordinator';
import type { LeaseCommitter } from './two-phase/driver';
import { DeposedError, type ExecuteOrder } from './execute-order';
import type { OrderOutcome } from './execution-ledger';
import type { RaftDriver } from '../platform/raft-host/driver';

const lease = (orderId: string, delivery = 1): Lease => ({
  order: {
    orderId,
    shippingMethod: 'Standard',
    items: [{ name: 'Dune', quantity: 1 }],
    customerName: 'John Doe',
    maskedCard: '**** 4444',
    traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    enqueuedAtMs: 0,
    paymentToken: '',
    amountCents: 0,
  },
  expiresAtMs: 0,
  delivery,
});

/** The queue, answered by hand: each Dequeue takes the next batch given to deliver(), or waits for one. */
class FakeQueue {
  readonly dequeues: DequeueRequest[] = [];
  /** When each Dequeue was asked (performance.now()). */
  readonly dequeuedAt: number[] = [];
  readonly acks: AckRequest[] = [];
  private batches: Lease[][] = [];
  private wake: (() => void) | undefined;
  failNext = 0;

  deliver(...leases: Lease[]): void {
    this.batches.push(leases);
    this.wake?.();
  }

  readonly client = {
    dequeue: async (request: DequeueRequest) => {
      this.dequeues.push(request);
      this.dequeuedAt.push(performance.now());
      if (this.failNext > 0) {
        this.failNext--;
        throw new Error('connection refused');
      }
      if (this.batches.length === 0) await new Promise<void>((r) => ((this.wake = r), setTimeout(r, 5)));
      return { leases: this.batches.shift() ?? [] };
    },
    ack: async (request: AckRequest) => {
      this.acks.push(request);
      return { acked: request.orderIds.length };
    },
  } as unknown as OrderQueueClient;

  acked(): string[] {
    return this.acks.flatMap((a) => a.orderIds);
  }
}

/** The Raft driver as the consumer sees it: its role and term, set by the test, and what it proposed. */
class FakeRaft {
  role: RaftStatus['role'] = 'leader';
  term = 3;
  readonly proposed: string[] = [];
  waits = 0;

  status() {
    return { role: this.role, term: this.term } as RaftStatus;
  }
  isServingLeader() {
    return this.role === 'leader';
  }
  async waitUntilServing(timeoutMs: number) {
    this.waits++;
    await new Promise((r) => setTimeout(r, Math.min(timeoutMs, 2)));
  }
  propose(commands: readonly string[]) {
    this.proposed.push(...commands);
    return commands.map((_, i) => i + 1);
  }
}

const until = async (what: string, condition: () => boolean, timeoutMs = 2000) => {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 1));
  }
};

describe('QueueConsumer', () => {
  let queue: FakeQueue;
  let raft: FakeRaft;
  let ledger: ExecutionLedger;
  let consumer: QueueConsumer;
  /** The execution step, answered by the test: executed unless `outcomes` says otherwise for an order. */
  let executed: { orderId: string; fence: number }[];
  let outcomes: Map<string, OrderOutcome | Error>;
  const execute: ExecuteOrder = async (order, fence) => {
    executed.push({ orderId: order.orderId, fence });
    const outcome = outcomes.get(order.orderId) ?? { state: 'executed' };
    if (outcome instanceof Error) throw outcome;
    return outcome;
  };
  const proposedIds = () => raft.proposed.map((c) => decodeCommand(c).orderId);
  /** The state machine executes a proposed order at the next index, and the consumer hears of it. */
  const commit = (orderId: string) => {
    const index = ledger.size + 1;
    const data = raft.proposed.find((c) => decodeCommand(c).orderId === orderId)!;
    ledger.apply({ index, term: raft.term, type: 'command', data });
    consumer.onApplied(orderId);
  };

  beforeEach(() => {
    queue = new FakeQueue();
    raft = new FakeRaft();
    ledger = new ExecutionLedger();
    executed = [];
    outcomes = new Map();
    consumer = new QueueConsumer(
      queue.client,
      raft as unknown as RaftDriver,
      ledger,
      execute,
      { id: 'executor-2', batch: 8, leaseMs: 2000, backoffMs: 5, waitMs: 500, lingerMs: 0 },
      createLogger('test', 'error'),
    );
  });
  afterEach(async () => {
    await consumer.stop();
  });

  it('leases as leader fenced by its term, proposes each order, and acks only once it is applied', async () => {
    consumer.start();
    queue.deliver(lease('o1'), lease('o2'));
    await until('two proposals', () => raft.proposed.length === 2);
    expect(queue.dequeues[0]).toEqual({ consumerId: 'executor-2', term: 3, max: 8, leaseMs: 2000, waitMs: 500 });
    expect(raft.proposed.map(decodeCommand)).toEqual([
      {
        orderId: 'o1',
        leader: 'executor-2',
        shippingMethod: 'Standard',
        customerName: 'John Doe',
        maskedCard: '**** 4444',
        items: [{ name: 'Dune', quantity: 1 }],
        traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
        outcome: { state: 'executed' },
      },
      expect.objectContaining({ orderId: 'o2' }),
    ]);
    expect(queue.acks).toEqual([]);

    commit('o1');
    await until('an ack', () => queue.acks.length === 1);
    expect(queue.acks[0]).toEqual({ consumerId: 'executor-2', term: 3, orderIds: ['o1'] });
    commit('o2');
    await until('the second ack', () => queue.acked().length === 2);
    expect(queue.acked()).toEqual(['o1', 'o2']);
  });

  it('acks a redelivered order the ledger already executed, without proposing it again', async () => {
    consumer.start();
    queue.deliver(lease('o1'));
    await until('a proposal', () => raft.proposed.length === 1);
    commit('o1');
    await until('an ack', () => queue.acked().length === 1);
    // The ack was lost (say, the leader crashed): the queue delivers the order again.
    queue.deliver(lease('o1', 2));
    await until('the redelivery acked', () => queue.acked().length === 2);
    expect(proposedIds()).toEqual(['o1']);
  });

  it('proposes a redelivered order again only in a new term, not while its first proposal is in flight', async () => {
    consumer.start();
    queue.deliver(lease('o1'));
    await until('a proposal', () => raft.proposed.length === 1);
    queue.deliver(lease('o1', 2), lease('o2'));
    await until('o2 proposed', () => proposedIds().includes('o2'));
    expect(proposedIds()).toEqual(['o1', 'o2']);
    // A new term (this node lost and won again): what it proposed before may be gone, so propose it again.
    raft.term = 4;
    await until('a lease request in term 4', () => queue.dequeues.at(-1)?.term === 4);
    queue.deliver(lease('o1', 3));
    await until('o1 proposed again', () => proposedIds().length === 3);
    expect(proposedIds()).toEqual(['o1', 'o2', 'o1']);
    expect(queue.dequeues.at(-1)?.term).toBe(4);
  });

  it('does not lease while following, and a follower never acks', async () => {
    raft.role = 'follower';
    consumer.start();
    queue.deliver(lease('o1'));
    consumer.onApplied('o1');
    await until('the consumer to wait for leadership twice', () => raft.waits >= 2);
    expect(queue.dequeues).toEqual([]);
    // Become leader: now it leases, and finds the order delivered while it was following.
    raft.role = 'leader';
    await until('a proposal', () => raft.proposed.length === 1);
    expect(proposedIds()).toEqual(['o1']);
    expect(queue.acks).toEqual([]);
  });

  it('backs off and tries again when the queue cannot be reached', async () => {
    queue.failNext = 2;
    consumer.start();
    queue.deliver(lease('o1'));
    await until('a proposal', () => raft.proposed.length === 1);
    expect(queue.failNext).toBe(0);
    expect(queue.dequeues.length).toBeGreaterThanOrEqual(3);
  });

  it('executes each order fenced by its term before proposing it, and proposes the outcome with it', async () => {
    outcomes.set('o2', { state: 'failed', failure: { code: 'OUT_OF_STOCK', message: 'not enough copies of "Dune" in stock' } });
    consumer.start();
    queue.deliver(lease('o1'), lease('o2'));
    await until('two proposals', () => raft.proposed.length === 2);
    expect(executed).toEqual([
      { orderId: 'o1', fence: 3 },
      { orderId: 'o2', fence: 3 },
    ]);
    expect(raft.proposed.map((c) => decodeCommand(c).outcome)).toEqual([
      { state: 'executed' },
      { state: 'failed', failure: { code: 'OUT_OF_STOCK', message: 'not enough copies of "Dune" in stock' } },
    ]);
    // A failed order is decided all the same: applied, then acked.
    commit('o2');
    await until('an ack', () => queue.acked().length === 1);
    expect(queue.acked()).toEqual(['o2']);
  });

  it('proposes nothing for an order it could not execute, and executes it again when it is delivered again', async () => {
    outcomes.set('o1', new Error('books database unavailable'));
    outcomes.set('o2', new DeposedError(3));
    consumer.start();
    queue.deliver(lease('o1'), lease('o2'), lease('o3'));
    await until('o3 proposed', () => raft.proposed.length === 1);
    expect(proposedIds()).toEqual(['o3']);
    // The lease expired and the queue delivers o1 again; the database answers now.
    outcomes.delete('o1');
    queue.deliver(lease('o1', 2));
    await until('o1 proposed', () => raft.proposed.length === 2);
    expect(proposedIds()).toEqual(['o3', 'o1']);
    expect(executed.filter((e) => e.orderId === 'o1')).toHaveLength(2);
  });

  it('does not propose what it executed once its term has changed meanwhile', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let entered = false;
    const slow: ExecuteOrder = async (order, fence) => {
      entered = true;
      await gate;
      return execute(order, fence);
    };
    await consumer.stop();
    consumer = new QueueConsumer(queue.client, raft as unknown as RaftDriver, ledger, slow, { id: 'executor-2', batch: 8, leaseMs: 2000, backoffMs: 5, waitMs: 500, lingerMs: 0 }, createLogger('test', 'error'));
    consumer.start();
    queue.deliver(lease('o1'));
    await until('o1 being executed', () => entered);
    raft.term = 4;
    release();
    // In term 4 the consumer leases again; o1, redelivered, is executed and proposed then.
    await until('a lease request in term 4', () => queue.dequeues.some((d) => d.term === 4));
    expect(raft.proposed).toEqual([]);
    queue.deliver(lease('o1', 2));
    await until('o1 proposed in term 4', () => raft.proposed.length === 1);
    expect(executed.map((e) => e.fence)).toEqual([3, 4]);
  });
});

describe('QueueConsumer under two-phase commit', () => {
  /** The coordinator as the consumer sees it: what it was handed, and room for everything. */
  class FakeCommitter implements LeaseCommitter {
    readonly begun: string[] = [];
    begin(order: QueuedOrder): BeginResult {
      this.begun.push(order.orderId);
      return 'started';
    }
    inFlight() {
      return 0;
    }
    async roomChanged() {}
  }

  let queue: FakeQueue;
  let committer: FakeCommitter;
  let raft: FakeRaft;
  let consumer: QueueConsumer;
  const start = (lingerMs: number, batch = 8) => {
    const noExecution: ExecuteOrder = async () => {
      throw new Error('under two-phase commit the coordinator executes orders, not the consumer');
    };
    consumer = new QueueConsumer(
      queue.client,
      raft as unknown as RaftDriver,
      new ExecutionLedger(),
      noExecution,
      { id: 'executor-2', batch, leaseMs: 2000, backoffMs: 5, waitMs: 500, lingerMs },
      createLogger('test', 'error'),
      committer,
    );
    consumer.start();
  };

  beforeEach(() => {
    queue = new FakeQueue();
    committer = new FakeCommitter();
    raft = new FakeRaft();
  });
  afterEach(async () => {
    await consumer.stop();
  });

  it('hands a lease that was not full over at once, then waits lingerMs before leasing again', async () => {
    queue.deliver(lease('o1'), lease('o2'));
    start(150);
    await until('the lease handed over', () => committer.begun.length === 2);
    expect(committer.begun).toEqual(['o1', 'o2']);
    queue.deliver(lease('o3'));
    await until('the next lease', () => committer.begun.length === 3, 5000);
    expect(queue.dequeuedAt[1] - queue.dequeuedAt[0]).toBeGreaterThanOrEqual(145);
  });

  it('leases again at once after a full lease: more orders are waiting', async () => {
    const full = Array.from({ length: 8 }, (_, i) => lease(`full-${i}`));
    queue.deliver(...full);
    queue.deliver(lease('next'));
    start(5000);
    await until('both leases handed over', () => committer.begun.length === 9);
    expect(queue.dequeues[0].max).toBe(8);
    // Far below the linger: the second Dequeue did not wait for it.
    expect(queue.dequeuedAt[1] - queue.dequeuedAt[0]).toBeLessThan(2500);
  });

  it('starts each term with leases of RAMP_START orders, one more for every RAMP_STEP applied in it, up to the batch', async () => {
    const batch = RAMP_START + 10;
    const lastMax = () => queue.dequeues.at(-1)!.max;
    start(0, batch);
    await until('the first Dequeue', () => queue.dequeues.length > 0);
    expect(lastMax()).toBe(RAMP_START);
    // (The fake queue hands over whatever it is given: enough orders for every step below.)
    const orders = 13 * RAMP_STEP;
    queue.deliver(...Array.from({ length: orders }, (_, i) => lease(`o-${i}`)));
    await until('the lease handed over', () => committer.begun.length === orders);
    for (const orderId of committer.begun.slice(0, 3 * RAMP_STEP + 1)) consumer.onApplied(orderId);
    await until('a lease of three more', () => lastMax() === RAMP_START + 3);
    for (const orderId of committer.begun.slice(3 * RAMP_STEP + 1, 10 * RAMP_STEP)) consumer.onApplied(orderId);
    await until('a lease of ten more: the whole batch', () => lastMax() === batch);
    for (const orderId of committer.begun.slice(10 * RAMP_STEP, 12 * RAMP_STEP)) consumer.onApplied(orderId);
    const full = queue.dequeues.length;
    await until('two more Dequeues', () => queue.dequeues.length >= full + 2);
    expect(lastMax()).toBe(batch);
    // A new term (this node elected again) starts small again; a follower's applied orders do not count.
    raft.term = 4;
    await until('the new term\'s first lease', () => queue.dequeues.at(-1)!.term === 4);
    expect(lastMax()).toBe(RAMP_START);
    raft.role = 'follower';
    for (const orderId of committer.begun.slice(12 * RAMP_STEP)) consumer.onApplied(orderId);
    raft.role = 'leader';
    const seen = queue.dequeues.length;
    await until('two more Dequeues', () => queue.dequeues.length >= seen + 2);
    expect(lastMax()).toBe(RAMP_START);
  });

  it('never leases more than the batch, even below RAMP_START', async () => {
    start(0, 8);
    await until('a Dequeue', () => queue.dequeues.length > 0);
    expect(queue.dequeues[0].max).toBe(8);
  });
});
