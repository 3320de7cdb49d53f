import { RaftLog } from './log';
import { majorityMatch, quorum, tally } from './quorum';
import type { Entry, HardState, Message, NodeId, RaftConfig, Ready, ReadState, Role, Snapshot, Storage } from './types';

/** Rejections below a follower's acknowledged index, in a row, after which the leader believes it lost its data. */
const LOST_DATA_REJECTIONS = 3;

interface Progress {
  /** Highest index known to be replicated on the follower. */
  match: number;
  /** Next index to send. */
  next: number;
  /** Heard from since the last CheckQuorum round. */
  recentActive: boolean;
  /** Rejections in a row saying the follower lacks entries it had acknowledged. */
  rejectedBelowMatch: number;
  /** A snapshot is on its way to this follower: its index, and the tick it was sent at. */
  snapshotSent?: { index: number; at: number };
  /** The tick the last Append went to it: a heartbeat is due only after heartbeatTicks without one. */
  lastAppendAt: number;
  /** The highest read context it echoed: it took us for its leader after every read up to that context. */
  readAck: number;
}

export interface RaftStatus {
  id: NodeId;
  role: Role;
  term: number;
  leader: NodeId | null;
  vote: NodeId | null;
  commit: number;
  applied: number;
  lastIndex: number;
  /** Last index covered by this node's latest snapshot (0: never compacted). */
  snapshotIndex: number;
  /** Per follower (leader only). */
  progress: Record<NodeId, { match: number; next: number }>;
}

/** What the node decided, for the caller's logs, spans and metrics. */
export type RaftEvent =
  | { type: 'election-started'; term: number; preVote: boolean }
  | { type: 'vote-cast'; term: number; candidate: NodeId; granted: boolean; preVote: boolean }
  | { type: 'became-leader'; term: number; votes: { granted: NodeId[]; denied: NodeId[] } }
  | { type: 'election-lost'; term: number; preVote: boolean; votes: { granted: NodeId[]; denied: NodeId[] } }
  | { type: 'stepped-down'; term: number; reason: string }
  | { type: 'leader-changed'; term: number; leader: NodeId | null }
  /** The transport lost the leader's connection (see leaderUnreachable): this follower campaigns soon, in its turn. */
  | { type: 'leader-unreachable'; term: number; leader: NodeId };

/**
 * A Raft node as a pure state machine, after etcd's raft: `tick()` advances
 * logical time, `step(message)` handles a message, `propose(data)` appends a
 * command; none of them does I/O. The caller collects the resulting work with
 * `ready()` (persist, send, apply) and confirms it with `advance()`.
 *
 * Includes PreVote (§9.6 of Ongaro's thesis) so a node that was partitioned away
 * cannot bump the term and depose a healthy leader when it returns, and
 * CheckQuorum so a leader cut off from a majority steps down.
 */
export class RaftNode {
  readonly id: NodeId;
  private readonly peers: NodeId[];
  private readonly log: RaftLog;

  private term: number;
  private vote: NodeId | null;
  private role: Role = 'follower';
  private leader: NodeId | null = null;
  private commit: number;
  private applied: number;
  /** The latest snapshot: what stands for the compacted log prefix, and what a lagging follower is sent. */
  private snapshot: Snapshot | undefined;
  /** A snapshot received from the leader and not yet handed to the caller in a Ready. */
  private pendingSnapshot: Snapshot | undefined;
  /** Tick periods of real time since start (RaftNode.tick's `elapsed`), to pace heartbeats. */
  private ticks = 0;
  /** Ticks since start, one per call, to pace snapshot retransmissions (a wait for an answer, like a timeout). */
  private tickCalls = 0;

  private electionElapsed = 0;
  private randomizedElectionTimeout = 0;
  private votes = new Map<NodeId, boolean>();
  private progress = new Map<NodeId, Progress>();

  /** ReadIndex: the latest read context (every Append carries it), reads awaiting a majority, reads confirmed. */
  private readContext = 0;
  private pendingReads: { id: number; index: number; context: number }[] = [];
  private readStates: ReadState[] = [];
  private abortedReads: number[] = [];

