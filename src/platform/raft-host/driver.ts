import { trace, type Span } from '@opentelemetry/api';
import { inject, injectable } from 'tsyringe';
import { RaftNode, type RaftEvent, type RaftStatus } from '../../raft/node';
import type { Entry, HardState, Message, MessageType, NodeId, Ready, Snapshot } from '../../raft/types';

/** What the driver needs of stable storage (RaftFileStorage on disk; see its docs for the guarantees). */
export interface RaftStorage {
  /** Makes a Ready's snapshot, hard state and entries durable before anything is sent. */
  persist(rd: Ready): Promise<void>;
  /** Makes a local snapshot durable without holding up persist() meanwhile (the log is not touched). */
  saveSnapshot(snapshot: Snapshot): Promise<void>;
  /** Local compaction: the snapshot is durable (saved before, or now), then the log keeps only `tail` (the entries after it). */
  compact(snapshot: Snapshot, hardState: HardState, tail: Entry[]): Promise<void>;
}

const tracer = trace.getTracer('causeway.raft');

/**
 * How many tick periods of real time each tick of a timer stands for: one when it fires on time, more when a busy
 * event loop ran it late (RaftNode.tick counts them toward heartbeats). The count never runs ahead of the clock
 * (timers may fire a little early) and keeps up with it when every tick is a little late; one tick stands for at
 * most `max` periods, and the rest of a longer stop is dropped (a process stopped for seconds needs no burst of
 * heartbeats).
 */
export class TickPeriods {
  constructor(
    private readonly tickMs: number,
    private countedTo: number,
    private readonly max = 100,
  ) {}

  since(now: number): number {
    const owed = Math.floor((now - this.countedTo) / this.tickMs);
    if (owed > this.max) {
      this.countedTo = now;
      return this.max;
    }
    const periods = Math.max(1, owed);
    this.countedTo = Math.min(now, this.countedTo + periods * this.tickMs);
    return periods;
  }
}

/** A linearizable read was not confirmed in time (no majority answered): it may be retried. */
export class ReadTimeoutError extends Error {
  constructor(timeoutMs: number) {
    super(`read not confirmed by a majority within ${timeoutMs} ms`);
    this.name = 'ReadTimeoutError';
  }
}

/** A linearizable read could not be served here: this node does not lead (any more). `leader` is its best guess. */
export class NotLeaderError extends Error {
  constructor(readonly leader: NodeId | null) {
    super(leader ? `not the leader; the leader is ${leader}` : 'not the leader, and no leader is known');
    this.name = 'NotLeaderError';
  }
}

/** Injection tokens of the driver's storage, hooks and options. */
export const RAFT_STORAGE = Symbol('RaftStorage');
export const RAFT_HOOKS = Symbol('RaftDriverHooks');
export const RAFT_DRIVER_OPTIONS = Symbol('RaftDriverOptions');

export interface RaftDriverHooks {
  send(messages: readonly Message[]): void;
  /** A message of this type arrived from a peer. */
  heardFrom?(peer: NodeId, type: MessageType): void;
  /** Committed entries, in log order, after they are durable. `replay` is true while re-applying the log at start-up. */
  apply(entries: readonly Entry[], replay: boolean): void;
  /** The state machine starts over from a snapshot installed from the leader. */
  restore(snapshot: Snapshot): void;
  /** The state machine as of the last applied entry, as snapshot data. */
  capture(): string;
  /**
   * A snapshot was taken and the log before it dropped (for logs and metrics): `captureMs` held up the Ready loop,
   * `totalMs` runs from the capture to the log's rewrite (the file was written in between, in the background).
   */
  compacted?(snapshot: Snapshot, bytes: number, timing: { captureMs: number; totalMs: number }): void;
  /** Elections, votes, leadership changes. */
  observe(events: readonly RaftEvent[], status: RaftStatus): void;
  /**
   * Storage failed, or an invariant broke (the core threw, an apply went wrong):
   * the node must stop (fail-stop) and restart from durable state, never carry on.
   */
  fatal(error: Error): void;
}

export interface RaftDriverOptions {
  tickMs: number;
  /** Snapshot the state machine and compact the log every this many applied entries (0: never). */
  snapshotEntries: number;
  /** Fraction of proposals traced from propose to commit (a span each would drown the trace store). */
  replicationSampleRate?: number;
  random?: () => number;
}

/**
 * The I/O around the pure RaftNode: a timer ticks it, the transport feeds it
 * messages, and one loop at a time takes its Ready, persists (fsync), sends,
 * applies and advances, in that order, which is what makes it safe to answer a
 * vote or acknowledge an entry.
 */
@injectable()
export class RaftDriver {
  private timer: NodeJS.Timeout | undefined;
  private draining = false;
  private scheduled = false;
  private stopped = false;
  /** Commit index found on disk at start: entries up to it are a replay, not news. */
  private readonly replayThrough: number;
  /** Last time a leader was heard from (follower) or a follower answered (leader). */
  lastHeartbeatMs = 0;
  private servingWaiters: (() => void)[] = [];
  /** ReadIndex: reads asked of the core, by id; then confirmed reads waiting for their index to be applied. */
  private readIds = 0;
  private readonly askedReads = new Map<number, { resolve: () => void; reject: (err: Error) => void }>();
  private confirmedReads: { index: number; resolve: () => void }[] = [];
  /** Sampled replication spans, each waiting for the commit of its last entry. */
  private replicating: { span: Span; lastIndex: number }[] = [];

