// Test code: the real state machine on top of the core (the core itself never imports the executor).
import { encodeCommand, ExecutionLedger } from '../../order-executor/execution-ledger';
import { RaftNode } from '../node';
import { seededRandom } from '../random';
import type { Entry, HardState, Message, NodeId, Ready, Snapshot } from '../types';

/**
 * A simulated cluster for testing the Raft core, after etcd's rafttest: a
 * network that drops, delays, duplicates and reorders messages and partitions
 * nodes, and nodes that crash (losing everything not persisted) and restart.
 * Everything is driven by one seeded PRNG, so any failing schedule replays
 * exactly from its seed.
 */

export interface Faults {
  drop: number;
  duplicate: number;
  maxDelay: number;
  partitionChance: number;
  crashChance: number;
  /** Chance that a crash hits after persisting a Ready but before sending it. */
  crashMidReady: number;
  /** Chance, per node and step, that its tick comes late and stands for 2–7 periods (RaftNode.tick's `elapsed`). */
  lateTick: number;
}

export const CALM: Faults = { drop: 0, duplicate: 0, maxDelay: 1, partitionChance: 0, crashChance: 0, crashMidReady: 0, lateTick: 0 };

export interface SimOptions {
  /** Compact the log once this many entries are applied past the last snapshot (0: never). */
  snapshotEvery: number;
  /** CheckQuorum (default true). Without it a deposed leader cut off by a partition goes on believing it leads. */
  checkQuorum?: boolean;
}

interface InFlight {
  deliverAt: number;
  message: Message;
}

/** What a node has on "disk": survives crashes. `entries` follow the snapshot, as in real storage. */
class Disk {
  hardState: HardState = { term: 0, vote: null, commit: 0 };
  snapshot: Snapshot | undefined;
  entries: Entry[] = [];

  private get offset(): number {
    return this.snapshot?.index ?? 0;
  }

  persist(rd: Ready): void {
    if (rd.snapshot) {
      this.snapshot = { ...rd.snapshot };
      this.entries = [];
    }
    if (rd.hardState) this.hardState = { ...rd.hardState };
    if (rd.entries.length > 0) {
      this.entries.length = rd.entries[0].index - 1 - this.offset;
      this.entries.push(...rd.entries.map((e) => ({ ...e })));
    }
  }

  compact(snapshot: Snapshot, hardState: HardState, tail: Entry[]): void {
    this.snapshot = { ...snapshot };
    this.hardState = { ...hardState };
    this.entries = tail.map((e) => ({ ...e }));
  }
}

/** What the executors' leader proposes for a queued order (the sim's orders carry no more than their id). */
export function orderCommand(orderId: string, leader: NodeId): string {
  return encodeCommand({ orderId, leader, shippingMethod: 'Standard', customerName: 'sim', maskedCard: '', items: [], traceparent: '' });
}

export class SimNode {
  node: RaftNode | undefined;
  /** The executors' replicated state machine, in memory: rebuilt on restart from the snapshot and the log after it. */
  ledger = new ExecutionLedger();
  /**
   * Every execution this replica's state machine has reported, in order, recorded
   * before anything is checked: a second execution of an order shows up here. It
   * starts from the snapshot's executions when the state machine is restored.
   */
  executed: { orderId: string; index: number }[] = [];
  readonly disk = new Disk();
  /** Orders this node proposed as leader and has not seen applied: orderId → tick proposed. */
  inFlight = new Map<string, number>();

  constructor(
    readonly id: NodeId,
    private readonly members: NodeId[],
    private readonly random: () => number,
    readonly options: SimOptions,
  ) {
    this.start();
  }

  get up(): boolean {
    return this.node !== undefined;
  }

  start(): void {
    this.node = new RaftNode(
      { id: this.id, peers: this.members, electionTicks: 10, heartbeatTicks: 2, random: this.random, preVote: true, checkQuorum: this.options.checkQuorum ?? true, maxEntriesPerMessage: 8 },
      { hardState: { ...this.disk.hardState }, snapshot: this.disk.snapshot && { ...this.disk.snapshot }, entries: this.disk.entries.map((e) => ({ ...e })) },
    );
    // The state machine is in memory: rebuilt from the snapshot, then by re-applying the committed log after it.
    this.ledger = new ExecutionLedger();
    if (this.disk.snapshot) this.restore(this.disk.snapshot.data);
    else this.executed = [];
    this.inFlight.clear();
  }

