/**
 * The Raft core against the paper's rules (§5.2 election, §5.3 replication,
 * §5.4 safety) and the seed's election steps, in deterministic scenarios; the
 * randomized fault schedules are in raft.sim.test.ts.
 */
import { RaftNode } from './node';
import { seededRandom } from './random';
import type { Message, Ready } from './types';

const ids = ['a', 'b', 'c'];

function makeNode(id: string, seed = 1, preVote = true) {
  return new RaftNode(
    { id, peers: ids, electionTicks: 10, heartbeatTicks: 2, random: seededRandom(seed), preVote, checkQuorum: true },
    { hardState: { term: 0, vote: null, commit: 0 }, entries: [] },
  );
}

/** Delivers every message until the network is quiet; returns what was sent. */
function settle(nodes: Record<string, RaftNode>, drop: (m: Message) => boolean = () => false): Message[] {
  const sent: Message[] = [];
  for (let round = 0; round < 100; round++) {
    const batch: Message[] = [];
    for (const node of Object.values(nodes)) {
      if (!node.hasReady()) continue;
      const rd: Ready = node.ready();
      batch.push(...rd.messages);
      node.advance(rd);
    }
    if (batch.length === 0) return sent;
    sent.push(...batch);
    for (const m of batch) if (!drop(m)) nodes[m.to]?.step(m);
  }
  throw new Error('network did not settle');
}

function tickUntilLeader(nodes: Record<string, RaftNode>, candidate: string): void {
  for (let i = 0; i < 100 && nodes[candidate].status().role !== 'leader'; i++) {
    nodes[candidate].tick();
    settle(nodes);
  }
}