  private readonly tickMs: number;
  /** A local snapshot being written to its file, not yet compacted into the log (see maybeCompact). */
  private saving: { snapshot: Snapshot; started: number; captureMs: number; saved: boolean } | undefined;
  private readonly snapshotEntries: number;
  private readonly replicationSampleRate: number;
  private readonly random: () => number;

  constructor(
    @inject(RaftNode) readonly node: RaftNode,
    @inject(RAFT_STORAGE) private readonly storage: RaftStorage,
    @inject(RAFT_HOOKS) private readonly hooks: RaftDriverHooks,
    @inject(RAFT_DRIVER_OPTIONS) options: RaftDriverOptions,
  ) {
    this.replayThrough = node.status().commit;
    this.tickMs = options.tickMs;
    this.snapshotEntries = options.snapshotEntries;
    this.replicationSampleRate = options.replicationSampleRate ?? 0;
    this.random = options.random ?? Math.random;
  }

  start(): void {
    const periods = new TickPeriods(this.tickMs, performance.now());
    this.timer = setInterval(() => {
      this.node.tick(periods.since(performance.now()));
      this.schedule();
    }, this.tickMs);
    this.schedule();
  }

  /**
   * Steps messages (already validated by the transport) into the core. A throw
   * from the core is a broken invariant (say, a leader overwriting a committed
   * entry): the process stops rather than carry on from a state it cannot trust.
   */
  receive(messages: readonly Message[]): void {
    if (this.stopped) return;
    for (const m of messages) {
      if (m.type === 'Append' || m.type === 'AppendResponse' || m.type === 'Snapshot') this.lastHeartbeatMs = Date.now();
      this.hooks.heardFrom?.(m.from, m.type);
      try {
        this.node.step(m);
      } catch (err) {
        this.failStop(new Error(`raft invariant broken stepping ${m.type} from ${m.from} (term ${m.term}): ${(err as Error).message}`));
        return;
      }
    }
    this.schedule();
  }

  /** The transport lost `peer`'s connection with an error: if it led, campaign now (RaftNode.leaderUnreachable). */
  peerLost(peer: NodeId): void {
    if (this.stopped) return;
    this.node.leaderUnreachable(peer);
    this.schedule();
  }

  /** Proposes commands if this node leads; returns their log indexes, or undefined. */
  propose(commands: readonly string[]): number[] | undefined {
    const indexes = this.node.propose(commands);
    if (indexes && indexes.length > 0 && this.random() < this.replicationSampleRate) {
      const { term } = this.node.status();
      const span = tracer.startSpan('raft replicate', {
        root: true,
        attributes: { 'raft.term': term, 'raft.index.first': indexes[0], 'raft.index.last': indexes[indexes.length - 1], 'raft.entries': indexes.length },
      });
      this.replicating.push({ span, lastIndex: indexes[indexes.length - 1] });
    }
    this.schedule();
    return indexes;
  }

  /** Ends sampled replication spans whose entries are committed (or abandoned on losing leadership). */
  private settleReplicationSpans(): void {
    if (this.replicating.length === 0) return;
    const { commit, role } = this.node.status();
    this.replicating = this.replicating.filter(({ span, lastIndex }) => {
      if (lastIndex <= commit) {
        span.addEvent('committed', { 'raft.commit': commit });
        span.end();
        return false;
      }
      if (role !== 'leader') {
        span.setAttribute('raft.outcome', 'leadership lost before commit');
        span.end();
        return false;
      }
      return true;
    });
  }

  status(): RaftStatus {
    return this.node.status();
  }

  /** True when this node leads and has applied an entry of its own term: its state is then complete (§5.4.2, §8). */
  isServingLeader(): boolean {
    return this.node.isServingLeader();
  }

