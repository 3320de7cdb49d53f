import fc from 'fast-check';
import { performance } from 'node:perf_hooks';
import {
  BooksInput,
  BooksOutput,
  CheckOptions,
  DecrementOutcome,
  HistoryRecorder,
  Operation,
  booksModel,
  checkLinearizable,
} from './linearizability';

type Op = Operation<BooksInput, BooksOutput>;

// --- Building histories by hand --------------------------------------------------------------

const read = (...bookIds: string[]): BooksInput => ({ op: 'read', bookIds });
const dec = (orderId: string, items: Record<string, number>): BooksInput => ({
  op: 'decrement',
  orderId,
  items: Object.entries(items).map(([bookId, quantity]) => ({ bookId, quantity })),
});
const set = (bookId: string, stock: number): BooksInput => ({ op: 'setStock', bookId, stock });
const stock = (values: Record<string, number>): BooksOutput => ({ stock: values });
const OK: DecrementOutcome = { ok: true };
const OUT_OF_STOCK: DecrementOutcome = { ok: false, reason: 'OUT_OF_STOCK' };
const UNKNOWN_BOOK: DecrementOutcome = { ok: false, reason: 'UNKNOWN_BOOK' };

/** A completed operation: invoked at `from`, responded at `to`. */
const op = (client: string, from: number, to: number, input: BooksInput, output: BooksOutput): Op => ({
  client,
  invokedAt: from,
  respondedAt: to,
  input,
  output,
});
/** An indeterminate operation: invoked at `from`, never answered. */
const lost = (client: string, from: number, input: BooksInput): Op => ({ client, invokedAt: from, input });

const check = (init: Record<string, number>, history: Op[], options?: CheckOptions) => checkLinearizable(booksModel(init, history), history, options);
/** The same with a model that remembers every order id's outcome. */
const checkRememberingAll = (init: Record<string, number>, history: Op[], options?: CheckOptions) => checkLinearizable(booksModel(init), history, options);

