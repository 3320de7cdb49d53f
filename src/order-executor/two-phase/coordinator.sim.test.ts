/**
 * Hundreds of seeded fault schedules against the two-phase-commit coordinator (coordinator.ts), the way
 * src/raft/raft.sim.test.ts runs the Raft core: simulated participants with the proto's semantics (books database:
 * reserve at Prepare, take stock at Commit; payment: hold, capture, void, decline), a simulated executors' log
 * (the real ExecutionLedger, applied from committed entries, sometimes restored from its own snapshot at a
 * failover), the order queue's leases and acks, and a network that delays and loses messages.
 *
 * Faults: the leader crashes at any step (so in every phase of some transaction: before and between the votes,
 * after the decision is proposed with the entry kept or lost, between the two Finishes, before the completion is
 * logged), or is deposed and keeps running for a while, cut off from the log, with its stale term; participants go
 * down (durably prepared state survives) and hold prepared transactions until they ask GetDecision.
 *
 * Checked at every step: a participant gets a Finish only for the decision the log holds; no decision is ever
 * changed (a participant or the log seeing two stops the run); stock never goes negative. After healing: every
 * order is decided and acked, every decision is finished, every participant agrees with the log, nothing stays
 * prepared or held, the stock taken is exactly the committed orders' quantities, money captured exactly for the
 * committed ones, and the ledger replayed from the log equals the live one.
 * A failure names its seed; rerun it with SEED=<n>.
 */
import { seededRandom } from '../../raft/random';
import type { Entry } from '../../raft/types';
import { decodeEntryCommand, ExecutionLedger } from '../execution-ledger';
import { Coordinator, type CoordinatorOptions } from './coordinator';
import { decisionEntry, decisionLogOf, finishedEntry } from './log-entries';
import { booksVote, paymentVote } from './participants';
import type { Decision, Participant, Vote } from './types';

const SCHEDULES = Number(process.env.TWO_PC_SCHEDULES ?? 400);
const STEPS = 400;
const STEP_MS = 10;
const OPTIONS: CoordinatorOptions = { prepareTimeoutMs: 250, retryMs: 100, proposeRetryMs: 300 };
/** A participant holding a prepared transaction this long asks the leader for its decision, then every ASK_EVERY_MS. */
const TERMINATION_MS = 600;
const ASK_EVERY_MS = 200;
const LEASE_MS = 800;
const BOOKS = ['b1', 'b2', 'b3'];
const INITIAL_STOCK = 10;
const DECLINED_TOKEN = 'tok_declined';

interface Faults {
  loss: number;
  maxDelaySteps: number;
  leaderCrash: number;
  participantCrash: number;
}

const FAULTS: Faults = { loss: 0.08, maxDelaySteps: 6, leaderCrash: 0.015, participantCrash: 0.01 };
const CALM: Faults = { loss: 0, maxDelaySteps: 2, leaderCrash: 0, participantCrash: 0 };

class Broken extends Error {}

/** The books database's 2PC semantics, as books_database.proto states them. State is durable: a crash keeps it. */
class BooksSim {
  readonly stock = new Map(BOOKS.map((b) => [b, INITIAL_STOCK]));
  readonly txs = new Map<string, { state: 'prepared' | 'committed' | 'aborted'; items: { bookId: string; quantity: number }[]; since: number; askedAt: number }>();
  highestTerm = 0;
  downUntil = 0;

  private available(bookId: string): number {
    let reserved = 0;
    for (const tx of this.txs.values()) if (tx.state === 'prepared') for (const i of tx.items) if (i.bookId === bookId) reserved += i.quantity;
    return this.stock.get(bookId)! - reserved;
  }

  prepare(txId: string, items: { bookId: string; quantity: number }[], term: number, now: number) {
    if (term < this.highestTerm) return { vote: 'STALE_TERM', bookId: '' };
    this.highestTerm = term;
    const tx = this.txs.get(txId);
    if (tx?.state === 'aborted') return { vote: 'ABORTED', bookId: '' };
    if (tx?.state === 'committed') return { vote: 'COMMITTED', bookId: '' };
    if (tx?.state === 'prepared') return { vote: 'YES', bookId: '' };
    const wanted = new Map<string, number>();
    for (const item of items) {
      if (!this.stock.has(item.bookId)) return { vote: 'UNKNOWN_BOOK', bookId: item.bookId };
      wanted.set(item.bookId, (wanted.get(item.bookId) ?? 0) + item.quantity);
      if (this.available(item.bookId) < wanted.get(item.bookId)!) return { vote: 'OUT_OF_STOCK', bookId: item.bookId };
    }
    this.txs.set(txId, { state: 'prepared', items, since: now, askedAt: 0 });
    return { vote: 'YES', bookId: '' };
  }

