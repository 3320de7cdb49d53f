import { seededRandom } from '../raft/random';
import type { Entry } from '../raft/types';
import { encodeCommand, StockState, validateCommand, type Applied, type StockCommand } from './stock-state';

/**
 * The books database as a two-phase-commit participant, in its pure state machine: reservations, votes, decisions
 * that never change, and the accounting that must hold whatever order a coordinator's retried messages arrive in.
 */

/** A state machine fed commands as consecutive log entries, like a replica applying the committed log. */
function replica(retain?: number) {
  let state = new StockState(retain);
  let index = 0;
  const apply = (command: StockCommand): Applied => {
    const entry: Entry = { term: 1, index: ++index, type: 'command', data: encodeCommand(command) };
    return state.apply(entry);
  };
  return {
    get state() {
      return state;
    },
    apply,
    /** Replaces the state by one restored from its own snapshot (what a follower installing it would hold). */
    roundTrip() {
      const copy = new StockState(retain);
      copy.restore(state.snapshot());
      expect(copy.digest()).toBe(state.digest());
      state = copy;
    },
  };
}

const seed: StockCommand = {
  type: 'seed',
  books: [
    { bookId: 'a', title: 'Book A', priceCents: 1000, stock: 3 },
    { bookId: 'b', title: 'Book B', priceCents: 1500, stock: 1 },
  ],
};
const items = (list: [string, number][]) => list.map(([bookId, quantity]) => ({ bookId, quantity }));
const prepare = (txId: string, list: [string, number][], term = 0): StockCommand => ({ type: 'prepare', txId, items: items(list), term });
const commit = (txId: string): StockCommand => ({ type: 'finish', txId, commit: true });
const abort = (txId: string): StockCommand => ({ type: 'finish', txId, commit: false });
const decrement = (orderId: string, list: [string, number][], term = 0): StockCommand => ({ type: 'decrement', orderId, items: items(list), term });
/** Available and reserved copies of each book. */
const stock = (r: { state: StockState }) => Object.fromEntries(r.state.all().map((b) => [b.bookId, [b.stock, b.reserved]]));