describe('checkLinearizable on the books model: hand-written histories', () => {
  it('accepts a sequential history, in its own order', () => {
    const history = [
      op('c1', 0, 1, read('a', 'b'), stock({ a: 2, b: 1 })),
      op('c1', 2, 3, dec('o1', { a: 1, b: 1 }), OK),
      op('c2', 4, 5, read('a', 'b'), stock({ a: 1, b: 0 })),
      op('c2', 6, 7, dec('o2', { b: 1 }), OUT_OF_STOCK),
      op('c1', 8, 9, set('b', 5), OK),
      op('c1', 10, 11, read('b'), stock({ b: 5 })),
    ];
    const result = check({ a: 2, b: 1 }, history, { partition: false });
    expect(result.verdict).toBe('linearizable');
    expect(result.linearizable && result.witnesses).toEqual([[0, 1, 2, 3, 4, 5]]);
  });

  it('rejects the same operations when a result contradicts the order they were done in', () => {
    const history = [op('c1', 0, 1, dec('o1', { a: 1 }), OK), op('c1', 2, 3, read('a'), stock({ a: 2 }))];
    expect(check({ a: 2 }, history).verdict).toBe('not-linearizable');
  });

  it('finds the only order of overlapping operations that explains their results', () => {
    // setStock and read overlap; the read saw 5, so the write must come first, though it was invoked later.
    const writeFirst = [op('reader', 0, 10, read('a'), stock({ a: 5 })), op('admin', 1, 9, set('a', 5), OK)];
    const result = check({ a: 1 }, writeFirst, { partition: false });
    expect(result.linearizable && result.witnesses).toEqual([[1, 0]]);
    // The read saw the old value: only read-then-write works.
    const readFirst = [op('reader', 0, 10, read('a'), stock({ a: 1 })), op('admin', 1, 9, set('a', 5), OK)];
    const other = check({ a: 1 }, readFirst, { partition: false });
    expect(other.linearizable && other.witnesses).toEqual([[0, 1]]);
    // Three overlapping decrements of a book with 2 copies: the failing one must be placed last,
    // although it was invoked first and the greedy search tries it first.
    const race = [
      op('c1', 0, 10, dec('o1', { a: 1 }), OUT_OF_STOCK),
      op('c2', 1, 10, dec('o2', { a: 1 }), OK),
      op('c3', 2, 10, dec('o3', { a: 1 }), OK),
      op('c4', 11, 12, read('a'), stock({ a: 0 })),
    ];
    const raced = check({ a: 2 }, race, { partition: false });
    expect(raced.linearizable && raced.witnesses).toEqual([[1, 2, 0, 3]]);
  });

  it('rejects a stale read after a completed decrement, and says which operation could not be placed', () => {
    const history = [
      op('c1', 0, 5, dec('o1', { a: 1 }), OK),
      op('c2', 6, 8, read('a'), stock({ a: 2 })), // served by a replica that had not applied o1
    ];
    const result = check({ a: 2 }, history);
    expect(result.verdict).toBe('not-linearizable');
    if (result.verdict !== 'not-linearizable') return;
    expect(result.explanation.longestPrefix).toEqual([0]);
    expect(result.explanation.stuckAt).toBe(1);
    expect(result.explanation.stateAfterPrefix.stock.get('a')).toBe(1);
    expect(result.explanation.message).toContain('#1 client c2');
    expect(result.explanation.message).toContain('reaching state {stock: {"a":1}}');
    expect(result.explanation.message).toContain('→ {"stock":{"a":2}}');
    // The same read while the decrement is still in flight may see either value.
    expect(check({ a: 2 }, [op('c1', 0, 5, dec('o1', { a: 1 }), OK), op('c2', 3, 8, read('a'), stock({ a: 2 }))]).verdict).toBe('linearizable');
  });

  it('rejects a lost update: two decrements of the last copy both succeeding', () => {
    const history = [op('c1', 0, 10, dec('o1', { a: 1 }), OK), op('c2', 2, 12, dec('o2', { a: 1 }), OK)];
    expect(check({ a: 1 }, history).verdict).toBe('not-linearizable');
    const oneWins = [op('c1', 0, 10, dec('o1', { a: 1 }), OK), op('c2', 2, 12, dec('o2', { a: 1 }), OUT_OF_STOCK)];
    expect(check({ a: 1 }, oneWins).verdict).toBe('linearizable');
  });

  it('rejects a torn multi-book read or a partly applied decrement', () => {
    const order = op('c1', 0, 10, dec('o1', { a: 1, b: 1 }), OK);
    const readAB = (a: number, b: number) => op('c2', 2, 8, read('a', 'b'), stock({ a, b }));
    expect(check({ a: 1, b: 1 }, [order, readAB(1, 1)]).verdict).toBe('linearizable');
    expect(check({ a: 1, b: 1 }, [order, readAB(0, 0)]).verdict).toBe('linearizable');
    expect(check({ a: 1, b: 1 }, [order, readAB(0, 1)]).verdict).toBe('not-linearizable');
    // All or nothing: b has no copy, so the order fails and a keeps its copy.
    const failed = op('c1', 0, 1, dec('o2', { a: 1, b: 1 }), OUT_OF_STOCK);
    expect(check({ a: 1, b: 0 }, [failed, op('c2', 2, 3, read('a'), stock({ a: 1 }))]).verdict).toBe('linearizable');
    expect(check({ a: 1, b: 0 }, [failed, op('c2', 2, 3, read('a'), stock({ a: 0 }))]).verdict).toBe('not-linearizable');
    // Two items of the same book count together.
    expect(check({ a: 1 }, [op('c1', 0, 1, { op: 'decrement', orderId: 'o3', items: [{ bookId: 'a', quantity: 1 }, { bookId: 'a', quantity: 1 }] }, OK)]).verdict).toBe(
      'not-linearizable',
    );
  });

  it('holds a retried order id to its first outcome, applied once', () => {
    const first = op('c1', 0, 5, dec('o1', { a: 1 }), OK);
    const changedMind = check({ a: 1 }, [first, op('c1', 6, 8, dec('o1', { a: 1 }), OUT_OF_STOCK)]);
    expect(changedMind.verdict).toBe('not-linearizable');
    expect(changedMind.verdict === 'not-linearizable' && changedMind.explanation.message).toContain('reaching state {stock: {"a":0}, orders: o1=ok}');
    expect(check({ a: 1 }, [first, op('c1', 6, 8, dec('o1', { a: 1 }), OK)]).verdict).toBe('linearizable');
    // The retry must not take a second copy.
    const retried = [op('c1', 0, 5, dec('o1', { a: 1 }), OK), op('c1', 6, 8, dec('o1', { a: 1 }), OK)];
    expect(check({ a: 2 }, [...retried, op('c2', 9, 10, read('a'), stock({ a: 1 }))]).verdict).toBe('linearizable');
    expect(check({ a: 2 }, [...retried, op('c2', 9, 10, read('a'), stock({ a: 0 }))]).verdict).toBe('not-linearizable');
    // A failure is final too, even after a restock.
    const failedThenRestocked = [op('c1', 0, 1, dec('o1', { a: 1 }), OUT_OF_STOCK), op('admin', 2, 3, set('a', 4), OK)];
    expect(check({ a: 0 }, [...failedThenRestocked, op('c1', 4, 5, dec('o1', { a: 1 }), OUT_OF_STOCK)]).verdict).toBe('linearizable');
    expect(check({ a: 0 }, [...failedThenRestocked, op('c1', 4, 5, dec('o1', { a: 1 }), OK)]).verdict).toBe('not-linearizable');
  });

  it('fails an order for an unknown book with UNKNOWN_BOOK, before looking at stock', () => {
    expect(check({ a: 0 }, [op('c1', 0, 1, dec('o1', { a: 1, zz: 1 }), UNKNOWN_BOOK)]).verdict).toBe('linearizable');
    expect(check({ a: 0 }, [op('c1', 0, 1, dec('o1', { a: 1, zz: 1 }), OUT_OF_STOCK)]).verdict).toBe('not-linearizable');
    expect(check({ a: 1 }, [op('c1', 0, 1, read('a', 'zz'), stock({ a: 1 }))]).verdict).toBe('linearizable');
    expect(check({ a: 1 }, [op('c1', 0, 1, read('a', 'zz'), stock({ a: 1, zz: 0 }))]).verdict).toBe('not-linearizable');
    expect(check({}, [op('admin', 0, 1, set('zz', 2), OK), op('c1', 2, 3, dec('o1', { zz: 2 }), OK)]).verdict).toBe('linearizable');
  });

  it('accepts an indeterminate decrement whether it took effect or not, but only after its invocation and only once', () => {
    const timedOut = lost('c1', 0, dec('o1', { a: 1 }));
    // Took effect: a later order finds no copy, and a read sees 0.
    const tookEffect = [timedOut, op('c2', 10, 12, dec('o2', { a: 1 }), OUT_OF_STOCK), op('c2', 13, 14, read('a'), stock({ a: 0 }))];
    expect(check({ a: 1 }, tookEffect).verdict).toBe('linearizable');
    // Never took effect (or not yet): the copy is still there.
    const didNot = [timedOut, op('c2', 10, 12, read('a'), stock({ a: 1 })), op('c2', 13, 14, dec('o2', { a: 1 }), OK)];
    expect(check({ a: 1 }, didNot).verdict).toBe('linearizable');
    // Took effect late, after a read that still saw the copy.
    expect(check({ a: 1 }, [timedOut, op('c2', 10, 12, read('a'), stock({ a: 1 })), op('c2', 13, 14, read('a'), stock({ a: 0 }))]).verdict).toBe('linearizable');
    // But an effect cannot be undone ...
    expect(check({ a: 1 }, [timedOut, op('c2', 10, 12, read('a'), stock({ a: 0 })), op('c2', 13, 14, read('a'), stock({ a: 1 }))]).verdict).toBe('not-linearizable');
    // ... nor come before the invocation ...
    expect(check({ a: 1 }, [op('c2', 0, 2, read('a'), stock({ a: 0 })), lost('c1', 5, dec('o1', { a: 1 }))]).verdict).toBe('not-linearizable');
    // ... nor apply twice when its retry succeeds.
    const retried = [timedOut, op('c1', 10, 12, dec('o1', { a: 1 }), OK)];
    expect(check({ a: 2 }, [...retried, op('c2', 13, 14, read('a'), stock({ a: 1 }))]).verdict).toBe('linearizable');
    expect(check({ a: 2 }, [...retried, op('c2', 13, 14, read('a'), stock({ a: 0 }))]).verdict).toBe('not-linearizable');
  });

  it('lets an indeterminate write that changes nothing at first take effect later, when it does', () => {
    // set(a, 1) on a stock of 1 changes nothing at its invocation; only after the decrement does it
    // matter, and the read proves it happened then.
    const history = [lost('admin', 0, set('a', 1)), op('c1', 1, 2, dec('o1', { a: 1 }), OK), op('c2', 3, 4, read('a'), stock({ a: 1 }))];
    const result = check({ a: 1 }, history, { partition: false });
    expect(result.linearizable && result.witnesses).toEqual([[1, 0, 2]]);
  });

  it('does not let unanswered reads multiply the search', () => {
    // Twenty reads that timed out, open for ever, beside a stale read: 2^20 ways to place them
    // if each were a choice; none of them can change anything, so the rejection stays quick.
    const timedOutReads = Array.from({ length: 20 }, (_, i) => lost(`r${i}`, i, read('a')));
    const history = [...timedOutReads, op('c1', 30, 31, dec('o1', { a: 1 }), OK), op('c2', 32, 33, read('a'), stock({ a: 2 }))];
    const result = check({ a: 2 }, history, { maxSteps: 10_000 });
    expect(result.verdict).toBe('not-linearizable');
    expect(result.steps).toBeLessThan(200);
  });

  it('treats operations that only touch at one instant as concurrent', () => {
    // The read was invoked exactly when the decrement returned: either order is allowed.
    expect(check({ a: 1 }, [op('c1', 0, 5, dec('o1', { a: 1 }), OK), op('c2', 5, 6, read('a'), stock({ a: 1 }))]).verdict).toBe('linearizable');
    expect(check({ a: 1 }, [op('c1', 0, 5, dec('o1', { a: 1 }), OK), op('c2', 5.001, 6, read('a'), stock({ a: 1 }))]).verdict).toBe('not-linearizable');
  });

  it('refuses a malformed history', () => {
    expect(() => check({ a: 1 }, [op('c1', 5, 4, read('a'), stock({ a: 1 }))])).toThrow(/before invokedAt/);
    expect(() => check({ a: 1 }, [{ client: 'c1', invokedAt: 0, input: read('a'), output: stock({ a: 1 }) }])).toThrow(/both present/);
    expect(() => check({ a: 1 }, [{ client: 'c1', invokedAt: NaN, respondedAt: 1, input: read('a'), output: stock({ a: 1 }) }])).toThrow(/finite/);
  });
});