  private messages: Message[] = [];
  private events: RaftEvent[] = [];
  private persistedHardState: HardState;
  private softStateChanged = false;

  constructor(
    private readonly config: RaftConfig,
    storage: Storage,
  ) {
    this.id = config.id;
    this.peers = config.peers.filter((p) => p !== config.id);
    this.snapshot = storage.snapshot;
    this.log = new RaftLog(storage.entries, storage.snapshot);
    this.term = storage.hardState.term;
    this.vote = storage.hardState.vote;
    // The caller restores its state machine from the snapshot before replaying the committed entries after it.
    this.applied = this.log.snapshotIndex;
    this.commit = Math.max(this.applied, Math.min(storage.hardState.commit, this.log.lastIndex));
    this.persistedHardState = { ...storage.hardState };
    this.resetElectionTimer();
  }

  // ---------------------------------------------------------------- inputs

  /**
   * One tick of the caller's timer. `elapsed` is how many tick periods of real time it stands for (more than one
   * when the timer ran late, its process busy). The two clocks it drives differ on purpose:
   * - what this node owes others (a leader's heartbeats) counts `elapsed`, so a busy leader still heartbeats on
   *   time: its timer fired every 25–50 ms in a burst of 3,000 orders, so four ticks came to 100–200 ms of silence,
   *   and followers started pre-votes;
   * - whatever waits for an answer (a follower's election timeout, a leader's CheckQuorum, a snapshot's resend)
   *   counts one per call, so a process that was itself held up does not count the messages still waiting for it
   *   as missing.
   */
  tick(elapsed = 1): void {
    if (!Number.isSafeInteger(elapsed) || elapsed < 1) throw new Error(`tick of ${elapsed} periods`);
    this.ticks += elapsed;
    this.tickCalls++;
    if (this.role === 'leader') this.tickLeader();
    else this.tickElection();
  }

  /**
   * The transport's connection to `peer` failed with an error (reset or refused): what a crashed process causes, and
   * a slow one does not. If `peer` is our leader, we stop deferring to it: its lease ends (we grant others' votes)
   * and we campaign soon rather than after a whole election timeout, so a crash is followed by an election at once
   * while a slow leader keeps the longer timeout. Harmless when wrong: pre-vote asks first, a follower still hearing
   * the leader refuses, and the leader's next Append makes it ours again.
   *
   * When is "soon"? Every survivor loses the same connection at the same moment; if two campaigned together, each
   * would vote for itself, split the vote, and wait out a whole timeout. So they take turns by id: the first of the
   * survivors campaigns within 2 ticks, the next half an election timeout later (when the first could not win, its
   * log being behind, its pre-vote fails without raising anyone's term), and so on.
   */
  leaderUnreachable(peer: NodeId): void {
    if (this.role !== 'follower' || this.leader !== peer) return;
    this.events.push({ type: 'leader-unreachable', term: this.term, leader: peer });
    this.setLeader(null);
    const rank = this.config.peers.filter((p) => p !== peer).sort().indexOf(this.id);
    const turn = Math.ceil(this.config.electionTicks / 2);
    const wait = Math.min(rank * turn + Math.floor(this.config.random() * 2), this.randomizedElectionTimeout - 1);
    this.electionElapsed = Math.max(this.electionElapsed, this.randomizedElectionTimeout - 1 - wait);
  }

  /** Appends commands to the log if this node leads; returns their indexes, or undefined if it does not. */
  propose(commands: readonly string[]): number[] | undefined {
    if (this.role !== 'leader') return undefined;
    const indexes = commands.map((data) => {
      const entry: Entry = { term: this.term, index: this.log.lastIndex + 1, type: 'command', data };
      this.log.append(entry);
      return entry.index;
    });
    this.maybeCommit();
    this.broadcastAppend();
    return indexes;
  }