describe('seed election steps', () => {
  it('1. starts as a follower at term 0', () => {
    const n = makeNode('a');
    expect(n.status()).toMatchObject({ role: 'follower', term: 0, leader: null });
  });

  it('3–5. on election timeout: (pre-vote, then) candidate, term + 1, votes for itself, asks all others', () => {
    const n = makeNode('a', 1, false);
    for (let i = 0; i < 20; i++) n.tick();
    expect(n.status()).toMatchObject({ role: 'candidate', term: 1, vote: 'a' });
    const votes = n.ready().messages.filter((m) => m.type === 'Vote');
    expect(votes.map((m) => m.to).sort()).toEqual(['b', 'c']);
    expect(votes.every((m) => m.term === 1)).toBe(true);
  });

  it('timeouts are randomised in [electionTicks, 2·electionTicks)', () => {
    const firstCampaign = (seed: number) => {
      const n = makeNode('a', seed, false);
      for (let t = 1; t <= 30; t++) {
        n.tick();
        if (n.status().role === 'candidate') return t;
      }
      return -1;
    };
    const timeouts = new Set([1, 2, 3, 4, 5, 6, 7, 8].map(firstCampaign));
    expect(timeouts.size).toBeGreaterThan(2);
    for (const t of timeouts) expect(t >= 10 && t < 20).toBe(true);
  });

  it('6. votes for at most one candidate per term', () => {
    const c = makeNode('c');
    c.step({ type: 'Vote', from: 'a', to: 'c', term: 1, logTerm: 0, index: 0 });
    c.step({ type: 'Vote', from: 'b', to: 'c', term: 1, logTerm: 0, index: 0 });
    const responses = c.ready().messages;
    expect(responses.map((m) => [m.to, m.reject])).toEqual([
      ['a', false],
      ['b', true],
    ]);
    expect(c.status().vote).toBe('a');
  });

  it('6. refuses a candidate whose log is behind (§5.4.1)', () => {
    const voter = new RaftNode(
      { id: 'b', peers: ids, electionTicks: 10, heartbeatTicks: 2, random: seededRandom(1), preVote: true, checkQuorum: true },
      {
        hardState: { term: 1, vote: 'a', commit: 2 },
        entries: [
          { term: 1, index: 1, type: 'noop' },
          { term: 1, index: 2, type: 'command', data: 'o1' },
        ],
      },
    );
    voter.step({ type: 'Vote', from: 'c', to: 'b', term: 5, logTerm: 1, index: 1 });
    voter.step({ type: 'Vote', from: 'a', to: 'b', term: 5, logTerm: 1, index: 2 });
    expect(voter.ready().messages.map((m) => [m.to, m.reject])).toEqual([
      ['c', true],
      ['a', false],
    ]);
    expect(voter.status()).toMatchObject({ term: 5, vote: 'a' });
  });

  it('ignores vote requests while it hears from a live leader (CheckQuorum lease)', () => {
    const nodes = { a: makeNode('a', 1), b: makeNode('b', 2), c: makeNode('c', 3) };
    tickUntilLeader(nodes, 'a');
    nodes.b.step({ type: 'Vote', from: 'c', to: 'b', term: 9, logTerm: 5, index: 50 });
    expect(nodes.b.ready().messages).toEqual([]);
    expect(nodes.b.status()).toMatchObject({ term: 1, leader: 'a' });
  });

  describe("a leader's lost connection (leaderUnreachable)", () => {
    /** Ticks `id` alone (its messages delivered) until it leaves the follower role; returns the ticks it took. */
    const ticksUntilCampaign = (nodes: Record<string, RaftNode>, id: string) => {
      for (let ticks = 1; ticks <= 40; ticks++) {
        nodes[id].tick();
        if (nodes[id].status().role !== 'follower') return ticks;
        settle(nodes);
      }
      return Infinity;
    };

    /** Ticks the survivors together, delivering every message, until one leads; returns the ticks it took. */
    const ticksUntilLeader = (survivors: Record<string, RaftNode>) => {
      for (let ticks = 1; ticks <= 40; ticks++) {
        for (const node of Object.values(survivors)) node.tick();
        settle(survivors);
        if (Object.values(survivors).some((n) => n.status().role === 'leader')) return ticks;
      }
      return Infinity;
    };

    it('elects the first survivor by id within 2 ticks, in one round, when both lost a crashed leader at once', () => {
      for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
        const nodes = { a: makeNode('a', seed), b: makeNode('b', seed + 10), c: makeNode('c', seed + 20) };
        tickUntilLeader(nodes, 'a');
        nodes.b.drainEvents();
        const survivors = { b: nodes.b, c: nodes.c };
        nodes.b.leaderUnreachable('a');
        nodes.c.leaderUnreachable('a');
        expect(nodes.b.drainEvents()).toContainEqual({ type: 'leader-unreachable', term: 1, leader: 'a' });
        expect(nodes.b.status().leader).toBeNull();
        expect(ticksUntilLeader(survivors)).toBeLessThanOrEqual(2); // the election timeout is 10-20 ticks
        // One round: term 2, no split vote (c waited its turn).
        expect(nodes.b.status()).toMatchObject({ role: 'leader', term: 2 });
        expect(nodes.c.status()).toMatchObject({ role: 'follower', term: 2, leader: 'b' });
      }
    });

    it("lets the next survivor win in its turn when the first one's log is behind", () => {
      const nodes = { a: makeNode('a', 1), b: makeNode('b', 2), c: makeNode('c', 3) };
      tickUntilLeader(nodes, 'a');
      nodes.a.propose(['o1']);
      settle(nodes, (m) => m.to === 'b'); // the leader's last entry reached c, not b
      const survivors = { b: nodes.b, c: nodes.c };
      nodes.b.leaderUnreachable('a');
      nodes.c.leaderUnreachable('a');
      const ticks = ticksUntilLeader(survivors);
      expect(ticks).toBeGreaterThan(2);
      expect(ticks).toBeLessThanOrEqual(7); // half the minimum election timeout (5 ticks), and the round
      expect(nodes.c.status()).toMatchObject({ role: 'leader', term: 2 }); // b's failed pre-vote raised no term
      expect(nodes.b.status()).toMatchObject({ role: 'follower', term: 2, leader: 'c' });
    });

    it('does not depose a live leader: the follower still hearing it refuses the pre-vote, and the next Append wins the follower back', () => {
      const nodes = { a: makeNode('a', 1), b: makeNode('b', 2), c: makeNode('c', 3) };
      tickUntilLeader(nodes, 'a');
      nodes.b.leaderUnreachable('a'); // say, a one-way fault between b and a; c still hears a
      expect(ticksUntilCampaign(nodes, 'b')).toBeLessThanOrEqual(2);
      expect(nodes.b.status()).toMatchObject({ role: 'pre-candidate', term: 1 });
      settle(nodes);
      expect(nodes.a.status()).toMatchObject({ role: 'leader', term: 1 });
      expect(nodes.c.status()).toMatchObject({ term: 1, leader: 'a' });
      nodes.a.tick();
      nodes.a.tick();
      settle(nodes);
      expect(nodes.b.status()).toMatchObject({ role: 'follower', term: 1, leader: 'a' });
    });

    it('ignores a lost connection to a peer that is not its leader, and on the leader itself', () => {
      const nodes = { a: makeNode('a', 1), b: makeNode('b', 2), c: makeNode('c', 3) };
      tickUntilLeader(nodes, 'a');
      nodes.b.drainEvents();
      nodes.b.leaderUnreachable('c');
      nodes.a.leaderUnreachable('b');
      expect(nodes.b.drainEvents()).toEqual([]);
      expect(nodes.b.status()).toMatchObject({ role: 'follower', leader: 'a' });
      // Nothing changed for b: only its usual election timeout (≥ electionTicks = 10 ticks of silence) makes it campaign.
      expect(ticksUntilCampaign(nodes, 'b')).toBeGreaterThanOrEqual(10);
      expect(nodes.a.status().role).toBe('leader');
    });
  });

  it('7. a majority of votes makes the candidate leader, which then heartbeats', () => {
    const nodes = { a: makeNode('a', 1), b: makeNode('b', 2), c: makeNode('c', 3) };
    tickUntilLeader(nodes, 'a');
    expect(nodes.a.status()).toMatchObject({ role: 'leader', term: 1, leader: 'a' });
    expect(nodes.b.status()).toMatchObject({ role: 'follower', term: 1, leader: 'a' });
    nodes.a.tick();
    nodes.a.tick();
    expect(nodes.a.ready().messages.filter((m) => m.type === 'Append').length).toBe(2);
  });
});