describe('StockState as a two-phase-commit participant', () => {
  it('reserves at Prepare (stock shown net of it), takes the copies out at Commit, and keeps no reservation after', () => {
    const r = replica();
    r.apply(seed);
    expect(r.apply(prepare('t1', [['a', 2], ['b', 1]]))).toEqual({ kind: 'prepare', txId: 't1', vote: 'YES', index: 2, replayed: false });
    expect(stock(r)).toEqual({ a: [1, 2], b: [0, 1] });
    expect(r.state.totalStock).toBe(1);
    expect(r.state.totalReserved).toBe(3);
    expect(r.state.prepared()).toEqual([{ txId: 't1', index: 2, items: items([['a', 2], ['b', 1]]) }]);
    expect(r.state.transaction('t1')).toBe('prepared');
    expect(r.apply(commit('t1'))).toMatchObject({ kind: 'finish', state: 'committed', index: 3, replayed: false });
    expect(stock(r)).toEqual({ a: [1, 0], b: [0, 0] });
    expect(r.state.prepared()).toEqual([]);
    expect(r.state.transaction('t1')).toBe('committed');
    // A retried Commit changes nothing and answers the first decision; a retried Prepare answers COMMITTED.
    expect(r.apply(commit('t1'))).toMatchObject({ state: 'committed', index: 3, replayed: true });
    expect(r.apply(prepare('t1', [['a', 2], ['b', 1]]))).toMatchObject({ vote: 'COMMITTED', index: 3, replayed: true });
    expect(stock(r)).toEqual({ a: [1, 0], b: [0, 0] });
  });

  it('checks availability net of other reservations: all items or none, and a no vote names the book and stands on retry', () => {
    const r = replica();
    r.apply(seed);
    expect(r.apply(prepare('t1', [['a', 2]]))).toMatchObject({ vote: 'YES' });
    // Two copies of a are reserved by t1: two more are not there, whatever b's stock.
    expect(r.apply(prepare('t2', [['b', 1], ['a', 2]]))).toEqual({ kind: 'prepare', txId: 't2', vote: 'OUT_OF_STOCK', bookId: 'a', index: 3, replayed: false });
    expect(r.apply(prepare('t3', [['a', 1], ['zz', 1]]))).toMatchObject({ vote: 'UNKNOWN_BOOK', bookId: 'zz' });
    // The same book twice counts twice.
    expect(r.apply(prepare('t4', [['b', 1], ['b', 1]]))).toMatchObject({ vote: 'OUT_OF_STOCK', bookId: 'b' });
    expect(stock(r)).toEqual({ a: [1, 2], b: [1, 0] });
    // Refused is refused: releasing t1 does not turn t2's retry into a yes.
    r.apply(abort('t1'));
    expect(r.apply(prepare('t2', [['b', 1], ['a', 2]]))).toMatchObject({ vote: 'OUT_OF_STOCK', bookId: 'a', index: 3, replayed: true });
    expect(r.state.transaction('t2')).toBe('aborted');
    expect(stock(r)).toEqual({ a: [3, 0], b: [1, 0] });
    // A decrement sells only what no transaction holds.
    r.apply(prepare('t5', [['a', 3]]));
    expect(r.apply(decrement('o1', [['a', 1]]))).toMatchObject({ outcome: { code: 'OUT_OF_STOCK', bookId: 'a' } });
    r.apply(abort('t5'));
    expect(r.apply(decrement('o2', [['a', 1]]))).toMatchObject({ outcome: { code: 'OK' } });
    expect(stock(r)).toEqual({ a: [2, 0], b: [1, 0] });
  });

  it('releases at Abort; remembers the abort of a transaction it never saw, so a late Prepare reserves nothing (ABORTED)', () => {
    const r = replica();
    r.apply(seed);
    r.apply(prepare('t1', [['a', 3]]));
    expect(r.apply(abort('t1'))).toMatchObject({ state: 'aborted', replayed: false });
    expect(stock(r)).toEqual({ a: [3, 0], b: [1, 0] });
    expect(r.apply(abort('t1'))).toMatchObject({ state: 'aborted', replayed: true });
    expect(r.apply(abort('t9'))).toMatchObject({ state: 'aborted', index: 5, replayed: false });
    expect(r.apply(prepare('t9', [['a', 1]]))).toEqual({ kind: 'prepare', txId: 't9', vote: 'ABORTED', index: 5, replayed: true });
    expect(r.apply(prepare('t1', [['a', 1]]))).toMatchObject({ vote: 'ABORTED' });
    expect(stock(r)).toEqual({ a: [3, 0], b: [1, 0] });
    expect(r.state.preparedCount).toBe(0);
  });

  it('answers a retried Prepare of a prepared transaction YES again, at its first index, reserving nothing more', () => {
    const r = replica();
    r.apply(seed);
    r.apply(prepare('t1', [['a', 1]]));
    expect(r.apply(prepare('t1', [['a', 1]]))).toEqual({ kind: 'prepare', txId: 't1', vote: 'YES', index: 2, replayed: true });
    expect(stock(r)).toEqual({ a: [2, 1], b: [1, 0] });
  });

  it('never changes a decision: commit after abort, abort after commit, a commit of what was never prepared are refused, applying nothing', () => {
    const r = replica();
    r.apply(seed);
    r.apply(prepare('t1', [['a', 1]]));
    r.apply(commit('t1'));
    const before = r.state.digest();
    expect(r.apply(abort('t1'))).toMatchObject({ state: 'committed', refused: expect.stringMatching(/t1 was committed at index 3/) });
    r.apply(prepare('t2', [['a', 1]]));
    r.apply(abort('t2'));
    const afterAbort = r.state.digest();
    expect(r.apply(commit('t2'))).toMatchObject({ state: 'aborted', refused: expect.stringMatching(/t2 was aborted/) });
    expect(r.state.digest()).toBe(afterAbort);
    expect(r.apply(commit('never'))).toMatchObject({ refused: expect.stringMatching(/never prepared/) });
    expect(r.state.transaction('never')).toBeUndefined();
    expect(r.state.digest()).toBe(afterAbort);
    expect(before).not.toBe(afterAbort);
    expect(stock(r)).toEqual({ a: [2, 0], b: [1, 0] });
  });

  it('fences Prepare by term like a decrement: a stale one is refused and not remembered', () => {
    const r = replica();
    r.apply(seed);
    expect(r.apply(prepare('t1', [['a', 1]], 5))).toMatchObject({ vote: 'YES' });
    expect(r.apply(decrement('o1', [['a', 1]], 6))).toMatchObject({ outcome: { code: 'OK' } });
    expect(r.apply(prepare('t2', [['a', 1]], 5))).toMatchObject({ vote: 'STALE_TERM', replayed: false });
    expect(r.state.transaction('t2')).toBeUndefined();
    expect(r.apply(prepare('t2', [['a', 1]], 6))).toMatchObject({ vote: 'YES' });
    // A known transaction answers its standing vote whatever the term (as a replayed decrement does).
    expect(r.apply(prepare('t1', [['a', 1]], 1))).toMatchObject({ vote: 'YES', replayed: true });
    expect(stock(r)).toEqual({ a: [0, 2], b: [1, 0] });
  });

  it('sets the available stock: reserved copies stay reserved on top of it', () => {
    const r = replica();
    r.apply(seed);
    r.apply(prepare('t1', [['a', 2]]));
    expect(r.apply({ type: 'set', bookId: 'a', stock: 5, term: 0 })).toMatchObject({ book: { stock: 5, reserved: 2 } });
    r.apply(commit('t1'));
    expect(stock(r)).toEqual({ a: [5, 0], b: [1, 0] });
  });

  it('forgets the oldest decisions beyond its retention, but never a prepared transaction', () => {
    const r = replica(2);
    r.apply(seed);
    r.apply(prepare('keep', [['a', 1]]));
    for (const tx of ['t1', 't2', 't3']) r.apply(abort(tx));
    expect(r.state.transaction('t1')).toBeUndefined();
    expect(r.state.transaction('t3')).toBe('aborted');
    expect(r.state.transaction('keep')).toBe('prepared');
    expect(r.apply(commit('keep'))).toMatchObject({ state: 'committed', replayed: false });
  });

  it('keeps reservations and decisions across a snapshot round trip, and goes on identically', () => {
    const r = replica();
    r.apply(seed);
    r.apply(prepare('t1', [['a', 2]], 3));
    r.apply(prepare('t2', [['b', 1]]));
    r.apply(abort('t3'));
    r.apply(prepare('t4', [['a', 5]]));
    const copy = new StockState();
    copy.restore(r.state.snapshot());
    expect(copy.digest()).toBe(r.state.digest());
    expect(copy.all()).toEqual(r.state.all());
    expect(copy.prepared()).toEqual(r.state.prepared());
    const base = r.state.applied;
    const next = (n: number, command: StockCommand): Entry => ({ term: 1, index: base + n, type: 'command', data: encodeCommand(command) });
    for (const [n, command] of [commit('t1'), prepare('t3', [['a', 1]]), prepare('t4', [['a', 1]]), prepare('t5', [['a', 1]], 2), abort('t2')].entries()) {
      expect(copy.apply(next(n + 1, command))).toEqual(r.state.apply(next(n + 1, command)));
    }
    expect(copy.digest()).toBe(r.state.digest());
    expect(copy.all().map((b) => [b.bookId, b.stock, b.reserved])).toEqual([
      ['a', 1, 0],
      ['b', 1, 0],
    ]);
  });

  it('restores a version 1 snapshot (before transactions) with nothing reserved', () => {
    const v1 = JSON.stringify({ version: 1, lastApplied: 7, seeded: true, fence: 2, books: [['a', 'Book A', 1000, 4]], outcomes: [['o1', 'OK', '', 3]] });
    const state = new StockState();
    state.restore(v1);
    expect(state.all()).toEqual([{ bookId: 'a', title: 'Book A', priceCents: 1000, stock: 4, reserved: 0 }]);
    expect(state.prepared()).toEqual([]);
    expect(state.outcome('o1')).toEqual({ code: 'OK', index: 3 });
  });

  it('validates transaction commands before they are proposed', () => {
    expect(validateCommand(prepare('', [['a', 1]]))).toMatch(/txId/);
    expect(validateCommand(prepare('t', []))).toBe('a prepare needs at least one item');
    expect(validateCommand(prepare('t', [['a', 0]]))).toMatch(/quantity/);
    expect(validateCommand(prepare('t', [['a', 1]], -1))).toMatch(/term/);
    expect(validateCommand({ type: 'finish', txId: 't', commit: 'yes' as never })).toMatch(/commit/);
    expect(validateCommand({ type: 'finish', txId: '', commit: true })).toMatch(/txId/);
    expect(validateCommand(commit('t'))).toBeUndefined();
    expect(validateCommand(prepare('t', [['a', 1]]))).toBeUndefined();
  });
});