  finish(txId: string, commit: boolean): string {
    const tx = this.txs.get(txId);
    if (!tx) {
      if (commit) throw new Broken(`books database: commit of ${txId}, which it never voted yes on`);
      this.txs.set(txId, { state: 'aborted', items: [], since: 0, askedAt: 0 });
      return 'aborted';
    }
    if (tx.state === 'prepared') {
      if (commit) {
        for (const i of tx.items) {
          const left = this.stock.get(i.bookId)! - i.quantity;
          if (left < 0) throw new Broken(`books database: stock of ${i.bookId} went negative`);
          this.stock.set(i.bookId, left);
        }
      }
      tx.state = commit ? 'committed' : 'aborted';
    } else if ((tx.state === 'committed') !== commit) {
      throw new Broken(`books database: ${txId} was ${tx.state}, then told to ${commit ? 'commit' : 'abort'}`);
    }
    return tx.state;
  }
}

/** The payment service's 2PC semantics, as payment.proto states them. */
class PaymentSim {
  readonly txs = new Map<string, { state: 'held' | 'captured' | 'voided' | 'declined'; amount: number; since: number; askedAt: number }>();
  highestTerm = 0;
  downUntil = 0;

  prepare(txId: string, token: string, amount: number, term: number, now: number) {
    if (term < this.highestTerm) return { vote: 'STALE_TERM', message: '' };
    this.highestTerm = term;
    const tx = this.txs.get(txId);
    if (tx?.state === 'voided') return { vote: 'ABORTED', message: '' };
    if (tx?.state === 'declined') return { vote: 'DECLINED', message: 'declined' };
    if (tx) return { vote: 'YES', message: '' };
    if (token === DECLINED_TOKEN) {
      this.txs.set(txId, { state: 'declined', amount, since: now, askedAt: 0 });
      return { vote: 'DECLINED', message: 'declined' };
    }
    this.txs.set(txId, { state: 'held', amount, since: now, askedAt: 0 });
    return { vote: 'YES', message: '' };
  }

  finish(txId: string, commit: boolean): string {
    const tx = this.txs.get(txId);
    if (!tx) {
      if (commit) throw new Broken(`payment: capture of ${txId}, which it never voted yes on`);
      this.txs.set(txId, { state: 'voided', amount: 0, since: 0, askedAt: 0 });
      return 'voided';
    }
    if (tx.state === 'held') tx.state = commit ? 'captured' : 'voided';
    else if (commit !== (tx.state === 'captured')) throw new Broken(`payment: ${txId} was ${tx.state}, then told to ${commit ? 'commit' : 'abort'}`);
    return tx.state;
  }
}

interface SimOrder {
  txId: string;
  items: { name: string; quantity: number }[];
  token: string;
  amountCents: number;
  leaseUntil: number;
  acked: boolean;
}

/** One executor leader's coordinator; a deposed one keeps running (a zombie) until `until`, cut off from the log. */
interface Node {
  id: string;
  term: number;
  core: Coordinator;
  alive: boolean;
  pending: string[];
  until: number;
}

/** Where a crashed leader left each transaction it was driving: the schedules must hit every one. */
const CRASH_POINTS = [
  'before any vote',
  'between the two votes',
  'decided, entry lost',
  'decided, entry kept but not yet applied',
  'decision applied, before any finish acknowledged',
  'between the two finishes',
  'both finished, completion not logged',
] as const;
type CrashPoint = (typeof CRASH_POINTS)[number];

class World {
  now = 0;
  readonly random: () => number;
  readonly log: Entry[] = [];
  ledger = new ExecutionLedger();
  /** The first decision the log holds for each transaction: what every Finish must carry. */
  readonly logged = new Map<string, Decision>();
  readonly books = new BooksSim();
  readonly payment = new PaymentSim();
  readonly orders = new Map<string, SimOrder>();
  leader: Node | undefined;
  zombies: Node[] = [];
  private maxTerm = 0;
  private electionAt = 0;
  private nextOrder = 0;
  private inbox: { at: number; seq: number; run: () => void }[] = [];
  private seq = 0;
  faults: Faults = FAULTS;
  readonly crashPoints = new Map<CrashPoint, number>();
  terminations = 0;

  constructor(readonly seed: number) {
    this.random = seededRandom(seed);
  }