describe('checkLinearizable: P-compositional split', () => {
  const singleBook = [
    op('c1', 0, 10, dec('o1', { a: 1 }), OK),
    op('c2', 1, 9, read('b'), stock({ b: 3 })),
    op('c3', 2, 3, set('c', 7), OK),
    op('c2', 11, 12, read('a'), stock({ a: 0 })),
    op('c3', 13, 14, read('c'), stock({ c: 7 })),
  ];

  it('checks operations on independent books separately, with the same verdict', () => {
    const split = check({ a: 1, b: 3, c: 0 }, singleBook);
    expect(split).toMatchObject({ verdict: 'linearizable', parts: 3 });
    expect(check({ a: 1, b: 3, c: 0 }, singleBook, { partition: false })).toMatchObject({ verdict: 'linearizable', parts: 1 });
    // A multi-book read joins the parts it touches.
    expect(check({ a: 1, b: 3, c: 0 }, [...singleBook, op('c1', 20, 21, read('a', 'c'), stock({ a: 0, c: 7 }))])).toMatchObject({ verdict: 'linearizable', parts: 2 });
  });

  it('reports a violation inside one part with indices into the whole history', () => {
    const stale = [...singleBook, op('c1', 20, 21, read('c'), stock({ c: 0 }))];
    const result = check({ a: 1, b: 3, c: 0 }, stale);
    expect(result.verdict).toBe('not-linearizable');
    if (result.verdict !== 'not-linearizable') return;
    expect(result.explanation.stuckAt).toBe(5);
    expect(result.explanation.longestPrefix).toEqual([2, 4]);
    expect(result.explanation.message).toContain('of one independent part of 6');
  });
});