  /**
   * ReadIndex (§6.4 of Ongaro's thesis): a linearizable read without a log entry. The leader records its commit
   * index, then confirms it still leads with a round of Appends carrying a new read context; once a majority has
   * echoed that context, the read comes out of ready() as a ReadState, to be served when the state machine has
   * applied its index. Returns false, recording nothing, unless this node leads and has committed an entry of its
   * own term (before that its commit index may lag what earlier leaders committed, §5.4.2): the caller waits and
   * asks again, or asks the leader. Reads still pending when the node stops leading come out as abortedReads.
   */
  readIndex(id: number): boolean {
    if (this.role !== 'leader' || this.log.termAt(this.commit) !== this.term) return false;
    const read = { id, index: this.commit, context: ++this.readContext };
    if (quorum(this.config.peers.length) === 1) {
      this.readStates.push({ id, index: read.index });
      return true;
    }
    this.pendingReads.push(read);
    this.broadcastAppend();
    return true;
  }

  step(m: Message): void {
    if (m.to !== this.id) return;
    if (m.term > this.term) {
      if ((m.type === 'Vote' || m.type === 'PreVote') && this.inLeaderLease()) {
        // CheckQuorum's lease: we heard from a live leader within the election timeout,
        // so this candidate is disruptive (e.g. just back from a partition). Ignore it.
        return;
      }
      if (m.type === 'PreVote' || (m.type === 'PreVoteResponse' && !m.reject)) {
        // A pre-vote never changes anybody's term.
      } else {
        const leader = m.type === 'Append' || m.type === 'Snapshot' ? m.from : null;
        this.becomeFollower(m.term, leader, `saw term ${m.term} from ${m.from}`);
      }
    } else if (m.term < this.term) {
      if (m.type === 'Append' || m.type === 'Snapshot') {
        // A stale leader: tell it our term so it steps down (needed with CheckQuorum/PreVote,
        // where it would otherwise never hear a higher term).
        this.send({ type: 'AppendResponse', to: m.from, term: this.term, index: 0, reject: true, rejectHint: 0 });
      } else if (m.type === 'PreVote') {
        this.send({ type: 'PreVoteResponse', to: m.from, term: this.term, reject: true });
      }
      return;
    }

    switch (m.type) {
      case 'PreVote':
      case 'Vote':
        this.handleVoteRequest(m);
        return;
      case 'PreVoteResponse':
        if (this.role === 'pre-candidate') this.handleVoteResponse(m, true);
        return;
      case 'VoteResponse':
        if (this.role === 'candidate') this.handleVoteResponse(m, false);
        return;
      case 'Append':
      case 'Snapshot':
        if (this.role === 'leader') return; // impossible in a correct cluster: one leader per term
        if (this.role !== 'follower') this.becomeFollower(m.term, m.from, `heard leader ${m.from} of term ${m.term}`);
        this.electionElapsed = 0;
        this.setLeader(m.from);
        if (m.type === 'Append') this.handleAppend(m);
        else this.handleSnapshot(m);
        return;
      case 'AppendResponse':
        if (this.role === 'leader') this.handleAppendResponse(m);
        return;
    }
  }

  // ---------------------------------------------------------------- outputs

  hasReady(): boolean {
    return (
      this.pendingSnapshot !== undefined ||
      this.messages.length > 0 ||
      this.readStates.length > 0 ||
      this.abortedReads.length > 0 ||
      this.log.unstable().length > 0 ||
      this.commit > this.applied ||
      this.softStateChanged ||
      !sameHardState(this.hardState(), this.persistedHardState)
    );
  }

  ready(): Ready {
    const hs = this.hardState();
    const snapshot = this.pendingSnapshot;
    // After a snapshot the state machine starts from its index; nothing before it is applied one by one.
    const applyFrom = Math.max(this.applied, snapshot?.index ?? 0) + 1;
    const rd: Ready = {
      hardState: sameHardState(hs, this.persistedHardState) ? undefined : hs,
      entries: this.log.unstable(),
      messages: this.messages,
      committed: applyFrom <= this.commit ? this.log.slice(applyFrom, this.commit) : [],
      softStateChanged: this.softStateChanged,
    };
    if (snapshot) rd.snapshot = snapshot;
    if (this.readStates.length > 0) rd.readStates = this.readStates;
    if (this.abortedReads.length > 0) rd.abortedReads = this.abortedReads;
    this.readStates = [];
    this.abortedReads = [];
    this.pendingSnapshot = undefined;
    this.messages = [];
    this.softStateChanged = false;
    return rd;
  }