  private pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.random() * xs.length)];
  }

  private send(run: () => void): void {
    if (this.random() < this.faults.loss) return;
    const delay = 1 + Math.floor(this.random() * this.faults.maxDelaySteps);
    this.inbox.push({ at: this.now + delay * STEP_MS, seq: this.seq++, run });
  }

  private participantUp(p: Participant): boolean {
    return (p === 'books-database' ? this.books : this.payment).downUntil <= this.now;
  }

  /** The world's transport and log for one node's outputs (what two-phase/driver.ts does with real I/O). */
  private process(node: Node): void {
    for (const out of node.core.ready()) {
      switch (out.type) {
        case 'prepare': {
          const order = this.orders.get(out.txId)!;
          this.send(() => {
            if (!this.participantUp(out.participant)) return;
            const vote: Vote =
              out.participant === 'books-database'
                ? booksVote(this.books.prepare(out.txId, order.items.map((i) => ({ bookId: i.name, quantity: i.quantity })), out.term, this.now))
                : paymentVote(this.payment.prepare(out.txId, order.token, order.amountCents, out.term, this.now));
            this.send(() => {
              if (!node.alive) return;
              node.core.voted(out.txId, out.participant, vote, out.term, this.now);
              this.process(node);
            });
          });
          break;
        }
        case 'finish':
          this.send(() => {
            if (!this.participantUp(out.participant)) return;
            this.checkFinish(out.txId, out.commit, `Finish from ${node.id}`);
            const state = out.participant === 'books-database' ? this.books.finish(out.txId, out.commit) : this.payment.finish(out.txId, out.commit);
            this.send(() => {
              if (!node.alive) return;
              node.core.finishAcked(out.txId, out.participant, state, this.now);
              this.process(node);
            });
          });
          break;
        case 'propose-decision': {
          const order = out.presumed ? undefined : this.orders.get(out.txId)!;
          const record = order && { shippingMethod: 'Standard', customerName: 'Sim', maskedCard: '**** 0000', items: order.items, traceparent: '' };
          if (node === this.leader) node.pending.push(decisionEntry(out, node.id, record));
          break;
        }
        case 'propose-finished':
          if (node === this.leader) node.pending.push(finishedEntry(out, node.id));
          break;
      }
    }
  }

  private checkFinish(txId: string, commit: boolean, who: string): void {
    const logged = this.logged.get(txId);
    if (logged === undefined) throw new Broken(`${who}: ${commit ? 'commit' : 'abort'} of ${txId} sent before any decision was logged`);
    if ((logged === 'commit') !== commit) throw new Broken(`${who}: ${commit ? 'commit' : 'abort'} of ${txId}, but the log decided ${logged}`);
  }

  /** The first `count` pending entries of a node commit (Raft commits a prefix); `notify`: the node learns it. */
  private commit(node: Node, count: number, notify: boolean): void {
    const entries = node.pending.splice(0, count);
    for (const data of entries) {
      const entry: Entry = { term: node.term, index: this.log.length + 1, type: 'command', data };
      this.log.push(entry);
      const applied = this.ledger.apply(entry);
      const command = decodeEntryCommand(data);
      if ('finished' in command) {
        if (notify) node.core.finishedApplied(command.finished);
        continue;
      }
      const decision = command.commit!.decision;
      const first = this.logged.get(command.orderId);
      if (first !== undefined && first !== decision) throw new Broken(`the log holds both ${first} and ${decision} for ${command.orderId}`);
      this.logged.set(command.orderId, first ?? decision);
      if (applied.kind === 'noop' || applied.kind === 'finished') throw new Broken('a decision entry applied as nothing');
      if (notify) {
        node.core.decisionApplied(command.orderId, applied.execution.commit!.decision, this.now);
        // The consumer acks the lease once the decision is applied (the ack itself may be lost).
        const order = this.orders.get(command.orderId);
        if (order && node === this.leader && this.random() >= this.faults.loss) order.acked = true;
      }
    }
  }

  private crashLeader(): void {
    const node = this.leader!;
    const before = new Map(node.core.txIds().map((id) => [id, node.core.progress(id)!]));
    // Raft: of the entries proposed, some prefix reached a majority and will commit under the next leader.
    this.commit(node, Math.floor(this.random() * (node.pending.length + 1)), false);
    node.pending = [];
    for (const [txId, { phase, answered }] of before) {
      const point: CrashPoint =
        phase === 'preparing'
          ? answered === 0
            ? 'before any vote'
            : 'between the two votes'
          : phase === 'deciding'
            ? this.logged.has(txId)
              ? 'decided, entry kept but not yet applied'
              : 'decided, entry lost'
            : phase === 'finishing'
              ? answered === 0
                ? 'decision applied, before any finish acknowledged'
                : 'between the two finishes'
              : 'both finished, completion not logged';
      this.crashPoints.set(point, (this.crashPoints.get(point) ?? 0) + 1);
    }
    if (this.random() < 0.5) {
      // Deposed, not dead: it carries on for a while with its old term, and its proposals go nowhere.
      node.until = this.now + Math.floor(this.random() * 60) * STEP_MS;
      this.zombies.push(node);
    } else node.alive = false;
    this.leader = undefined;
    this.electionAt = this.now + (5 + Math.floor(this.random() * 20)) * STEP_MS;
  }

  private elect(): void {
    // A new leader may hold the ledger as a snapshot installed from the old one, not replayed from the log.
    if (this.random() < 0.5) {
      const restored = new ExecutionLedger();
      restored.restore(this.ledger.snapshot());
      this.ledger = restored;
    }
    const term = ++this.maxTerm;
    const node: Node = { id: `executor-${term % 3}`, term, core: new Coordinator(decisionLogOf(this.ledger), OPTIONS), alive: true, pending: [], until: Infinity };
    node.core.lead(term, this.now);
    this.leader = node;
    this.process(node);
  }

  private addOrder(): void {
    const txId = `tx-${this.seed}-${this.nextOrder++}`;
    const items = [{ name: this.pick(BOOKS), quantity: 1 + Math.floor(this.random() * 3) }];
    if (this.random() < 0.3) items.push({ name: this.random() < 0.1 ? 'no-such-book' : this.pick(BOOKS), quantity: 1 });
    const token = this.random() < 0.15 ? DECLINED_TOKEN : `tok_${txId}`;
    this.orders.set(txId, { txId, items, token, amountCents: 1000 * items.length, leaseUntil: 0, acked: false });
  }

  /** A prepared participant asks the leader for the decision (cooperative termination). */
  private terminate(participant: Participant): void {
    const txs = participant === 'books-database' ? this.books.txs : this.payment.txs;
    for (const [txId, tx] of txs) {
      const waiting = tx.state === 'prepared' || tx.state === 'held';
      if (!waiting || this.now - tx.since < TERMINATION_MS || this.now - tx.askedAt < ASK_EVERY_MS) continue;
      tx.askedAt = this.now;
      if (!this.leader || this.random() < this.faults.loss) continue;
      const answer = this.leader.core.getDecision(txId, this.now);
      this.process(this.leader);
      if (answer.kind !== 'decided') continue;
      this.checkFinish(txId, answer.decision === 'commit', `GetDecision for ${participant}`);
      if (participant === 'books-database') this.books.finish(txId, answer.decision === 'commit');
      else this.payment.finish(txId, answer.decision === 'commit');
      this.terminations++;
    }
  }

  step(): void {
    this.now += STEP_MS;
    const due = this.inbox.filter((m) => m.at <= this.now).sort((a, b) => a.at - b.at || a.seq - b.seq);
    this.inbox = this.inbox.filter((m) => m.at > this.now);
    for (const message of due) message.run();

    if (this.leader && this.random() < this.faults.leaderCrash) this.crashLeader();
    if (this.random() < this.faults.participantCrash) {
      const p = this.random() < 0.5 ? this.books : this.payment;
      p.downUntil = this.now + (5 + Math.floor(this.random() * 40)) * STEP_MS;
    }
    if (!this.leader && this.now >= this.electionAt) this.elect();

    const leader = this.leader;
    if (leader) {
      if (leader.pending.length > 0 && this.random() < 0.5) this.commit(leader, 1 + Math.floor(this.random() * leader.pending.length), true);
      // The consumer: lease what is due and hand it to the coordinator.
      let leased = 0;
      for (const order of this.orders.values()) {
        if (leased >= 4) break;
        if (order.acked || order.leaseUntil > this.now) continue;
        order.leaseUntil = this.now + LEASE_MS;
        leased++;
        if (leader.core.begin(order.txId, this.now) === 'decided' && this.random() >= this.faults.loss) order.acked = true;
      }
      leader.core.tick(this.now);
      this.process(leader);
    }
    for (const zombie of this.zombies) {
      if (this.now >= zombie.until) zombie.alive = false;
      if (!zombie.alive) continue;
      zombie.core.tick(this.now);
      this.process(zombie);
    }
    this.zombies = this.zombies.filter((z) => z.alive);
    for (const p of ['books-database', 'payment'] as const) if (this.participantUp(p)) this.terminate(p);
  }

  run(): void {
    for (let t = 0; t < STEPS; t++) {
      if (this.random() < 0.2) this.addOrder();
      this.step();
    }
    this.faults = CALM;
    for (let t = 0; t < 5000 && !this.settled(); t++) this.step();
  }

  settled(): boolean {
    return (
      [...this.orders.values()].every((o) => o.acked) &&
      this.ledger.unfinished().length === 0 &&
      [...this.books.txs.values()].every((t) => t.state !== 'prepared') &&
      [...this.payment.txs.values()].every((t) => t.state !== 'held')
    );
  }
}