describe('§5.3 log replication', () => {
  it('commits on a majority and every replica applies the same entries in order', () => {
    const nodes = { a: makeNode('a', 1), b: makeNode('b', 2), c: makeNode('c', 3) };
    tickUntilLeader(nodes, 'a');
    nodes.a.propose(['o1', 'o2']);
    nodes.a.propose(['o3']);
    const applied: Record<string, string[]> = { a: [], b: [], c: [] };
    for (let i = 0; i < 5; i++) {
      for (const [id, node] of Object.entries(nodes)) {
        node.tick();
        const rd = node.ready();
        applied[id].push(...rd.committed.filter((e) => e.type === 'command').map((e) => e.data!));
        node.advance(rd);
        for (const m of rd.messages) nodes[m.to as 'a'].step(m);
      }
    }
    expect(applied.a).toEqual(['o1', 'o2', 'o3']);
    expect(applied.b).toEqual(['o1', 'o2', 'o3']);
    expect(applied.c).toEqual(['o1', 'o2', 'o3']);
  });

  it('commits with one follower down, and the lagging follower catches up later', () => {
    const nodes = { a: makeNode('a', 1), b: makeNode('b', 2), c: makeNode('c', 3) };
    tickUntilLeader(nodes, 'a');
    nodes.a.propose(['o1']);
    settle(nodes, (m) => m.to === 'c' || m.from === 'c');
    expect(nodes.a.status().commit).toBe(2); // noop + o1
    expect(nodes.c.status().lastIndex).toBe(1);
    nodes.a.tick();
    nodes.a.tick();
    settle(nodes);
    expect(nodes.c.status()).toMatchObject({ lastIndex: 2, commit: 2 });
  });

  it('sends no heartbeat while appends flow; an idle follower hears from the leader every heartbeatTicks', () => {
    const nodes = { a: makeNode('a', 1), b: makeNode('b', 2), c: makeNode('c', 3) };
    tickUntilLeader(nodes, 'a');
    settle(nodes);
    // Busy: a proposal every tick, so every tick already sends each follower an Append with entries.
    const busy: Message[] = [];
    for (let i = 0; i < 6; i++) {
      nodes.a.propose([`o${i}`]);
      nodes.a.tick();
      busy.push(...settle(nodes).filter((m) => m.from === 'a' && m.type === 'Append'));
    }
    // Per follower and proposal: one Append, carrying it and the commit index the proposal before reached. No
    // heartbeats, and no Append only to carry a new commit index.
    for (const to of ['b', 'c']) {
      const appends = busy.filter((m) => m.to === to);
      expect(appends.map((m) => (m.entries ?? []).length)).toEqual([1, 1, 1, 1, 1, 1]);
      expect(appends.map((m) => m.commit)).toEqual([1, 2, 3, 4, 5, 6]);
    }
    expect(nodes.a.status().commit).toBe(7);
    expect(nodes.b.status().commit).toBe(6);
    // Idle: one Append per follower every heartbeatTicks (2) ticks; the first tells the followers the last commit.
    const idle: Message[] = [];
    for (let i = 0; i < 6; i++) {
      nodes.a.tick();
      idle.push(...settle(nodes).filter((m) => m.from === 'a' && m.type === 'Append'));
    }
    expect(idle.filter((m) => m.to === 'b').length).toBe(3);
    expect(idle.filter((m) => m.to === 'c').length).toBe(3);
    expect(idle.every((m) => m.commit === 7 && (m.entries ?? []).length === 0)).toBe(true);
    expect([nodes.b.status().commit, nodes.c.status().commit]).toEqual([7, 7]);
  });

  describe('a late tick (its timer held up by a busy process)', () => {
    it("counts all its periods toward a leader's heartbeats: one late tick sends them", () => {
      const nodes = { a: makeNode('a', 1), b: makeNode('b', 2), c: makeNode('c', 3) };
      tickUntilLeader(nodes, 'a');
      settle(nodes);
      // heartbeatTicks is 2: one tick that stands for two periods is due for them.
      nodes.a.tick(2);
      expect(nodes.a.ready().messages.filter((m) => m.type === 'Append').map((m) => m.to).sort()).toEqual(['b', 'c']);
    });

    it("counts once toward a follower's election timeout: no campaign for messages it has not read yet", () => {
      const nodes = { a: makeNode('a', 1), b: makeNode('b', 2), c: makeNode('c', 3) };
      tickUntilLeader(nodes, 'a');
      settle(nodes);
      // Ten late ticks of 100 periods each: far past any timeout in real time, but ten ticks of awake time.
      for (let i = 0; i < 10 - 1; i++) nodes.b.tick(100);
      expect(nodes.b.status()).toMatchObject({ role: 'follower', leader: 'a' });
      expect(nodes.b.ready().messages.filter((m) => m.type === 'PreVote')).toEqual([]);
      // Its ticks counted one each: the timeout (10–19 ticks) still comes, after enough of them.
      for (let i = 0; i < 10 && nodes.b.status().leader !== null; i++) nodes.b.tick(100);
      expect(nodes.b.ready().messages.filter((m) => m.type === 'PreVote').length).toBe(2);
    });

    it("counts once toward a leader's CheckQuorum: a held-up leader does not step down for answers still unread", () => {
      const nodes = { a: makeNode('a', 1), b: makeNode('b', 2), c: makeNode('c', 3) };
      tickUntilLeader(nodes, 'a');
      settle(nodes);
      for (let i = 0; i < 9; i++) {
        nodes.a.tick(50);
        nodes.a.ready();
      }
      expect(nodes.a.status().role).toBe('leader');
      // A leader that really hears from no one still steps down, after its election ticks.
      for (let i = 0; i < 2 * 10 && nodes.a.status().role === 'leader'; i++) {
        nodes.a.tick(50);
        nodes.a.ready();
      }
      expect(nodes.a.status().role).toBe('follower');
    });

    it('refuses a tick of no period or a fraction of one', () => {
      expect(() => makeNode('a').tick(0)).toThrow('tick of 0 periods');
      expect(() => makeNode('a').tick(1.5)).toThrow('tick of 1.5 periods');
    });
  });

  it('does not let a proposal on a follower through', () => {
    expect(makeNode('b').propose(['o1'])).toBeUndefined();
  });
});