  /** Resolves as soon as this node is a serving leader, or after `timeoutMs`. */
  waitUntilServing(timeoutMs: number): Promise<void> {
    if (this.isServingLeader()) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, timeoutMs);
      const waiters = this.servingWaiters;
      function done() {
        clearTimeout(timer);
        const i = waiters.indexOf(done);
        if (i >= 0) waiters.splice(i, 1);
        resolve();
      }
      waiters.push(done);
    });
  }

  /**
   * Resolves once this node's state machine reflects every write committed before the call (ReadIndex): serve the
   * read from it then, and it is linearizable. Rejects with NotLeaderError when this node does not lead, or stops
   * leading before a majority confirmed it still did, and with a timeout error after `timeoutMs`.
   */
  async linearizableRead(timeoutMs: number): Promise<void> {
    const { role, leader } = this.node.status();
    if (role !== 'leader') throw new NotLeaderError(leader);
    const deadline = Date.now() + timeoutMs;
    // A fresh leader confirms reads only once an entry of its term is committed (and applied, for its state).
    await this.waitUntilServing(timeoutMs);
    const id = ++this.readIds;
    if (!this.node.readIndex(id)) throw new NotLeaderError(this.node.status().leader);
    this.schedule();
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.askedReads.delete(id);
        this.confirmedReads = this.confirmedReads.filter((r) => r.resolve !== done);
        reject(new ReadTimeoutError(timeoutMs));
      }, Math.max(0, deadline - Date.now()));
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      this.askedReads.set(id, {
        resolve: done,
        reject: (err) => {
          clearTimeout(timer);
          reject(err);
        },
      });
    });
  }

  /** Confirmed reads move on to wait for their index; aborted ones fail; those whose index is applied are served. */
  private settleReads(rd: Ready): void {
    for (const { id, index } of rd.readStates ?? []) {
      const read = this.askedReads.get(id);
      if (!read) continue; // timed out meanwhile
      this.askedReads.delete(id);
      this.confirmedReads.push({ index, resolve: read.resolve });
    }
    for (const id of rd.abortedReads ?? []) {
      const read = this.askedReads.get(id);
      this.askedReads.delete(id);
      read?.reject(new NotLeaderError(this.node.status().leader));
    }
    if (this.confirmedReads.length === 0) return;
    const { applied } = this.node.status();
    const ready = this.confirmedReads.filter((r) => r.index <= applied);
    if (ready.length === 0) return;
    this.confirmedReads = this.confirmedReads.filter((r) => r.index > applied);
    for (const r of ready) r.resolve();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    while (this.draining) await new Promise((r) => setTimeout(r, 5));
  }

  private schedule(): void {
    if (this.scheduled || this.stopped) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.drain().catch((err: Error) => this.failStop(err));
    });
  }

  /** Nothing more is ticked, stepped, persisted or applied once state cannot be trusted; the hook stops the process. */
  private failStop(error: Error): void {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.hooks.fatal(error);
  }

  private async drain(): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    try {
      while (!this.stopped && (this.node.hasReady() || this.saving?.saved)) {
        if (!this.node.hasReady()) {
          // Nothing to step, only a snapshot now durable: drop the log before it.
          await this.maybeCompact();
          continue;
        }
        const rd = this.node.ready();
        await this.storage.persist(rd);
        this.hooks.send(rd.messages);
        if (rd.snapshot) this.hooks.restore(rd.snapshot);
        if (rd.committed.length > 0) {
          const replay = rd.committed.filter((e) => e.index <= this.replayThrough);
          const fresh = rd.committed.filter((e) => e.index > this.replayThrough);
          if (replay.length > 0) this.hooks.apply(replay, true);
          if (fresh.length > 0) this.hooks.apply(fresh, false);
        }
        this.node.advance(rd);
        this.settleReads(rd);
        await this.maybeCompact();
        const events = this.node.drainEvents();
        if (events.length > 0 || rd.softStateChanged) this.hooks.observe(events, this.node.status());
        if (this.servingWaiters.length > 0 && this.isServingLeader()) for (const wake of [...this.servingWaiters]) wake();
        this.settleReplicationSpans();
      }
    } finally {
      this.draining = false;
    }
    if (!this.stopped && this.node.hasReady()) this.schedule();
  }

  /**
   * Every `snapshotEntries` applied entries: capture the state machine, write it to its file in the background,
   * and once that is durable, drop the log before it in the core, then on disk. Only the capture (and, later, the
   * log's rewrite) holds up the Ready loop: writing a snapshot of megabytes took 300–750 ms on a busy machine, and
   * a leader that sends nothing for that long is voted out. The rewrite runs inside the drain loop, the log's only
   * writer, so no persist interleaves with it; a leader's snapshot installed meanwhile supersedes this one.
   */
  private async maybeCompact(): Promise<void> {
    if (this.saving?.saved) {
      const { snapshot, started, captureMs } = this.saving;
      this.saving = undefined;
      if (snapshot.index <= this.node.status().snapshotIndex) return;
      const { hardState, tail } = this.node.compact(snapshot.index, snapshot.data);
      await this.storage.compact(snapshot, hardState, tail);
      this.hooks.compacted?.(snapshot, Buffer.byteLength(snapshot.data), { captureMs, totalMs: performance.now() - started });
      return;
    }
    if (this.saving) return;
    const { applied, snapshotIndex } = this.node.status();
    if (this.snapshotEntries <= 0 || applied - snapshotIndex < this.snapshotEntries) return;
    const started = performance.now();
    const snapshot = this.node.snapshotAt(applied, this.hooks.capture());
    const saving = { snapshot, started, captureMs: performance.now() - started, saved: false };
    this.saving = saving;
    this.storage.saveSnapshot(saving.snapshot).then(
      () => {
        saving.saved = true;
        this.schedule();
      },
      (err: Error) => this.failStop(new Error(`writing the snapshot at ${saving.snapshot.index}: ${err.message}`)),
    );
  }
}