  advance(rd: Ready): void {
    if (rd.hardState) this.persistedHardState = rd.hardState;
    if (rd.snapshot) this.applied = Math.max(this.applied, rd.snapshot.index);
    const last = rd.entries.at(-1);
    if (last) this.log.markStable(last);
    const lastApplied = rd.committed.at(-1);
    if (lastApplied) this.applied = Math.max(this.applied, lastApplied.index);
  }

  /**
   * The snapshot `data` stands for, as of applied entry `index` (its term from the log), without compacting: a
   * caller may write it out first and compact() once it is durable. Throws if the index is not applied yet, or
   * already compacted.
   */
  snapshotAt(index: number, data: string): Snapshot {
    if (index > this.applied) throw new Error(`compact to ${index}: only ${this.applied} is applied`);
    if (index <= this.log.snapshotIndex) throw new Error(`compact to ${index}: already compacted to ${this.log.snapshotIndex}`);
    return { index, term: this.log.termAt(index)!, data };
  }

  /**
   * The caller has applied everything up to `index` and captured its state
   * machine there as `data`: the log before it is dropped (§7). Returns the
   * snapshot, with the hard state already on disk and the entries after it that
   * are too, which is what the caller's compacted storage must hold.
   */
  compact(index: number, data: string): { snapshot: Snapshot; hardState: HardState; tail: Entry[] } {
    const snapshot = this.snapshotAt(index, data);
    this.log.compact(index);
    this.snapshot = snapshot;
    return { snapshot, hardState: { ...this.persistedHardState }, tail: this.log.stableAfter(index) };
  }

  /** Decisions since the last call (elections, votes, leadership), for logs, spans and metrics. */
  drainEvents(): RaftEvent[] {
    const events = this.events;
    this.events = [];
    return events;
  }

  status(): RaftStatus {
    return {
      id: this.id,
      role: this.role,
      term: this.term,
      leader: this.leader,
      vote: this.vote,
      commit: this.commit,
      applied: this.applied,
      lastIndex: this.log.lastIndex,
      snapshotIndex: this.log.snapshotIndex,
      progress: Object.fromEntries([...this.progress].map(([id, p]) => [id, { match: p.match, next: p.next }])),
    };
  }

  /** The entry at an index, for checks in tests and for status pages. */
  entryAt(index: number): Entry | undefined {
    return this.log.entry(index);
  }

  /** The term of the entry at an index, also at the snapshot's index (undefined below it: compacted). */
  termAt(index: number): number | undefined {
    return this.log.termAt(index);
  }

  /** True when this node leads and has applied an entry of its own term: its state machine is then complete (§5.4.2, §8). */
  isServingLeader(): boolean {
    return this.role === 'leader' && this.log.termAt(this.applied) === this.term;
  }

  // ---------------------------------------------------------------- timers

  private tickElection(): void {
    this.electionElapsed++;
    if (this.electionElapsed >= this.randomizedElectionTimeout) {
      this.electionElapsed = 0;
      this.campaign(this.config.preVote);
    }
  }

  private tickLeader(): void {
    this.electionElapsed++;
    if (this.electionElapsed >= this.config.electionTicks) {
      this.electionElapsed = 0;
      if (this.config.checkQuorum) {
        const active = 1 + [...this.progress.values()].filter((p) => p.recentActive).length;
        if (active < quorum(this.config.peers.length)) {
          this.becomeFollower(this.term, null, 'lost contact with a majority (CheckQuorum)');
          return;
        }
        for (const p of this.progress.values()) p.recentActive = false;
      }
    }
    // Heartbeats only to followers that have heard nothing for heartbeatTicks: while appends flow, they are the
    // heartbeats (each carries the commit index), and the cluster does not pay for both.
    for (const [to, pr] of this.progress) {
      if (this.ticks - pr.lastAppendAt >= this.config.heartbeatTicks) this.sendAppend(to);
    }
  }