describe('PreVote and CheckQuorum', () => {
  it('a node back from a partition does not depose a healthy leader', () => {
    const nodes = { a: makeNode('a', 1), b: makeNode('b', 2), c: makeNode('c', 3) };
    tickUntilLeader(nodes, 'a');
    // c is cut off and times out again and again: with PreVote its term never moves.
    for (let i = 0; i < 100; i++) {
      nodes.c.tick();
      nodes.c.ready();
    }
    expect(nodes.c.status().term).toBe(1);
    // back on the network, its pre-votes are refused (the others hear from a live leader)
    nodes.c.tick();
    for (let i = 0; i < 30; i++) {
      nodes.c.tick();
      nodes.a.tick();
      settle(nodes);
    }
    expect(nodes.a.status()).toMatchObject({ role: 'leader', term: 1 });
  });

  it('a leader that cannot reach a majority steps down', () => {
    const nodes = { a: makeNode('a', 1), b: makeNode('b', 2), c: makeNode('c', 3) };
    tickUntilLeader(nodes, 'a');
    for (let i = 0; i < 25; i++) {
      nodes.a.tick();
      nodes.a.ready();
    }
    expect(nodes.a.status().role).toBe('follower');
    expect(nodes.a.drainEvents().some((e) => e.type === 'stepped-down')).toBe(true);
  });
});

