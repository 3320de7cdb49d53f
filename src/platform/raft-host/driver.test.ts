import { RaftNode } from '../../raft/node';
import type { Entry, HardState, Message, NodeId, Ready, Snapshot } from '../../raft/types';
import { NotLeaderError, RaftDriver, TickPeriods, type RaftDriverHooks, type RaftStorage } from './driver';

/** Stable storage in memory, a little slow like a disk, that remembers the order of what happened. */
class MemoryStorage implements RaftStorage {
  hardState: HardState = { term: 0, vote: null, commit: 0 };
  snapshot: Snapshot | undefined;
  entries: Entry[] = [];
  readonly compactions: { snapshot: Snapshot; tail: Entry[]; durableAfter: Entry[] }[] = [];
  /** Set to hold persist() back, as a slow fsync would. */
  gate: Promise<void> | undefined;

  constructor(private readonly events: string[]) {}

  /** The last index on "disk". */
  get lastIndex(): number {
    return (this.snapshot?.index ?? 0) + this.entries.length;
  }

  async persist(rd: Ready): Promise<void> {
    this.events.push('persist');
    await new Promise((r) => setTimeout(r, 1));
    if (this.gate) await this.gate;
    if (rd.snapshot) {
      this.snapshot = rd.snapshot;
      this.entries = [];
    }
    if (rd.hardState) this.hardState = rd.hardState;
    if (rd.entries.length > 0) {
      this.entries.length = rd.entries[0].index - 1 - (this.snapshot?.index ?? 0);
      this.entries.push(...rd.entries);
    }
    this.events.push('persisted');
  }

  /** Snapshots written to their "file" (saveSnapshot), in order. */
  readonly saved: Snapshot[] = [];
  /** Set to hold saveSnapshot() back, as a slow write of a large snapshot would. */
  saveGate: Promise<void> | undefined;

  async saveSnapshot(snapshot: Snapshot): Promise<void> {
    this.events.push(`save ${snapshot.index}`);
    await new Promise((r) => setTimeout(r, 1));
    if (this.saveGate) await this.saveGate;
    this.saved.push(snapshot);
    this.events.push(`saved ${snapshot.index}`);
  }

  async compact(snapshot: Snapshot, hardState: HardState, tail: Entry[]): Promise<void> {
    if (this.saved.at(-1) !== snapshot) throw new Error(`compact(${snapshot.index}) before its snapshot was saved`);
    // The tail must be exactly the durable log after the snapshot (later entries come with the next persist).
    const durableAfter = this.entries.filter((e) => e.index > snapshot.index);
    this.compactions.push({ snapshot, tail: [...tail], durableAfter });
    this.snapshot = snapshot;
    this.hardState = hardState;
    this.entries = [...tail];
  }
}

const until = async (what: string, condition: () => boolean, timeoutMs = 3000) => {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
};

function cluster(peers: NodeId[], options: { snapshotEntries?: number; apply?: (entries: readonly Entry[]) => void } = {}) {
  const events: string[] = [];
  const node = new RaftNode(
    { id: 'n1', peers, electionTicks: 3, heartbeatTicks: 1, random: () => 0, preVote: false, checkQuorum: false },
    { hardState: { term: 0, vote: null, commit: 0 }, entries: [] },
  );
  const storage = new MemoryStorage(events);
  const sent: { message: Message; durableTerm: number; durableLastIndex: number }[] = [];
  const applied: Entry[] = [];
  const fatal: Error[] = [];
  const hooks: RaftDriverHooks = {
    send: (messages) => {
      for (const message of messages) {
        events.push(`send ${message.type}`);
        sent.push({ message, durableTerm: storage.hardState.term, durableLastIndex: storage.lastIndex });
      }
    },
    apply: (entries) => {
      events.push(`apply ${entries.map((e) => e.index).join(',')}`);
      options.apply?.(entries);
      applied.push(...entries);
    },
    restore: (snapshot) => events.push(`restore ${snapshot.index}`),
    capture: () => `state as of ${applied.at(-1)?.index ?? 0}`,
    observe: () => undefined,
    fatal: (error) => {
      events.push('fatal');
      fatal.push(error);
    },
  };
  const driver = new RaftDriver(node, storage, hooks, { tickMs: 1, snapshotEntries: options.snapshotEntries ?? 0 });
  return { node, storage, driver, events, sent, applied, fatal };
}