  private inLeaderLease(): boolean {
    return this.config.checkQuorum && this.leader !== null && this.electionElapsed < this.config.electionTicks;
  }

  private resetElectionTimer(): void {
    this.electionElapsed = 0;
    const n = this.config.electionTicks;
    this.randomizedElectionTimeout = n + Math.floor(this.config.random() * n);
  }

  // ---------------------------------------------------------------- roles

  private becomeFollower(term: number, leader: NodeId | null, reason: string): void {
    const wasLeader = this.role === 'leader';
    if (term > this.term) {
      this.term = term;
      this.vote = null;
    }
    this.role = 'follower';
    this.setLeader(leader);
    this.votes.clear();
    this.progress.clear();
    for (const read of this.pendingReads) this.abortedReads.push(read.id);
    this.pendingReads = [];
    this.resetElectionTimer();
    this.softStateChanged = true;
    if (wasLeader) this.events.push({ type: 'stepped-down', term: this.term, reason });
  }

  /** Seed step 3–5: become (pre-)candidate, vote for yourself, ask everyone else. */
  private campaign(preVote: boolean): void {
    this.votes = new Map([[this.id, true]]);
    this.setLeader(null);
    this.resetElectionTimer();
    this.softStateChanged = true;
    let term: number;
    if (preVote) {
      this.role = 'pre-candidate';
      term = this.term + 1; // the term we would campaign in; not adopted yet
    } else {
      this.role = 'candidate';
      this.term += 1;
      this.vote = this.id;
      term = this.term;
    }
    this.events.push({ type: 'election-started', term, preVote });
    if (tally(this.votes, this.config.peers.length) === 'won') {
      this.onElectionWon(preVote);
      return;
    }
    for (const to of this.peers) {
      this.send({ type: preVote ? 'PreVote' : 'Vote', to, term, logTerm: this.log.lastTerm, index: this.log.lastIndex });
    }
  }

  private becomeLeader(): void {
    this.role = 'leader';
    this.setLeader(this.id);
    this.electionElapsed = 0;
    this.softStateChanged = true;
    this.progress = new Map(this.peers.map((p) => [p, { match: 0, next: this.log.lastIndex + 1, recentActive: true, rejectedBelowMatch: 0, lastAppendAt: this.ticks, readAck: 0 }]));
    // Entries of earlier terms commit only once an entry of our own term does (§5.4.2).
    this.log.append({ term: this.term, index: this.log.lastIndex + 1, type: 'noop' });
    this.maybeCommit();
    this.broadcastAppend();
  }

  private setLeader(leader: NodeId | null): void {
    if (leader !== this.leader) {
      this.leader = leader;
      this.softStateChanged = true;
      this.events.push({ type: 'leader-changed', term: this.term, leader });
    }
  }

  // ---------------------------------------------------------------- elections

  /** Seed step 6: vote for a candidate if we have not voted for another this term and its log is up to date. */
  private handleVoteRequest(m: Message): void {
    const preVote = m.type === 'PreVote';
    const canVote =
      this.vote === m.from ||
      (this.vote === null && this.leader === null) ||
      (preVote && m.term > this.term);
    const granted = canVote && this.log.isUpToDate(m.logTerm ?? 0, m.index ?? 0);
    const type = preVote ? 'PreVoteResponse' : 'VoteResponse';
    if (granted) {
      // Respond in the candidate's term: for a pre-vote it is the term it would campaign in.
      this.send({ type, to: m.from, term: m.term, reject: false });
      if (!preVote) {
        this.vote = m.from;
        this.electionElapsed = 0;
      }
    } else {
      this.send({ type, to: m.from, term: this.term, reject: true });
    }
    this.events.push({ type: 'vote-cast', term: m.term, candidate: m.from, granted, preVote });
  }

  /** Seed step 7: a majority of votes makes the candidate leader. */
  private handleVoteResponse(m: Message, preVote: boolean): void {
    this.votes.set(m.from, !m.reject);
    const outcome = tally(this.votes, this.config.peers.length);
    if (outcome === 'won') this.onElectionWon(preVote);
    else if (outcome === 'lost') {
      this.events.push({ type: 'election-lost', term: preVote ? this.term + 1 : this.term, preVote, votes: this.voteLists() });
      this.becomeFollower(this.term, null, 'lost the election');
    }
  }