function checkOutcome(world: World): void {
  if (!world.settled()) {
    const unacked = [...world.orders.values()].filter((o) => !o.acked).length;
    throw new Broken(`not settled after healing: ${unacked} orders unacked, ${world.ledger.unfinished().length} decisions unfinished`);
  }
  const taken = new Map(BOOKS.map((b) => [b, 0]));
  for (const order of world.orders.values()) {
    const execution = world.ledger.get(order.txId);
    if (!execution?.commit?.finished) throw new Broken(`${order.txId}: no finished decision in the ledger`);
    const decision = execution.commit.decision;
    if (world.logged.get(order.txId) !== decision) throw new Broken(`${order.txId}: the ledger says ${decision}, the log first said ${world.logged.get(order.txId)}`);
    const books = world.books.txs.get(order.txId)?.state;
    const payment = world.payment.txs.get(order.txId)?.state;
    if (decision === 'commit') {
      if (books !== 'committed' || payment !== 'captured') throw new Broken(`${order.txId} committed, but books ${books} and payment ${payment}`);
      for (const item of order.items) taken.set(item.name, taken.get(item.name)! + item.quantity);
    } else if (books !== 'aborted' || (payment !== 'voided' && payment !== 'declined')) {
      throw new Broken(`${order.txId} aborted, but books ${books} and payment ${payment}`);
    }
  }
  for (const book of BOOKS) {
    if (INITIAL_STOCK - world.books.stock.get(book)! !== taken.get(book)) {
      throw new Broken(`${book}: ${INITIAL_STOCK - world.books.stock.get(book)!} taken from stock, committed orders hold ${taken.get(book)}`);
    }
  }
  // Nothing a participant holds is unknown to the log (no stray transaction).
  for (const txId of [...world.books.txs.keys(), ...world.payment.txs.keys()]) {
    if (!world.logged.has(txId)) throw new Broken(`a participant finished ${txId}, which the log never decided`);
  }
  // Every replica applying the same log holds the same ledger, whether it replayed it or installed a snapshot.
  const replayed = new ExecutionLedger();
  for (const entry of world.log) replayed.apply(entry);
  if (replayed.snapshot() !== world.ledger.snapshot()) throw new Broken('the ledger replayed from the log differs from the live one');
}