// --- Random histories from a linearizable simulation -----------------------------------------

/** What a simulated client does: its input, the pause before it, how long it waits for an answer,
 * where inside that wait the store applies it (0..1), and whether the answer is lost. */
interface Plan {
  input: BooksInput;
  gap: number;
  duration: number;
  at: number;
  fate: 'responds' | 'lost-after-effect' | 'lost-before-effect';
}

/** A plain in-memory books store, written independently of the model, that applies one operation at a time. */
class ReferenceStore {
  private readonly stock: Map<string, number>;
  private readonly outcomes = new Map<string, DecrementOutcome>();
  constructor(init: Record<string, number>) {
    this.stock = new Map(Object.entries(init));
  }
  apply(input: BooksInput): BooksOutput {
    if (input.op === 'read') {
      const out: Record<string, number> = {};
      for (const id of input.bookIds) if (this.stock.has(id)) out[id] = this.stock.get(id)!;
      return { stock: out };
    }
    if (input.op === 'setStock') {
      this.stock.set(input.bookId, input.stock);
      return { ok: true };
    }
    const earlier = this.outcomes.get(input.orderId);
    if (earlier) return earlier;
    let outcome: DecrementOutcome = { ok: true };
    const left = new Map(this.stock);
    for (const { bookId, quantity } of input.items) {
      if (!left.has(bookId)) {
        outcome = { ok: false, reason: 'UNKNOWN_BOOK' };
        break;
      }
      left.set(bookId, left.get(bookId)! - quantity);
      if (left.get(bookId)! < 0) outcome = { ok: false, reason: 'OUT_OF_STOCK' };
    }
    if (outcome.ok) for (const [id, n] of left) this.stock.set(id, n);
    this.outcomes.set(input.orderId, outcome);
    return outcome;
  }
}