const message = (m: Partial<Message> & Pick<Message, 'type' | 'from'>): Message => ({ to: 'n1', term: 1, ...m });

describe('TickPeriods', () => {
  it('counts one period for a tick on time, and every period a late one covers', () => {
    const periods = new TickPeriods(10, 0);
    expect([10, 20, 30].map((t) => periods.since(t))).toEqual([1, 1, 1]);
    expect(periods.since(75)).toBe(4);
    expect(periods.since(80)).toBe(1);
  });

  it('keeps count of real time when ticks come a little late each time', () => {
    const periods = new TickPeriods(10, 0);
    const counted = Array.from({ length: 20 }, (_, i) => periods.since((i + 1) * 10.6)).reduce((a, b) => a + b, 0);
    expect(counted).toBe(21);
  });

  it('never runs ahead of the clock when ticks come a little early', () => {
    const periods = new TickPeriods(10, 0);
    for (let i = 1; i <= 50; i++) periods.since(i * 9.5);
    // 475 ms of real time in 50 early ticks; a tick held 60 ms past the next period still counts the 6 missed.
    expect(periods.since(475 + 9.5 + 60)).toBe(6);
  });

  it('stands for at most `max` periods', () => {
    const periods = new TickPeriods(10, 0, 100);
    expect(periods.since(5_000)).toBe(100);
    expect(periods.since(5_010)).toBe(1);
  });
});