describe('ReadIndex (§6.4 of the thesis): linearizable reads without a log entry', () => {
  type Nodes = Record<string, RaftNode>;
  /** Like settle(), also collecting each node's confirmed and aborted reads. */
  function settleReads(nodes: Nodes, drop: (m: Message) => boolean = () => false) {
    const confirmed: Record<string, { id: number; index: number }[]> = {};
    const aborted: Record<string, number[]> = {};
    for (let round = 0; round < 100; round++) {
      const batch: Message[] = [];
      for (const [id, node] of Object.entries(nodes)) {
        if (!node.hasReady()) continue;
        const rd = node.ready();
        (confirmed[id] ??= []).push(...(rd.readStates ?? []));
        (aborted[id] ??= []).push(...(rd.abortedReads ?? []));
        batch.push(...rd.messages);
        node.advance(rd);
      }
      if (batch.length === 0) return { confirmed, aborted };
      for (const m of batch) if (!drop(m)) nodes[m.to]?.step(m);
    }
    throw new Error('network did not settle');
  }
  const cluster = () => {
    const nodes = { a: makeNode('a', 1), b: makeNode('b', 2), c: makeNode('c', 3) };
    tickUntilLeader(nodes, 'a');
    return nodes;
  };

  it('confirms a read at the commit index once a majority has answered an Append sent after it', () => {
    const nodes = cluster();
    nodes.a.propose(['w1']);
    settle(nodes);
    const commit = nodes.a.status().commit;
    expect(nodes.a.readIndex(7)).toBe(true);
    // Not before any follower answered: the leader alone is no majority.
    const rd = nodes.a.ready();
    expect(rd.readStates).toBeUndefined();
    const appends = rd.messages.filter((m) => m.type === 'Append');
    expect(appends.map((m) => m.to).sort()).toEqual(['b', 'c']);
    expect(appends.every((m) => m.context === 1)).toBe(true);
    nodes.a.advance(rd);
    // b's answer alone makes a majority with the leader; c's is lost.
    for (const m of appends) if (m.to === 'b') nodes.b.step(m);
    const answer = nodes.b.ready();
    expect(answer.messages).toEqual([expect.objectContaining({ type: 'AppendResponse', to: 'a', context: 1 })]);
    nodes.b.advance(answer);
    nodes.a.step(answer.messages[0]);
    expect(nodes.a.ready().readStates).toEqual([{ id: 7, index: commit }]);
  });

  it('does not count an answer to an Append sent before the read', () => {
    const nodes = cluster();
    expect(nodes.a.readIndex(1)).toBe(true);
    const first = nodes.a.ready();
    nodes.a.advance(first);
    expect(nodes.a.readIndex(2)).toBe(true);
    const second = nodes.a.ready();
    nodes.a.advance(second);
    // b answers only the first round (context 1): read 1 is confirmed, read 2 is not.
    for (const m of first.messages) if (m.to === 'b') nodes.b.step(m);
    const answer = nodes.b.ready();
    nodes.b.advance(answer);
    for (const m of answer.messages) nodes.a.step(m);
    expect(nodes.a.ready().readStates?.map((r) => r.id)).toEqual([1]);
    for (const m of second.messages) if (m.to === 'c') nodes.c.step(m);
    const late = nodes.c.ready();
    nodes.c.advance(late);
    for (const m of late.messages) nodes.a.step(m);
    expect(nodes.a.ready().readStates?.map((r) => r.id)).toEqual([2]);
  });

  it('refuses on a follower, and on a new leader before an entry of its term commits', () => {
    const nodes = cluster();
    expect(nodes.b.readIndex(1)).toBe(false);
    // c is elected in term 2 with a's messages lost, and has not yet committed its noop.
    const dropA = (m: Message) => m.from === 'a' || m.to === 'a';
    for (let i = 0; i < 100 && nodes.c.status().role !== 'leader'; i++) {
      nodes.c.tick();
      nodes.b.tick();
      if (nodes.c.status().role === 'leader') break;
      settle(nodes, (m) => dropA(m) || (m.type === 'AppendResponse' && m.to === 'c'));
    }
    const rd = nodes.c.ready();
    nodes.c.advance(rd);
    expect(nodes.c.status()).toMatchObject({ role: 'leader', term: 2 });
    expect(nodes.c.readIndex(1)).toBe(false);
    for (const m of rd.messages) if (!dropA(m)) nodes[m.to as 'b'].step(m);
    // Its next heartbeat's answer commits the noop.
    nodes.c.tick();
    nodes.c.tick();
    settle(nodes, dropA);
    expect(nodes.c.status().commit).toBe(nodes.c.status().lastIndex);
    expect(nodes.c.readIndex(1)).toBe(true);
  });

  it('a deposed leader cut off from the majority never confirms a read: it is aborted, and the new leader serves the new write', () => {
    const nodes = cluster();
    const cutA = (m: Message) => m.from === 'a' || m.to === 'a';
    // b and c elect c in term 2 and commit w, while a still believes it leads term 1.
    for (let i = 0; i < 100 && nodes.c.status().role !== 'leader'; i++) {
      nodes.c.tick();
      nodes.b.tick();
      settle(nodes, cutA);
    }
    expect(nodes.c.status()).toMatchObject({ role: 'leader', term: 2 });
    nodes.c.propose(['w']);
    settle(nodes, cutA);
    expect(nodes.a.status()).toMatchObject({ role: 'leader', term: 1 });
    // The stale leader takes the read (its own commit index is of its term) but cannot confirm it.
    expect(nodes.a.readIndex(1)).toBe(true);
    let reads = settleReads(nodes, cutA);
    expect(reads.confirmed.a ?? []).toEqual([]);
    // The partition heals: the answers a gets now carry term 2, so it steps down and the read is aborted.
    nodes.a.tick();
    nodes.a.tick();
    reads = settleReads(nodes);
    expect(reads.confirmed.a ?? []).toEqual([]);
    expect(reads.aborted.a).toEqual([1]);
    expect(nodes.a.status().role).toBe('follower');
    // The new leader's read covers w.
    expect(nodes.c.readIndex(2)).toBe(true);
    reads = settleReads(nodes);
    const wIndex = [...Array(nodes.c.status().lastIndex).keys()].map((i) => i + 1).find((i) => nodes.c.entryAt(i)?.data === 'w')!;
    expect(reads.confirmed.c).toEqual([{ id: 2, index: expect.any(Number) }]);
    expect(reads.confirmed.c[0].index).toBeGreaterThanOrEqual(wIndex);
  });

  it('a leader cut off for good aborts its pending reads when CheckQuorum steps it down', () => {
    const nodes = cluster();
    expect(nodes.a.readIndex(1)).toBe(true);
    const aborted: number[] = [];
    for (let i = 0; i < 25; i++) {
      nodes.a.tick();
      const rd = nodes.a.ready();
      expect(rd.readStates).toBeUndefined();
      aborted.push(...(rd.abortedReads ?? []));
      nodes.a.advance(rd);
    }
    expect(nodes.a.status().role).toBe('follower');
    expect(aborted).toEqual([1]);
  });

  it('a single-node cluster confirms at once', () => {
    const solo = new RaftNode(
      { id: 'a', peers: ['a'], electionTicks: 10, heartbeatTicks: 2, random: seededRandom(1), preVote: true, checkQuorum: true },
      { hardState: { term: 0, vote: null, commit: 0 }, entries: [] },
    );
    for (let i = 0; i < 30 && !solo.isServingLeader(); i++) {
      solo.tick();
      solo.advance(solo.ready());
    }
    expect(solo.readIndex(5)).toBe(true);
    expect(solo.ready().readStates).toEqual([{ id: 5, index: solo.status().commit }]);
  });
});