  restore(data: string): void {
    this.ledger.restore(data);
    this.executed = this.ledger.all().map(({ orderId, index }) => ({ orderId, index }));
  }

  /** Applies a committed entry; returns the order it carried (executed now or before), if any. */
  apply(entry: Entry): string | undefined {
    const applied = this.ledger.apply(entry);
    if (applied.kind === 'noop') return undefined;
    if (applied.kind === 'executed') this.executed.push({ orderId: applied.execution.orderId, index: applied.execution.index });
    return applied.kind === 'finished' ? applied.orderId : applied.command.orderId;
  }

  crash(): void {
    this.node = undefined;
  }
}

export class Cluster {
  readonly random: () => number;
  readonly nodes: SimNode[];
  private inFlight: InFlight[] = [];
  now = 0;
  /** Group id per node; messages only flow within a group. */
  private partition = new Map<NodeId, number>();
  private partitionUntil = 0;
  /** Orders accepted into the queue and not yet acked by a leader. */
  readonly queue = new Set<string>();
  readonly enqueued: string[] = [];
  /** Every leader ever seen: term → id. */
  readonly leaders = new Map<number, NodeId>();
  /** Every committed entry ever seen: index → term. */
  readonly committed = new Map<number, number>();
  /**
   * The term each index was first seen committed in: the term of the entry at the observer's commit index (a leader
   * commits only entries of its own term, and it learns of a commit before any follower does). An entry of an older
   * term is committed in the term of the later entry that carries it (§5.4.2).
   */
  readonly committedIn = new Map<number, number>();
  faults: Faults;

  /** Snapshots installed from a leader, and local compactions, over the whole run. */
  snapshotsInstalled = 0;
  compactions = 0;
  /**
   * ReadIndex: reads asked of a node that took them (it led, with an entry of its term committed), by read id, with
   * the highest index committed anywhere when asked: a confirmed read must cover it, or it could miss a write that
   * completed before it began. Counted: reads confirmed, and reads aborted (asked of a leader that then lost).
   */
  private readonly reads = new Map<number, { node: NodeId; required: number }>();
  private readIds = 0;
  readsConfirmed = 0;
  readsAborted = 0;

  constructor(
    readonly seed: number,
    size: number,
    faults: Faults,
    options: SimOptions = { snapshotEvery: 0 },
  ) {
    this.random = seededRandom(seed);
    this.faults = faults;
    const ids = Array.from({ length: size }, (_, i) => `n${i + 1}`);
    this.nodes = ids.map((id) => new SimNode(id, ids, this.random, options));
  }

  enqueue(orderId: string): void {
    this.queue.add(orderId);
    this.enqueued.push(orderId);
  }

  /** One unit of simulated time: faults, deliveries, ticks, leader work, Ready processing, checks. */
  step(check: (cluster: Cluster) => void): void {
    this.now++;
    this.maybeInjectFaults();
    const due = this.inFlight.filter((f) => f.deliverAt <= this.now);
    this.inFlight = this.inFlight.filter((f) => f.deliverAt > this.now);
    for (const { message } of due) this.nodeById(message.to)?.node?.step(message);
    for (const sim of this.nodes) sim.node?.tick(this.random() < this.faults.lateTick ? 2 + Math.floor(this.random() * 6) : 1);
    for (const sim of this.nodes) this.leaderWork(sim);
    for (const sim of this.nodes) this.processReady(sim);
    check(this);
  }

  /** Stop injecting faults, heal partitions, restart crashed nodes. */
  heal(): void {
    this.faults = CALM;
    this.partition.clear();
    for (const sim of this.nodes) if (!sim.up) sim.start();
  }

  nodeById(id: NodeId): SimNode | undefined {
    return this.nodes.find((n) => n.id === id);
  }