describe('RaftDriver', () => {
  const drivers: RaftDriver[] = [];
  afterEach(async () => {
    await Promise.all(drivers.splice(0).map((d) => d.stop()));
  });

  /**
   * n1 of three, elected with n2's vote (its ticks go on, but the test drives every message); `ack(index)`: n2 now
   * holds the log up to `index`, so the leader commits and applies it.
   */
  async function elected(options: { snapshotEntries?: number } = {}) {
    const c = cluster(['n1', 'n2', 'n3'], options);
    drivers.push(c.driver);
    c.driver.start();
    await until('vote requests', () => c.sent.some((s) => s.message.type === 'Vote'));
    const { term } = c.node.status();
    c.driver.receive([message({ type: 'VoteResponse', from: 'n2', term })]);
    await until('leadership', () => c.node.status().role === 'leader' && c.storage.lastIndex === 1);
    const ack = async (index: number) => {
      c.driver.receive([message({ type: 'AppendResponse', from: 'n2', term, index, reject: false })]);
      await until(`entry ${index} applied`, () => c.node.status().applied === index);
    };
    return { ...c, term, ack };
  }

  it('persists term, vote and entries before sending any message that depends on them', async () => {
    const c = cluster(['n1', 'n2', 'n3']);
    drivers.push(c.driver);
    c.driver.start();
    await until('vote requests', () => c.sent.some((s) => s.message.type === 'Vote'));
    const { term } = c.node.status();
    c.driver.receive([message({ type: 'VoteResponse', from: 'n2', term })]);
    await until('the new leader to send its entry', () => c.sent.some((s) => s.message.type === 'Append' && (s.message.entries ?? []).length > 0));
    for (const { message: m, durableTerm, durableLastIndex } of c.sent) {
      expect(`${m.type} term ${m.term}: durable term ${durableTerm}`).toBe(`${m.type} term ${m.term}: durable term ${m.term}`);
      const last = m.entries?.at(-1)?.index ?? 0;
      expect(durableLastIndex).toBeGreaterThanOrEqual(last);
    }
  });

  it('stops (fatal, and no more stepping) when the core throws on a message', async () => {
    const c = cluster(['n1', 'n2', 'n3']);
    const step = jest.spyOn(c.node, 'step').mockImplementation(() => {
      throw new Error('would overwrite a committed entry');
    });
    c.driver.receive([message({ type: 'Append', from: 'n2', index: 0, logTerm: 0, entries: [], commit: 0 })]);
    expect(c.fatal.map((e) => e.message)).toEqual([
      'raft invariant broken stepping Append from n2 (term 1): would overwrite a committed entry',
    ]);
    c.driver.receive([message({ type: 'Append', from: 'n2', index: 0, logTerm: 0, entries: [], commit: 0 })]);
    expect(step).toHaveBeenCalledTimes(1);
    expect(c.fatal).toHaveLength(1);
  });

  it('stops (fatal, and no more work) when applying a committed entry throws', async () => {
    const c = cluster(['n1'], {
      apply: () => {
        throw new Error('not an order');
      },
    });
    drivers.push(c.driver);
    const tick = jest.spyOn(c.node, 'tick');
    c.driver.start();
    await until('fatal', () => c.fatal.length > 0);
    expect(c.fatal[0].message).toBe('not an order');
    const ticksAtFailure = tick.mock.calls.length;
    // Twenty tick periods later: nothing was persisted, applied or ticked again.
    const eventsAtFailure = [...c.events];
    await new Promise((r) => setTimeout(r, 20));
    expect(c.events).toEqual(eventsAtFailure);
    expect(tick.mock.calls.length).toBe(ticksAtFailure);
  });

  it('tells the core how many tick periods a late tick stands for', async () => {
    const c = cluster(['n1', 'n2', 'n3']);
    drivers.push(c.driver);
    const ticks: { at: number; periods: number }[] = [];
    const tick = c.node.tick.bind(c.node);
    c.node.tick = (periods = 1) => {
      ticks.push({ at: performance.now(), periods });
      tick(periods);
    };
    c.driver.start();
    await until('a few ticks', () => ticks.length >= 3);
    // The event loop held for 30 tick periods (tickMs is 1): the next tick stands for as many as passed since the last.
    const held = performance.now();
    while (performance.now() - held < 30);
    const before = ticks.length;
    await until('the late tick', () => ticks.length > before);
    const late = ticks[before];
    expect(late.periods).toBeGreaterThanOrEqual(30);
    expect(late.periods).toBeLessThanOrEqual(Math.ceil(late.at - ticks[before - 1].at) + 1);
  });

  it('compacts every N applied entries, keeping exactly the durable entries after the snapshot', async () => {
    const c = await elected({ snapshotEntries: 3 });
    // n2 acknowledges up to `index`: the leader commits it; entries after it stay durable and unapplied.
    const { ack } = c;
    const propose = async (...commands: string[]) => {
      const indexes = c.driver.propose(commands)!;
      await until('proposals persisted', () => c.storage.lastIndex === indexes.at(-1));
    };
    await ack(1);
    await propose('a', 'b', 'c', 'd'); // 2..5
    await ack(3);
    await propose('e', 'f', 'g'); // 6..8
    await ack(6);
    await ack(8); // 2 past the last snapshot: not yet
    expect(c.storage.compactions.map((k) => [k.snapshot.index, k.tail.map((e) => e.index)])).toEqual([
      [3, [4, 5]],
      [6, [7, 8]],
    ]);
    for (const { snapshot, tail, durableAfter } of c.storage.compactions) {
      expect(snapshot.data).toBe(`state as of ${snapshot.index}`);
      expect(tail).toEqual(durableAfter);
    }
  });

  it('goes on persisting, committing and applying while a snapshot is written, and compacts once it is durable', async () => {
    const c = await elected({ snapshotEntries: 3 });
    const { term, ack } = c;
    let release!: () => void;
    c.storage.saveGate = new Promise((r) => (release = r));
    c.driver.propose(['a', 'b']); // 2..3
    await until('proposals persisted', () => c.storage.lastIndex === 3);
    await ack(3); // 3 applied: the snapshot at 3 is captured and its write held
    await until('the snapshot write started', () => c.events.includes('save 3'));
    const sentBefore = c.sent.length;
    c.driver.propose(['c', 'd', 'e']); // 4..6
    await until('proposals persisted while the snapshot is written', () => c.storage.lastIndex === 6);
    await until('appends sent while the snapshot is written', () => c.sent.slice(sentBefore).some((s) => s.message.type === 'Append'));
    await ack(6);
    expect(c.storage.compactions).toEqual([]);
    expect(c.node.status().snapshotIndex).toBe(0);
    release();
    await until('compacted', () => c.storage.compactions.length >= 1);
    const { snapshot, tail, durableAfter } = c.storage.compactions[0];
    expect(snapshot).toEqual({ index: 3, term, data: 'state as of 3' });
    expect(tail.map((e) => e.index)).toEqual([4, 5, 6]);
    expect(tail).toEqual(durableAfter);
    // The next snapshot is taken from the state applied by then (6), once the first is compacted.
    await until('the next snapshot', () => c.storage.compactions.length === 2);
    expect(c.node.status().snapshotIndex).toBe(6);
    expect(c.storage.compactions[1].snapshot.index).toBe(6);
    expect(c.events.filter((e) => /^save/.test(e))).toEqual(['save 3', 'saved 3', 'save 6', 'saved 6']);
  });

  it("installs a leader's snapshot: persisted, then restored, before the entries after it are applied", async () => {
    const c = cluster(['n1', 'n2', 'n3']);
    drivers.push(c.driver);
    c.driver.receive([message({ type: 'Snapshot', from: 'n2', snapshot: { index: 10, term: 1, data: 'ten orders' } })]);
    c.driver.receive([
      message({ type: 'Append', from: 'n2', index: 10, logTerm: 1, entries: [{ index: 11, term: 1, type: 'command', data: 'order-11' }], commit: 11 }),
    ]);
    await until('entry 11 applied', () => c.applied.some((e) => e.index === 11));
    const order = c.events.filter((e) => e === 'persisted' || e.startsWith('restore') || e.startsWith('apply'));
    expect(order.indexOf('restore 10')).toBeGreaterThan(order.indexOf('persisted'));
    expect(order.indexOf('apply 11')).toBeGreaterThan(order.indexOf('restore 10'));
    expect(c.storage.snapshot).toEqual({ index: 10, term: 1, data: 'ten orders' });
    expect(c.applied.map((e) => e.index)).toEqual([11]);
  });

  describe('linearizableRead (ReadIndex)', () => {
    /** n1 elected leader of three (not ticking: the test drives every message), its noop acknowledged by n2. */
    async function leader() {
      const c = await elected();
      c.driver.receive([message({ type: 'AppendResponse', from: 'n2', term: c.term, index: 1 })]);
      await until('the noop applied', () => c.driver.isServingLeader());
      return c;
    }
    const contextSent = (c: { sent: { message: Message }[] }) => Math.max(0, ...c.sent.map((s) => s.message.context ?? 0));

    it('resolves only after a majority answered an Append carrying the read context, and the state machine caught up', async () => {
      const c = await leader();
      let served = false;
      const read = c.driver.linearizableRead(2000).then(() => (served = true));
      await until('an Append with a read context', () => contextSent(c) > 0);
      // Sent, and nobody has answered it: the read waits (a driver serving at once would have by now).
      expect(served).toBe(false);
      c.driver.receive([message({ type: 'AppendResponse', from: 'n3', term: c.term, index: 1, context: contextSent(c) })]);
      await read;
      expect(served).toBe(true);
    });

    it('rejects with NotLeaderError on a follower, naming the leader it knows', async () => {
      const c = cluster(['n1', 'n2', 'n3']);
      drivers.push(c.driver);
      c.driver.receive([message({ type: 'Append', from: 'n2', term: 4, index: 0, logTerm: 0, entries: [], commit: 0 })]);
      await expect(c.driver.linearizableRead(500)).rejects.toEqual(new NotLeaderError('n2'));
    });

    it('rejects a pending read with NotLeaderError when the leader is deposed before confirming it', async () => {
      const c = await leader();
      const read = c.driver.linearizableRead(2000);
      await until('an Append with a read context', () => contextSent(c) > 0);
      c.driver.receive([message({ type: 'Append', from: 'n3', term: c.term + 1, index: 0, logTerm: 0, entries: [], commit: 0 })]);
      await expect(read).rejects.toBeInstanceOf(NotLeaderError);
    });

    it('times out when no majority answers', async () => {
      const c = await leader();
      await expect(c.driver.linearizableRead(50)).rejects.toThrow('read not confirmed by a majority within 50 ms');
    });
  });
});