describe('restart', () => {
  it('keeps term, vote and log across a restart and re-applies the committed log', () => {
    const nodes = { a: makeNode('a', 1), b: makeNode('b', 2), c: makeNode('c', 3) };
    tickUntilLeader(nodes, 'a');
    nodes.a.propose(['o1']);
    settle(nodes);
    // b learns that o1 committed from the next heartbeat.
    nodes.a.tick();
    nodes.a.tick();
    settle(nodes);
    const b = nodes.b.status();
    const entries = [1, 2].map((i) => nodes.b.entryAt(i)!);
    const restarted = new RaftNode(
      { id: 'b', peers: ids, electionTicks: 10, heartbeatTicks: 2, random: seededRandom(9), preVote: true, checkQuorum: true },
      { hardState: { term: b.term, vote: b.vote, commit: b.commit }, entries },
    );
    expect(restarted.status()).toMatchObject({ term: 1, vote: 'a', commit: 2, applied: 0 });
    expect(restarted.ready().committed.map((e) => e.data ?? e.type)).toEqual(['noop', 'o1']);
  });
});

describe('§5.4.2 committing entries from previous terms (the paper’s Figure 8)', () => {
  const config = (id: string, seed: number) => ({
    id,
    peers: ids,
    electionTicks: 10,
    heartbeatTicks: 2,
    random: seededRandom(seed),
    preVote: true,
    checkQuorum: false,
    maxEntriesPerMessage: 1,
  });
  /** A crash and restart: a fresh node from what was persisted (we persist every Ready in these tests). */
  const restart = (node: RaftNode, seed: number) => {
    const s = node.status();
    const entries = Array.from({ length: s.lastIndex }, (_, i) => node.entryAt(i + 1)!);
    return new RaftNode(config(s.id, seed), { hardState: { term: s.term, vote: s.vote, commit: s.commit }, entries });
  };

  it('never commits an old-term entry by counting replicas; only through an entry of the current term', () => {
    const nodes: Record<string, RaftNode> = {
      a: new RaftNode(config('a', 1), { hardState: { term: 0, vote: null, commit: 0 }, entries: [] }),
      b: new RaftNode(config('b', 2), { hardState: { term: 0, vote: null, commit: 0 }, entries: [] }),
      c: new RaftNode(config('c', 3), { hardState: { term: 0, vote: null, commit: 0 }, entries: [] }),
    };
    tickUntilLeader(nodes, 'a');
    nodes.a.tick();
    nodes.a.tick();
    settle(nodes); // everyone has and commits the term-1 noop at index 1
    expect(nodes.c.status().commit).toBe(1);

    // a appends X at index 2 (term 1) but crashes before any follower gets it.
    nodes.a.propose(['X']);
    settle(nodes, (m) => m.from === 'a');
    const termOfX = nodes.a.entryAt(2)!.term;

    // b becomes leader of a later term with c's vote, appends its noop at index 2, and crashes at once.
    const down = new Set(['a']);
    const isolated = (m: Message) => down.has(m.from) || down.has(m.to);
    for (let i = 0; i < 100 && nodes.b.status().role !== 'leader'; i++) {
      nodes.b.tick();
      settle(nodes, (m) => isolated(m) || (m.from === 'b' && m.type === 'Append'));
    }
    expect(nodes.b.status().role).toBe('leader');
    const termOfB = nodes.b.status().term;
    expect(nodes.b.entryAt(2)!.term).toBe(termOfB);
    down.add('b');
    settle(nodes, isolated);
    expect(nodes.c.entryAt(2)).toBeUndefined();

    // a restarts and wins a newer term (its log, ending with X, is more up to date than c's).
    nodes.a = restart(nodes.a, 11);
    down.delete('a');
    // Replication reaches c one entry at a time, and everything from index 3 on (a's own noop) is lost.
    const withoutNoop = (m: Message) => isolated(m) || (m.type === 'Append' && (m.entries ?? []).some((e) => e.index >= 3));
    for (let i = 0; i < 100 && nodes.a.status().role !== 'leader'; i++) {
      nodes.a.tick();
      settle(nodes, withoutNoop);
    }
    expect(nodes.a.status().role).toBe('leader');
    for (let i = 0; i < 4; i++) {
      nodes.a.tick();
      settle(nodes, withoutNoop);
    }
    expect(nodes.a.status().term).toBeGreaterThan(termOfB);

    // X now sits on a majority (a and c), but it is from an old term: it must not be committed yet,
    // for b (whose index 2 is from a newer term than X) could still win an election and overwrite it.
    expect(nodes.c.entryAt(2)?.term).toBe(termOfX);
    expect(nodes.a.status().commit).toBe(1);

    // Once a's own noop (index 3, current term) reaches c, index 3 commits, and X with it.
    nodes.a.tick();
    nodes.a.tick();
    settle(nodes, isolated);
    expect(nodes.a.status().commit).toBe(3);
    expect(nodes.a.entryAt(2)!.data).toBe('X');
  });
});