interface Simulated {
  init: Record<string, number>;
  history: Op[];
  /** When each operation took effect in the store; undefined: never. */
  points: (number | undefined)[];
}

/** Applies every operation atomically at a point inside its [invocation, response] interval (an
 * indeterminate one: anywhere after its invocation, or never), in the order of those points. */
function simulate(init: Record<string, number>, clients: Plan[][]): Simulated {
  const history: Op[] = [];
  const points: (number | undefined)[] = [];
  clients.forEach((plans, c) => {
    let t = 0;
    for (const plan of plans) {
      const invokedAt = t + plan.gap;
      t = invokedAt + plan.duration; // the client waits until the answer or its timeout
      const responds = plan.fate === 'responds';
      history.push({ client: `c${c}`, input: plan.input, invokedAt, respondedAt: responds ? t : undefined });
      points.push(plan.fate === 'lost-before-effect' ? undefined : invokedAt + plan.at * (plan.duration + (responds ? 0 : 30)));
    }
  });
  const store = new ReferenceStore(init);
  for (const i of effectOrder(points, Infinity)) {
    const output = store.apply(history[i].input);
    if (history[i].respondedAt !== undefined) history[i].output = output;
  }
  return { init, history, points };
}

/** Indices of the operations that took effect before `until`, in the order they took effect. */
function effectOrder(points: (number | undefined)[], until: number): number[] {
  return points
    .map((p, i) => [p, i] as const)
    .filter((e): e is readonly [number, number] => e[0] !== undefined && e[0] < until)
    .sort((x, y) => x[0] - y[0] || x[1] - y[1])
    .map(([, i]) => i);
}