const seeds = process.env.SEED ? [Number(process.env.SEED)] : Array.from({ length: SCHEDULES }, (_, i) => i + 1);

describe(`two-phase commit under ${seeds.length} random fault schedules`, () => {
  it('keeps stock and money in step with the logged decisions, whatever crashes and is lost', () => {
    const crashPoints = new Map<CrashPoint, number>();
    const reasons = new Map<string, number>();
    let commits = 0;
    let terminations = 0;
    for (const seed of seeds) {
      const world = new World(seed);
      try {
        world.run();
        checkOutcome(world);
      } catch (err) {
        throw new Error(`seed ${seed}: ${(err as Error).message}`);
      }
      for (const [point, n] of world.crashPoints) crashPoints.set(point, (crashPoints.get(point) ?? 0) + n);
      for (const order of world.orders.values()) {
        const commit = world.ledger.get(order.txId)!.commit!;
        if (commit.decision === 'commit') commits++;
        else reasons.set(commit.reason!, (reasons.get(commit.reason!) ?? 0) + 1);
      }
      terminations += world.terminations;
    }
    if (seeds.length > 1) {
      // The schedules really crashed the leader at every point of the protocol, and reached every kind of decision.
      // (Compared as [name, count] so a failure says which one was never reached.)
      for (const point of CRASH_POINTS) expect([point, crashPoints.get(point) ?? 0]).not.toEqual([point, 0]);
      expect(commits).toBeGreaterThan(0);
      for (const reason of ['OUT_OF_STOCK', 'UNKNOWN_BOOK', 'PAYMENT_DECLINED', 'PARTICIPANT_UNAVAILABLE', 'COORDINATOR_TIMEOUT']) {
        expect([reason, reasons.get(reason) ?? 0]).not.toEqual([reason, 0]);
      }
      expect(terminations).toBeGreaterThan(0);
    }
  });

  it('replays a schedule exactly from its seed', () => {
    const a = new World(7);
    const b = new World(7);
    a.run();
    b.run();
    expect(b.log).toEqual(a.log);
  });
});