  private maybeInjectFaults(): void {
    const f = this.faults;
    if (this.partition.size > 0 && this.now >= this.partitionUntil) this.partition.clear();
    if (this.partition.size === 0 && this.random() < f.partitionChance) {
      for (const sim of this.nodes) this.partition.set(sim.id, this.random() < 0.5 ? 0 : 1);
      this.partitionUntil = this.now + 20 + Math.floor(this.random() * 60);
    }
    for (const sim of this.nodes) {
      if (sim.up && this.random() < f.crashChance) sim.crash();
      else if (!sim.up && this.random() < 0.05) sim.start();
    }
  }

  /** The highest index known committed anywhere: every up node's commit index, and every commit ever seen. */
  private globalCommit(): number {
    let highest = 0;
    for (const index of this.committed.keys()) highest = Math.max(highest, index);
    for (const sim of this.nodes) if (sim.node) highest = Math.max(highest, sim.node.status().commit);
    return highest;
  }

  /** The executor's leader loop: propose queued orders once the leader has applied its own term's entry. */
  private leaderWork(sim: SimNode): void {
    const node = sim.node;
    if (!node) return;
    const status = node.status();
    if (status.role !== 'leader') {
      sim.inFlight.clear();
      return;
    }
    // Now and then a linearizable read, also on a leader a partition has already deposed.
    if (this.random() < 0.1) {
      const id = ++this.readIds;
      const required = this.globalCommit();
      if (node.readIndex(id)) this.reads.set(id, { node: sim.id, required });
    }
    if (!node.isServingLeader()) return;
    const batch: string[] = [];
    for (const orderId of this.queue) {
      const since = sim.inFlight.get(orderId);
      // A lease that was not acked in time is delivered again: propose it again.
      if (since === undefined || this.now - since > 40) batch.push(orderId);
      if (batch.length >= 4) break;
    }
    if (batch.length === 0) return;
    node.propose(batch.map((orderId) => orderCommand(orderId, sim.id)));
    for (const orderId of batch) sim.inFlight.set(orderId, this.now);
  }

  private processReady(sim: SimNode): void {
    const node = sim.node;
    if (!node || !node.hasReady()) return;
    const rd = node.ready();
    sim.disk.persist(rd);
    if (this.random() < this.faults.crashMidReady) {
      sim.crash();
      return;
    }
    for (const m of rd.messages) this.send(m);
    if (rd.snapshot) {
      sim.restore(rd.snapshot.data);
      this.snapshotsInstalled++;
    }
    for (const entry of rd.committed) {
      const orderId = sim.apply(entry);
      // The leader acks the queue only after the order is committed and applied.
      if (orderId !== undefined && node.status().role === 'leader') {
        this.queue.delete(orderId);
        sim.inFlight.delete(orderId);
      }
    }
    node.advance(rd);
    for (const { id, index } of rd.readStates ?? []) {
      const read = this.reads.get(id);
      if (!read || read.node !== sim.id) throw new Error(`${sim.id} confirmed read ${id}, which it was never asked`);
      if (index < read.required) {
        throw new Error(`${sim.id} confirmed read ${id} at index ${index}, but ${read.required} was committed before it was asked: a stale read`);
      }
      this.reads.delete(id);
      this.readsConfirmed++;
    }
    for (const id of rd.abortedReads ?? []) {
      this.reads.delete(id);
      this.readsAborted++;
    }
    node.drainEvents();
    const { applied, snapshotIndex } = node.status();
    const every = sim.options.snapshotEvery;
    if (every > 0 && applied - snapshotIndex >= every) {
      const { snapshot, hardState, tail } = node.compact(applied, sim.ledger.snapshot());
      sim.disk.compact(snapshot, hardState, tail);
      this.compactions++;
    }
  }

  private send(message: Message): void {
    const f = this.faults;
    const a = this.partition.get(message.from);
    const b = this.partition.get(message.to);
    if (a !== undefined && b !== undefined && a !== b) return;
    if (this.random() < f.drop) return;
    const copies = this.random() < f.duplicate ? 2 : 1;
    for (let i = 0; i < copies; i++) {
      // Random delays reorder messages.
      this.inFlight.push({ deliverAt: this.now + 1 + Math.floor(this.random() * f.maxDelay), message: structuredClone(message) });
    }
  }
}