const BOOKS = ['a', 'b', 'c'];

function scenario(options: { retries: boolean; setStock: boolean; unknownBooks: boolean; opsPerClient: [number, number] }) {
  const bookId = fc.constantFrom(...BOOKS, ...(options.unknownBooks ? ['zz'] : []));
  const inputs: fc.Arbitrary<BooksInput>[] = [
    fc.record({ op: fc.constant('read' as const), bookIds: fc.uniqueArray(bookId, { minLength: 1, maxLength: 3 }) }),
    fc.record({
      op: fc.constant('decrement' as const),
      orderId: options.retries ? fc.constantFrom('o1', 'o2', 'o3', 'o4', 'o5', 'o6') : fc.constant(''), // '' is made unique below
      items: fc.array(fc.record({ bookId, quantity: fc.integer({ min: 1, max: 2 }) }), { minLength: 1, maxLength: 2 }),
    }),
    ...(options.setStock ? [fc.record({ op: fc.constant('setStock' as const), bookId, stock: fc.integer({ min: 0, max: 4 }) })] : []),
  ];
  const plan: fc.Arbitrary<Plan> = fc.record({
    input: fc.oneof(...inputs),
    gap: fc.integer({ min: 0, max: 5 }),
    duration: fc.integer({ min: 0, max: 20 }),
    at: fc.double({ min: 0, max: 1, noNaN: true }),
    fate: fc.oneof(
      { weight: 8, arbitrary: fc.constant('responds' as const) },
      { weight: 1, arbitrary: fc.constant('lost-after-effect' as const) },
      { weight: 1, arbitrary: fc.constant('lost-before-effect' as const) },
    ),
  });
  const [minLength, maxLength] = options.opsPerClient;
  return fc
    .record({
      init: fc.record({ a: fc.integer({ min: 0, max: 4 }), b: fc.integer({ min: 0, max: 4 }), c: fc.integer({ min: 0, max: 4 }) }),
      clients: fc.array(fc.array(plan, { minLength, maxLength }), { minLength: 5, maxLength: 5 }),
    })
    .map(({ init, clients }) => {
      let next = 0;
      const unique = clients.map((plans) =>
        plans.map((p) => (p.input.op === 'decrement' && p.input.orderId === '' ? { ...p, input: { ...p.input, orderId: `u${next++}` } } : p)),
      );
      return simulate(init, unique);
    });
}

/** Whether a witness order respects real time: no operation placed after one invoked after its response. */
function respectsRealTime(history: Op[], order: number[]): boolean {
  return order.every((i, k) => order.slice(k + 1).every((j) => !(history[j].respondedAt! < history[i].invokedAt)));
}

describe('checkLinearizable on simulated histories (fast-check)', () => {
  it('accepts every history of a store that applies each operation atomically inside its interval', () => {
    fc.assert(
      fc.property(scenario({ retries: true, setStock: true, unknownBooks: true, opsPerClient: [0, 8] }), ({ init, history }) => {
        const split = check(init, history);
        expect(split.verdict).toBe('linearizable');
        if (split.verdict !== 'linearizable') return;
        expect(split.witnesses.flat().sort((x, y) => x - y)).toEqual(history.map((_, i) => i));
        for (const order of split.witnesses) expect(respectsRealTime(history, order)).toBe(true);
        expect(checkRememberingAll(init, history, { partition: false }).verdict).toBe('linearizable');
      }),
      { numRuns: 150 },
    );
  });

  it('rejects every such history once one read is served from a lagging snapshot', () => {
    let mutated = 0;
    fc.assert(
      fc.property(scenario({ retries: false, setStock: false, unknownBooks: false, opsPerClient: [2, 8] }), fc.nat(), (simulated, pick) => {
        const candidates = staleReadCandidates(simulated);
        fc.pre(candidates.length > 0);
        const { history, staleRead } = withStaleRead(simulated, candidates[pick % candidates.length]);
        expect(check(simulated.init, simulated.history).verdict).toBe('linearizable');
        expect(history[staleRead].output).not.toEqual(simulated.history[staleRead].output);
        expect(check(simulated.init, history).verdict).toBe('not-linearizable');
        expect(checkRememberingAll(simulated.init, history).verdict).toBe('not-linearizable');
        mutated++;
      }),
      { numRuns: 150 },
    );
    expect(mutated).toBe(150);
  });
});