/**
 * A coordinator that follows the protocol over a network that delays, reorders, duplicates and loses messages: it
 * prepares (and retries), decides commit only on a YES (and its other participant's yes, a coin here), presumes
 * abort when it hears nothing, and repeats its decision; decrements of other orders run alongside, and now and then
 * the state goes through a snapshot round trip. After every step, the accounting must hold.
 */
describe('StockState under a seeded schedule of duplicated and reordered Prepare, Finish and Decrement', () => {
  const INITIAL: Record<string, number> = { a: 6, b: 3, c: 2 };
  const BOOKS = Object.keys(INITIAL);

  function run(seedNumber: number) {
    const random = seededRandom(seedNumber);
    const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)];
    const r = replica(10_000);
    r.apply({ type: 'seed', books: BOOKS.map((bookId) => ({ bookId, title: bookId, priceCents: 100, stock: INITIAL[bookId] })) });

    const txItems = new Map<string, { bookId: string; quantity: number }[]>();
    /** The coordinator's logged decisions. */
    const decisions = new Map<string, boolean>();
    /** Messages in flight, delivered in any order, some more than once. */
    const network: StockCommand[] = [];
    /** Non-replayed commits applied, per transaction: each committed transaction's stock is taken exactly once. */
    const commitsApplied = new Map<string, number>();
    const committed = Object.fromEntries(BOOKS.map((b) => [b, 0]));
    const decremented = Object.fromEntries(BOOKS.map((b) => [b, 0]));
    const orders = new Map<string, StockCommand>();
    let txs = 0;

    const decide = (txId: string, commitIt: boolean) => {
      if (decisions.has(txId)) return;
      decisions.set(txId, commitIt);
      const finish: StockCommand = { type: 'finish', txId, commit: commitIt };
      network.push(finish);
      if (random() < 0.4) network.push(finish);
    };

    const deliver = (command: StockCommand) => {
      const applied = r.apply(command);
      if (applied.kind === 'prepare') {
        if (random() < 0.25) return; // the vote is lost
        if (!decisions.has(applied.txId)) decide(applied.txId, applied.vote === 'YES' && random() < 0.75);
      } else if (applied.kind === 'finish') {
        if (applied.refused) throw new Error(`seed ${seedNumber}: a correct coordinator's decision was refused: ${applied.refused}`);
        if (applied.state === 'committed' && !applied.replayed) {
          commitsApplied.set(applied.txId, (commitsApplied.get(applied.txId) ?? 0) + 1);
          for (const { bookId, quantity } of txItems.get(applied.txId)!) committed[bookId] += quantity;
        }
      } else if (applied.kind === 'decrement' && applied.outcome.code === 'OK' && !applied.replayed) {
        for (const { bookId, quantity } of applied.command.items) decremented[bookId] += quantity;
      }
    };

    /** Every invariant, after every step (plain checks: expect() in this loop would dominate the run). */
    const check = (step: number) => {
      const broken = (what: string) => {
        throw new Error(`seed ${seedNumber}, step ${step}: ${what}`);
      };
      const state = r.state;
      const reservedByTx = new Map(state.prepared().map((p) => [p.txId, p.items]));
      for (const book of state.all()) {
        if (book.stock < 0 || book.reserved < 0) broken(`${book.bookId} has ${book.stock} available, ${book.reserved} reserved`);
        // On hand is what was there, less what commits and decrements took: reserved copies are neither lost nor made.
        const onHand = INITIAL[book.bookId] - committed[book.bookId] - decremented[book.bookId];
        if (book.stock + book.reserved !== onHand) broken(`${book.bookId}: ${book.stock} + ${book.reserved} reserved, ${onHand} on hand`);
        let held = 0;
        for (const list of reservedByTx.values()) for (const i of list) if (i.bookId === book.bookId) held += i.quantity;
        if (held !== book.reserved) broken(`${book.bookId}: prepared transactions hold ${held}, ${book.reserved} reserved`);
      }
      for (const [txId, n] of commitsApplied) if (n !== 1 || decisions.get(txId) !== true) broken(`${txId} committed ${n} times, decision ${decisions.get(txId)}`);
      for (const txId of txItems.keys()) {
        const here = state.transaction(txId);
        // Decided here: no reservation left, and only the coordinator's decision (or a no vote's abort) taken.
        if ((here === 'committed' || here === 'aborted') && reservedByTx.has(txId)) broken(`${txId} is ${here} and still reserved`);
        if (here === 'committed' && decisions.get(txId) !== true) broken(`${txId} committed without a commit decision`);
        if (here === 'prepared' && decisions.get(txId) === false && !network.some((m) => m.type === 'finish' && m.txId === txId)) broken(`${txId} aborted, abort delivered, still prepared`);
      }
    };

    for (let step = 0; step < 600; step++) {
      const roll = random();
      if (roll < 0.15 && txs < 60) {
        const txId = `t${txs++}`;
        const list = Array.from({ length: 1 + Math.floor(random() * 2) }, () => ({ bookId: random() < 0.05 ? 'nope' : pick(BOOKS), quantity: 1 + Math.floor(random() * 2) }));
        txItems.set(txId, list);
        network.push({ type: 'prepare', txId, items: list, term: 0 });
      } else if (roll < 0.25) {
        // The coordinator's timer: an undecided transaction is prepared again, or presumed aborted.
        const undecided = [...txItems.keys()].filter((t) => !decisions.has(t));
        if (undecided.length > 0) {
          const txId = pick(undecided);
          if (random() < 0.5) network.push({ type: 'prepare', txId, items: txItems.get(txId)!, term: 0 });
          else decide(txId, false);
        }
      } else if (roll < 0.3) {
        // A decided transaction's decision is sent again (its answer was lost).
        const decided = [...decisions];
        if (decided.length > 0) {
          const [txId, commitIt] = pick(decided);
          network.push({ type: 'finish', txId, commit: commitIt });
        }
      } else if (roll < 0.37) {
        const orderId = random() < 0.3 && orders.size > 0 ? pick([...orders.keys()]) : `o${step}`;
        const command = orders.get(orderId) ?? decrement(orderId, [[pick(BOOKS), 1]]);
        orders.set(orderId, command);
        deliver(command);
      } else if (roll < 0.39) {
        r.roundTrip();
      } else if (network.length > 0) {
        // Deliver a message from anywhere in flight; now and then it stays in flight as well (a duplicate).
        const at = Math.floor(random() * network.length);
        const [message] = random() < 0.15 ? [network[at]] : network.splice(at, 1);
        deliver(message);
      }
      check(step);
    }
    // The end: the coordinator presumes abort for whatever it never decided, and every message arrives.
    for (const txId of txItems.keys()) decide(txId, false);
    while (network.length > 0) deliver(network.splice(Math.floor(random() * network.length), 1)[0]);
    check(-1);
    expect(r.state.prepared()).toEqual([]);
    expect(r.state.totalReserved).toBe(0);
    for (const [txId, commitIt] of decisions) {
      // A no vote is an abort the coordinator heard about (it decided abort): the participant agrees.
      expect(`${txId}: ${r.state.transaction(txId)}`).toBe(`${txId}: ${commitIt ? 'committed' : 'aborted'}`);
      expect(commitsApplied.get(txId) ?? 0).toBe(commitIt ? 1 : 0);
    }
    return { txs, commits: [...decisions.values()].filter(Boolean).length };
  }

  it.each([1, 2, 3, 4, 5, 6, 7, 8])('seed %i: stock never negative, on hand = initial − committed − decremented, each commit taken once, nothing left reserved', (s) => {
    const { txs, commits } = run(s);
    // The schedule exercised both outcomes.
    expect(txs).toBeGreaterThan(20);
    expect(commits).toBeGreaterThan(0);
    expect(commits).toBeLessThan(txs);
  });
});