  private onElectionWon(preVote: boolean): void {
    if (preVote) {
      this.campaign(false);
    } else {
      this.events.push({ type: 'became-leader', term: this.term, votes: this.voteLists() });
      this.becomeLeader();
    }
  }

  private voteLists() {
    const granted = [...this.votes].filter(([, g]) => g).map(([id]) => id);
    const denied = [...this.votes].filter(([, g]) => !g).map(([id]) => id);
    return { granted, denied };
  }

  // ---------------------------------------------------------------- replication

  private broadcastAppend(): void {
    for (const to of this.peers) this.sendAppend(to);
  }

  private sendAppend(to: NodeId): void {
    const pr = this.progress.get(to);
    if (!pr) return;
    const prevIndex = pr.next - 1;
    if (prevIndex < this.log.snapshotIndex) {
      this.sendSnapshot(to, pr);
      return;
    }
    const entries = this.log.slice(pr.next, this.log.lastIndex, this.config.maxEntriesPerMessage ?? 256);
    this.send({
      type: 'Append',
      to,
      term: this.term,
      index: prevIndex,
      logTerm: this.log.termAt(prevIndex) ?? 0,
      entries,
      commit: this.commit,
      ...(this.readContext > 0 ? { context: this.readContext } : {}),
    });
    pr.lastAppendAt = this.ticks;
    // Optimistically pipeline: the next message carries what follows.
    if (entries.length > 0) pr.next = entries[entries.length - 1].index + 1;
  }

  /**
   * The entries this follower needs are compacted away: send the snapshot instead
   * (§7). A snapshot can be large, so it is not sent again with every heartbeat:
   * only once it is answered, or after an election timeout without an answer.
   */
  private sendSnapshot(to: NodeId, pr: Progress): void {
    const snapshot = this.snapshot!;
    const sent = pr.snapshotSent;
    if (sent && sent.index === snapshot.index && this.tickCalls - sent.at < this.config.electionTicks) return;
    pr.snapshotSent = { index: snapshot.index, at: this.tickCalls };
    this.send({ type: 'Snapshot', to, term: this.term, snapshot, commit: this.commit });
  }

  /**
   * InstallSnapshot (§7). A snapshot at or below our commit index tells us
   * nothing; one whose last entry we hold (same index and term) only moves our
   * commit index; otherwise the log is replaced by it and the caller restores the
   * state machine from it.
   */
  private handleSnapshot(m: Message): void {
    const snapshot = m.snapshot!;
    if (snapshot.index <= this.commit) {
      this.send({ type: 'AppendResponse', to: m.from, term: this.term, index: this.commit });
      return;
    }
    if (this.log.termAt(snapshot.index) !== snapshot.term) {
      this.log.restore(snapshot);
      this.snapshot = snapshot;
      this.pendingSnapshot = snapshot;
    }
    this.commit = snapshot.index;
    this.send({ type: 'AppendResponse', to: m.from, term: this.term, index: snapshot.index });
  }

  /** §5.3: accept entries that extend a matching prefix; drop conflicting suffixes. */
  private handleAppend(m: Message): void {
    const prevIndex = m.index ?? 0;
    const prevTerm = m.logTerm ?? 0;
    // Every answer to an Append echoes its read context: whatever it says of the log, it says we follow this leader.
    const context = m.context ? { context: m.context } : {};
    if (prevIndex < this.commit) {
      // Everything up to our commit index is settled; say how far we are.
      this.send({ type: 'AppendResponse', to: m.from, term: this.term, index: this.commit, ...context });
      return;
    }
    if (this.log.termAt(prevIndex) !== prevTerm) {
      this.send({
        type: 'AppendResponse',
        to: m.from,
        term: this.term,
        index: prevIndex,
        reject: true,
        rejectHint: this.conflictHint(prevIndex),
        ...context,
      });
      return;
    }
    let lastNew = prevIndex;
    for (const entry of m.entries ?? []) {
      const existing = this.log.termAt(entry.index);
      if (existing === undefined) {
        this.log.append(entry);
      } else if (existing !== entry.term) {
        if (entry.index <= this.commit) throw new Error(`leader ${m.from} conflicts with committed entry ${entry.index}`);
        this.log.truncateFrom(entry.index);
        this.log.append(entry);
      }
      lastNew = entry.index;
    }
    const leaderCommit = m.commit ?? 0;
    if (leaderCommit > this.commit) this.commit = Math.min(leaderCommit, lastNew);
    this.send({ type: 'AppendResponse', to: m.from, term: this.term, index: lastNew, ...context });
  }