/**
 * The stale read path: read R is answered from a replica's snapshot taken at a time s before R's
 * invocation. Candidates (R, s) are chosen so the staleness must be observable. With no setStock
 * and unique order ids, stock only goes down, so in every valid order the value of a book b at R is
 * at most init - (the copies of b taken by successful decrements that returned before R was
 * invoked: set B). The snapshot holds only effects from before s, and s is no later than the effect
 * of any operation still running (or unanswered) at R's invocation, so every decrement in it is in
 * B; and one decrement W in B, taking copies of b, took effect at or after s. So the snapshot's
 * value of b is strictly above anything R could legitimately see.
 */
function staleReadCandidates({ history, points }: Simulated): { read: number; snapshotAt: number }[] {
  const candidates: { read: number; snapshotAt: number }[] = [];
  history.forEach((r, ri) => {
    if (r.input.op !== 'read' || r.respondedAt === undefined) return;
    const readBooks = new Set(r.input.bookIds);
    const stillRunning = history.flatMap((x, xi) =>
      xi !== ri && points[xi] !== undefined && !(x.respondedAt !== undefined && x.respondedAt < r.invokedAt) ? [points[xi]!] : [],
    );
    const latest = Math.min(r.invokedAt, ...stillRunning);
    history.forEach((w, wi) => {
      const tookCopies =
        w.input.op === 'decrement' && w.output !== undefined && 'ok' in w.output && w.output.ok && w.input.items.some((item) => readBooks.has(item.bookId));
      if (tookCopies && w.respondedAt! < r.invokedAt) candidates.push({ read: ri, snapshotAt: Math.min(latest, points[wi]!) });
    });
  });
  return candidates;
}

/** The history with the candidate's read answered from the store as it was at `snapshotAt`. */
function withStaleRead({ init, history, points }: Simulated, { read, snapshotAt }: { read: number; snapshotAt: number }) {
  const snapshot = new ReferenceStore(init);
  for (const i of effectOrder(points, snapshotAt)) snapshot.apply(history[i].input);
  const output = snapshot.apply(history[read].input);
  return { history: history.map((o, i) => (i === read ? { ...o, output } : o)), staleRead: read };
}