describe('a follower whose data was wiped', () => {
  it('is brought back from an empty log, although it had acknowledged entries', () => {
    const nodes: Record<string, RaftNode> = { a: makeNode('a', 1), b: makeNode('b', 2), c: makeNode('c', 3) };
    tickUntilLeader(nodes, 'a');
    nodes.a.propose(['o1']);
    settle(nodes);
    expect(nodes.a.status().progress.c.match).toBe(2);
    // c restarts with nothing: the leader must not wait forever for it to confirm entry 2 again.
    nodes.c = makeNode('c', 4);
    nodes.a.propose(['o2']);
    for (let t = 0; t < 6; t++) {
      nodes.a.tick();
      settle(nodes);
    }
    expect([1, 2, 3].map((i) => nodes.c.entryAt(i)?.data ?? nodes.c.entryAt(i)?.type)).toEqual(['noop', 'o1', 'o2']);
    expect(nodes.a.status().progress.c.match).toBe(3);
  });
});

describe('§7 log compaction and InstallSnapshot', () => {
  /** a leads b and c, with `orders` committed and applied everywhere. */
  function clusterWith(orders: string[]) {
    const nodes = { a: makeNode('a', 1), b: makeNode('b', 2), c: makeNode('c', 3) };
    tickUntilLeader(nodes, 'a');
    nodes.a.propose(orders);
    nodes.a.tick();
    nodes.a.tick();
    settle(nodes);
    return nodes;
  }

  it('a compacted log keeps serving: the snapshot stands for its prefix, later entries replicate as before', () => {
    const nodes = clusterWith(['o1', 'o2']);
    const { applied } = nodes.a.status();
    const { snapshot, tail } = nodes.a.compact(applied, 'state@3');
    expect(snapshot).toEqual({ index: 3, term: 1, data: 'state@3' });
    expect(tail).toEqual([]);
    expect(nodes.a.status()).toMatchObject({ snapshotIndex: 3, lastIndex: 3 });
    expect(nodes.a.entryAt(3)).toBeUndefined();
    expect(nodes.a.termAt(3)).toBe(1);
    nodes.a.propose(['o3']);
    settle(nodes);
    expect(nodes.b.entryAt(4)?.data).toBe('o3');
    expect(nodes.a.isServingLeader()).toBe(true);
  });

  it('refuses to compact past what the state machine has applied', () => {
    const nodes = clusterWith(['o1']);
    expect(() => nodes.a.compact(nodes.a.status().applied + 1, 'x')).toThrow(/only \d+ is applied/);
  });

  it('a follower missing compacted entries gets the snapshot, restores from it, then takes the entries after it', () => {
    const nodes = clusterWith(['o1']);
    // c falls behind while a and b commit more, then a compacts past everything c lacks.
    const cut = (m: Message) => m.to === 'c' || m.from === 'c';
    nodes.a.propose(['o2', 'o3']);
    settle(nodes, cut);
    nodes.a.compact(nodes.a.status().applied, 'state@4');
    nodes.a.propose(['o4']);
    settle(nodes, cut);
    const sent = settle(nodes);
    nodes.a.tick();
    nodes.a.tick();
    const heartbeat = settle(nodes);
    const snapshots = [...sent, ...heartbeat].filter((m) => m.type === 'Snapshot');
    expect(snapshots.map((m) => [m.to, m.snapshot?.index])).toEqual([['c', 4]]);
    // c's Ready carried the snapshot to persist and restore from, then the entry after it.
    expect(nodes.c.status()).toMatchObject({ snapshotIndex: 4, commit: 5, applied: 5, lastIndex: 5 });
    expect(nodes.c.entryAt(5)?.data).toBe('o4');
  });

  it('hands the caller the snapshot in a Ready, with only the entries after it to apply', () => {
    const follower = makeNode('c', 3);
    follower.step({ type: 'Snapshot', from: 'a', to: 'c', term: 2, snapshot: { index: 10, term: 2, data: 'S' }, commit: 10 });
    const rd = follower.ready();
    expect(rd.snapshot).toEqual({ index: 10, term: 2, data: 'S' });
    expect(rd.committed).toEqual([]);
    expect(rd.hardState).toMatchObject({ term: 2, commit: 10 });
    expect(rd.messages).toEqual([expect.objectContaining({ type: 'AppendResponse', to: 'a', index: 10 })]);
    follower.advance(rd);
    expect(follower.status()).toMatchObject({ applied: 10, commit: 10, snapshotIndex: 10, leader: 'a' });
  });

  it('a snapshot whose last entry the follower already holds only moves its commit index', () => {
    const nodes = clusterWith(['o1', 'o2']);
    const before = nodes.b.status();
    nodes.b.step({ type: 'Snapshot', from: 'a', to: 'b', term: 1, snapshot: { index: 3, term: 1, data: 'S' }, commit: 3 });
    const rd = nodes.b.ready();
    expect(rd.snapshot).toBeUndefined();
    expect(nodes.b.status()).toMatchObject({ snapshotIndex: 0, lastIndex: before.lastIndex });
  });

  it('sends a snapshot once per election timeout, not with every heartbeat', () => {
    const nodes = clusterWith(['o1']);
    nodes.a.propose(['o2']);
    settle(nodes, (m) => m.to === 'c' || m.from === 'c');
    nodes.a.compact(nodes.a.status().applied, 'S');
    // The snapshot never arrives, so c keeps answering heartbeats with rejections.
    const lost = (m: Message) => m.type === 'Snapshot';
    const snapshotsToC = (ticks: number, elapsed = 1) => {
      let n = 0;
      for (let t = 0; t < ticks; t++) {
        nodes.a.tick(elapsed);
        n += settle(nodes, lost).filter((m) => m.type === 'Snapshot' && m.to === 'c').length;
      }
      return n;
    };
    expect(snapshotsToC(9)).toBe(1);
    expect(snapshotsToC(10)).toBe(1);
    // Late ticks (a held-up leader) do not resend it sooner: its answer may be waiting unread.
    expect(snapshotsToC(10, 50)).toBe(1);
  });

  it('restarts from a snapshot and the entries after it, re-applying only those', () => {
    const restarted = new RaftNode(
      { id: 'b', peers: ids, electionTicks: 10, heartbeatTicks: 2, random: seededRandom(9), preVote: true, checkQuorum: true },
      {
        hardState: { term: 2, vote: 'a', commit: 12 },
        snapshot: { index: 10, term: 2, data: 'S' },
        entries: [11, 12, 13].map((index) => ({ term: 2, index, type: 'command' as const, data: `o${index}` })),
      },
    );
    expect(restarted.status()).toMatchObject({ snapshotIndex: 10, applied: 10, commit: 12, lastIndex: 13 });
    expect(restarted.ready().committed.map((e) => e.data)).toEqual(['o11', 'o12']);
  });
});