  /** Where the leader should retry: past our end, or the first index of the conflicting term. */
  private conflictHint(prevIndex: number): number {
    if (prevIndex > this.log.lastIndex) return this.log.lastIndex + 1;
    const conflictTerm = this.log.termAt(prevIndex);
    let index = prevIndex;
    while (index - 1 > this.commit && this.log.termAt(index - 1) === conflictTerm) index--;
    return index;
  }

  private handleAppendResponse(m: Message): void {
    const pr = this.progress.get(m.from);
    if (!pr) return;
    pr.recentActive = true;
    if (m.context && m.context > pr.readAck) {
      pr.readAck = m.context;
      this.confirmReads();
    }
    const index = m.index ?? 0;
    if (pr.snapshotSent && !m.reject && index >= pr.snapshotSent.index) pr.snapshotSent = undefined;
    if (m.reject) {
      if (index <= pr.match || (m.rejectHint ?? index) <= pr.match) {
        // The follower lacks entries it acknowledged. Usually this is a stale answer to an older probe (we
        // already know it has more). A follower that keeps saying so has really lost them (its data directory
        // was wiped to recover from corruption): start over from nothing. Lowering match never commits
        // anything; at worst it costs resending.
        if (++pr.rejectedBelowMatch < LOST_DATA_REJECTIONS) {
          if (index <= pr.match) return;
        } else {
          pr.match = 0;
          pr.rejectedBelowMatch = 0;
        }
      }
      pr.next = Math.max(pr.match + 1, Math.min(m.rejectHint ?? index, index));
      this.sendAppend(m.from);
      return;
    }
    pr.rejectedBelowMatch = 0;
    if (index > pr.match) {
      pr.match = index;
      // No Append just to carry the new commit index: the followers learn it with the next entries or, at the
      // latest, the next heartbeat. A follower's state machine lags the leader's by up to a heartbeat, which
      // nothing waits for (the leader answers clients, and a new leader commits its own entry first), and each
      // round of replication costs two messages per follower instead of four.
      this.maybeCommit();
    }
    if (pr.next <= pr.match) pr.next = pr.match + 1;
    if (pr.next <= this.log.lastIndex) this.sendAppend(m.from);
  }

  /** Pending reads whose context a majority (this node included) has echoed become ReadStates, in order. */
  private confirmReads(): void {
    const needed = quorum(this.config.peers.length);
    let confirmed = 0;
    for (const read of this.pendingReads) {
      const acks = 1 + [...this.progress.values()].filter((p) => p.readAck >= read.context).length;
      if (acks < needed) break;
      this.readStates.push({ id: read.id, index: read.index });
      confirmed++;
    }
    if (confirmed > 0) this.pendingReads = this.pendingReads.slice(confirmed);
  }

  /** Commit the highest index on a majority, if it is from our term (§5.4.2). */
  private maybeCommit(): void {
    const matches = [this.log.lastIndex, ...[...this.progress.values()].map((p) => p.match)];
    const candidate = majorityMatch(matches);
    if (candidate > this.commit && this.log.termAt(candidate) === this.term) this.commit = candidate;
  }

  // ---------------------------------------------------------------- plumbing

  private send(m: Omit<Message, 'from'>): void {
    this.messages.push({ ...m, from: this.id });
  }

  private hardState(): HardState {
    return { term: this.term, vote: this.vote, commit: this.commit };
  }
}

function sameHardState(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}