describe('checkLinearizable: cost and budget', () => {
  const big = fc.sample(scenario({ retries: true, setStock: true, unknownBooks: false, opsPerClient: [40, 40] }), { seed: 13, numRuns: 1 })[0];

  it('checks a history of 200 operations from 5 concurrent clients well under a second', () => {
    expect(big.history).toHaveLength(200);
    const started = performance.now();
    const result = check(big.init, big.history, { partition: false });
    const elapsed = performance.now() - started;
    expect(result.verdict).toBe('linearizable');
    expect(elapsed).toBeLessThan(1000);
  });

  // One read at the end of a 200-operation history (over 20 of them unanswered), answered from an
  // early snapshot (a few ms into the run): the search has to exhaust every order to reject it.
  const stale = (() => {
    const monotone = fc.sample(scenario({ retries: false, setStock: false, unknownBooks: false, opsPerClient: [40, 40] }), { seed: 13, numRuns: 1 })[0];
    const candidates = staleReadCandidates(monotone);
    return { init: monotone.init, ...withStaleRead(monotone, candidates[candidates.length - 1]) };
  })();

  it('rejects a history of 200 operations with one stale read, late in it, well under a second', () => {
    expect(stale.history).toHaveLength(200);
    expect(stale.staleRead).toBeGreaterThan(190);
    expect(stale.history.filter((o) => o.respondedAt === undefined).length).toBeGreaterThan(20);
    const started = performance.now();
    const result = check(stale.init, stale.history, { partition: false });
    const elapsed = performance.now() - started;
    expect(result.verdict).toBe('not-linearizable');
    expect(elapsed).toBeLessThan(1000);
  });

  it('needs the history in the books model for that: remembering the outcome of every order id multiplies the states', () => {
    // Unanswered decrements that are never retried leave distinct outcomes behind (ok or
    // OUT_OF_STOCK) in every order of placing them, which the memoisation cannot merge.
    expect(check(stale.init, stale.history, { partition: false }).steps).toBeLessThan(30_000);
    expect(checkRememberingAll(stale.init, stale.history, { partition: false, maxSteps: 30_000 }).verdict).toBe('unknown');
  });

  it('returns unknown, not a verdict, when the step or time budget runs out', () => {
    const steps = check(big.init, big.history, { partition: false, maxSteps: 50 });
    expect(steps).toMatchObject({ verdict: 'unknown', linearizable: false, steps: 51 });
    expect(steps.verdict === 'unknown' && steps.reason).toMatch(/step budget of 50/);
    let clock = 0;
    const time = check(big.init, big.history, { partition: false, budgetMs: 100, now: () => (clock += 1000) });
    expect(time.verdict === 'unknown' && time.reason).toMatch(/time budget/);
    expect(time.steps).toBe(256); // the clock is read every 256 steps and has then moved 1000 "ms"
  });

  it('tells, when undecided, how far the search had got', () => {
    const result = check(stale.init, stale.history, { partition: false, maxSteps: 10_000 });
    expect(result.verdict).toBe('unknown');
    if (result.verdict !== 'unknown') return;
    expect(result.furthest?.message).toMatch(/^undecided \(step budget of 10000 exhausted\); so far \d+ of 200 operations can be ordered/);
    expect(result.furthest!.longestPrefix.length).toBeGreaterThan(100);
  });
});

describe('HistoryRecorder', () => {
  it('stamps invocation and response, and records a throwing operation as indeterminate', async () => {
    let clock = 0;
    const recorder = new HistoryRecorder<BooksInput, BooksOutput>(() => (clock += 10));
    await expect(recorder.run('c1', read('a'), async () => stock({ a: 1 }))).resolves.toEqual(stock({ a: 1 }));
    await expect(
      recorder.run('c2', dec('o1', { a: 1 }), async () => {
        throw new Error('DEADLINE_EXCEEDED');
      }),
    ).rejects.toThrow('DEADLINE_EXCEEDED');
    expect(recorder.history()).toEqual([
      { client: 'c1', input: read('a'), invokedAt: 10, respondedAt: 20, output: stock({ a: 1 }) },
      { client: 'c2', input: dec('o1', { a: 1 }), invokedAt: 30 },
    ]);
    expect(check({ a: 1 }, recorder.history()).verdict).toBe('linearizable');
  });

  it('records overlapping operations with their real overlap, and an unfinished one as indeterminate', async () => {
    let clock = 0;
    const recorder = new HistoryRecorder<BooksInput, BooksOutput>(() => clock++);
    let release!: () => void;
    const slow = recorder.run('c1', dec('o1', { a: 1 }), () => new Promise<BooksOutput>((resolve) => (release = () => resolve(OK))));
    await recorder.run('c2', read('a'), () => stock({ a: 1 }));
    const unfinished = recorder.run('c3', set('a', 9), () => new Promise<BooksOutput>(() => undefined));
    expect(recorder.history()[2]).toEqual({ client: 'c3', input: set('a', 9), invokedAt: 3 });
    release();
    await slow;
    const history = recorder.history();
    expect(history.map((o) => [o.invokedAt, o.respondedAt])).toEqual([[0, 4], [1, 2], [3, undefined]]);
    expect(check({ a: 1 }, history).verdict).toBe('linearizable');
    void unfinished;
  });
});
