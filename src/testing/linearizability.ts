import { performance } from 'node:perf_hooks';

/**
 * A linearizability checker for recorded histories of concurrent operations.
 *
 * A history is linearizable when there is one sequential order of all its operations that (a) a
 * sequential model accepts, output by output, and (b) respects real time: an operation that
 * returned before another was invoked comes first. The search is Wing & Gong's, with Lowe's
 * memoisation, as Porcupine runs it:
 *
 *  - Every operation becomes two entries, its call and its return, in one list sorted by time.
 *  - Walking the list from the front, a call entry is a candidate to linearize next: if the model
 *    accepts its output from the current state, the operation is taken out of the list (both
 *    entries), pushed on a stack, and the walk restarts at the front.
 *  - Reaching a return entry means that operation returned while still unplaced, and no candidate
 *    before it worked: a dead end. Pop the last placed operation, put its entries back and try
 *    the next candidate after it. An empty stack at a dead end means no order exists.
 *  - Lowe's memoisation: the pair (set of placed operations, model state) fully determines what
 *    can still follow, so a pair met before is never explored again.
 *
 * An operation without a response (a timeout, a crashed client) is "indeterminate": it may have
 * taken effect at any point after its invocation, or never. Like Knossos and Porcupine, it gets a
 * return time of +infinity and an unknown output; the model must accept any unknown output and
 * apply the effect the operation would have had. Placing it after every other operation is the
 * "never" case, so nothing else is needed. One pruning keeps such operations cheap: where placing
 * one would not change the state, it is not placed there, since it could as well take effect last.
 *
 * Ties: at equal times, calls sort before returns, so operations that merely touch (one returns
 * at the instant the other is invoked) count as concurrent. A coarse clock can then only make the
 * checker more lenient, never reject a correct history. With a logical counter, use distinct values.
 *
 * P-compositionality: linearizability is local, so operations on independent objects can be
 * checked separately, which shrinks the search exponentially. A model may name the objects
 * (keys) each operation touches; operations connected through shared keys form one part, and each
 * part is checked alone. For the books database a multi-book read or decrement joins its books,
 * and an order id joins a decrement with its retries, so a history of multi-book operations
 * usually collapses into a single part: the split helps only when operations touch one book each.
 *
 * The search is exponential in the worst case, in practice mostly in the number of indeterminate
 * operations that change the state; a budget (wall time, default 10 s, and/or steps) stops it with
 * the verdict "unknown" rather than letting a test hang.
 *
 * Exports: `checkLinearizable(model, history, options)`, the `Model` and `Operation` types, a
 * `HistoryRecorder` for real clients, and `booksModel` for the books database.
 */

/** A sequential specification of the object under test. */
export interface Model<S, I, O> {
  readonly init: S;
  /**
   * Applies `input` to `state`. `ok` says whether the sequential object could have produced
   * `output`; `next` is the state afterwards. `output` is undefined for an indeterminate operation:
   * accept it (`ok: true`) and apply the effect it would have had. Must not modify `state`.
   */
  step(state: S, input: I, output: O | undefined): { ok: boolean; next: S };
  /** A string equal for two states exactly when they are equal (used for memoisation). */
  key(state: S): string;
  /** Optional: the keys (independent objects) an operation reads or writes; see P-compositionality.
   * Only sound if the state is a product of per-key parts and an operation's output and effect
   * depend on and change only the parts of its own keys. */
  partitionKeys?(input: I): readonly string[];
  /** Optional: a short rendering of a state for explanations (default: `key`). */
  describe?(state: S): string;
}

/**
 * One operation of a history. `respondedAt` and `output` are both present for a completed
 * operation and both absent for an indeterminate one. `client` only labels explanations: the
 * checker uses times alone, so a client may go on after an indeterminate operation.
 */
export interface Operation<I, O> {
  client: string | number;
  input: I;
  invokedAt: number;
  respondedAt?: number;
  output?: O;
}

export interface CheckOptions {
  /** Wall-clock budget for the search; default 10 s. */
  budgetMs?: number;
  /** Step budget (call entries tried plus backtracks); default unlimited. */
  maxSteps?: number;
  /** Check independent parts separately when the model provides `partitionKeys`; default true. */
  partition?: boolean;
  /** Clock for the budget, in ms; default `performance.now`. */
  now?: () => number;
}

/** Why a history was rejected: how far the search got before the history became impossible. */
export interface Explanation<S> {
  /** The longest sequence of operations (indices into the history) the model accepted in an order
   * that respects real time, in that order. Not unique: it is the first of that length found. */
  longestPrefix: number[];
  /** The model state after that prefix. */
  stateAfterPrefix: S;
  /** The operation that returned before it could be placed after the prefix. */
  stuckAt: number;
  /** Operations invoked before `stuckAt` returned but not in the prefix: the candidates that were
   * tried next (besides `stuckAt` itself) and none of which led to a complete order. */
  pending: number[];
  /** A sentence for a test failure message. */
  message: string;
}

interface Stats {
  /** Search steps over all parts. */
  steps: number;
  /** Number of independently checked parts (1 without partitioning). */
  parts: number;
  elapsedMs: number;
}

/** The verdict. `linearizable` is true only when proven: a test asserting it treats "unknown" as a failure. */
export type CheckResult<S> =
  | (Stats & { verdict: 'linearizable'; linearizable: true; /** One valid order per part (history indices). */ witnesses: number[][] })
  | (Stats & { verdict: 'not-linearizable'; linearizable: false; explanation: Explanation<S> })
  | (Stats & {
      verdict: 'unknown';
      linearizable: false;
      /** Which budget ran out. */
      reason: string;
      /** How far the search had got when it stopped, if it had met a dead end: a hint where to
       * look, not a proof that the history is not linearizable. */
      furthest?: Explanation<S>;
    });

/** Checks `history` against `model`. Throws only for a malformed history (a programming error). */
export function checkLinearizable<S, I, O>(model: Model<S, I, O>, history: readonly Operation<I, O>[], options: CheckOptions = {}): CheckResult<S> {
  history.forEach(validate);
  const now = options.now ?? (() => performance.now());
  const started = now();
  const budget = { deadline: started + (options.budgetMs ?? 10_000), maxSteps: options.maxSteps ?? Infinity, steps: 0, now };
  const parts = options.partition !== false && model.partitionKeys ? partition(history, model.partitionKeys.bind(model)) : [history.map((_, i) => i)];
  const witnesses: number[][] = [];
  for (const part of parts) {
    const outcome = search(model, part.map((i) => history[i]), budget);
    const stats = { steps: budget.steps, parts: parts.length, elapsedMs: now() - started };
    if (outcome.kind === 'unknown') {
      const furthest = outcome.furthest && explain(model, history, part, outcome.furthest, `undecided (${outcome.reason}); so far`);
      return { ...stats, verdict: 'unknown', linearizable: false, reason: outcome.reason, ...(furthest && { furthest }) };
    }
    if (outcome.kind === 'illegal') return { ...stats, verdict: 'not-linearizable', linearizable: false, explanation: explain(model, history, part, outcome, 'not linearizable: at best') };
    witnesses.push(outcome.order.map((local) => part[local]));
  }
  return { steps: budget.steps, parts: parts.length, elapsedMs: now() - started, verdict: 'linearizable', linearizable: true, witnesses };
}

function validate<I, O>(op: Operation<I, O>, index: number): void {
  const complete = op.respondedAt !== undefined;
  if (!Number.isFinite(op.invokedAt)) throw new Error(`operation ${index}: invokedAt must be a finite number`);
  if (complete !== (op.output !== undefined)) throw new Error(`operation ${index}: respondedAt and output must be both present (completed) or both absent (indeterminate)`);
  if (complete && !(op.respondedAt! >= op.invokedAt)) throw new Error(`operation ${index}: respondedAt ${op.respondedAt} is before invokedAt ${op.invokedAt}`);
}

/** Groups operations connected through shared keys (union-find); returns history indices per part. */
function partition<I, O>(history: readonly Operation<I, O>[], keysOf: (input: I) => readonly string[]): number[][] {
  const parent = history.map((_, i) => i);
  const find = (i: number): number => {
    while (parent[i] !== i) i = parent[i] = parent[parent[i]]; // path halving
    return i;
  };
  const owner = new Map<string, number>();
  history.forEach((op, i) => {
    for (const key of keysOf(op.input)) {
      const other = owner.get(key);
      if (other === undefined) owner.set(key, i);
      else parent[find(i)] = find(other);
    }
  });
  const groups = new Map<number, number[]>();
  history.forEach((_, i) => {
    const root = find(i);
    const group = groups.get(root);
    if (group) group.push(i);
    else groups.set(root, [i]);
  });
  return [...groups.values()];
}

type SearchOutcome<S> =
  | { kind: 'ok'; order: number[] }
  | { kind: 'illegal'; prefix: number[]; state: S; stuckAt: number; pending: number[] }
  | { kind: 'unknown'; reason: string; furthest?: Extract<SearchOutcome<S>, { kind: 'illegal' }> };

/**
 * The Wing & Gong / Lowe search over one part. Entries live in a doubly linked list over arrays
 * (index 0 = head sentinel, 2n + 1 = tail sentinel); operation i has its call at entry `2i + 1`
 * and its return at `2i + 2` before sorting, and taking an operation out unlinks both, so putting
 * it back in reverse order restores the list exactly ("dancing links").
 */
function search<S, I, O>(
  model: Model<S, I, O>,
  ops: readonly Operation<I, O>[],
  budget: { deadline: number; maxSteps: number; steps: number; now: () => number },
): SearchOutcome<S> {
  const n = ops.length;
  const HEAD = 0;
  const TAIL = 2 * n + 1;
  const entryTime = (e: number) => (e % 2 === 1 ? ops[(e - 1) >> 1].invokedAt : ops[(e - 2) >> 1].respondedAt ?? Infinity);
  const isCall = (e: number) => e % 2 === 1;
  const opOf = (e: number) => (e - 1) >> 1;
  // Sort by time; at equal times calls first (see the module comment), then by operation index.
  const sorted = Array.from({ length: 2 * n }, (_, k) => k + 1).sort(
    (a, b) => entryTime(a) - entryTime(b) || Number(isCall(b)) - Number(isCall(a)) || a - b,
  );
  const next = new Int32Array(2 * n + 2);
  const prev = new Int32Array(2 * n + 2);
  [HEAD, ...sorted, TAIL].forEach((e, k, list) => {
    if (k > 0) prev[e] = list[k - 1];
    if (k < list.length - 1) next[e] = list[k + 1];
  });
  const unlink = (e: number) => {
    next[prev[e]] = next[e];
    prev[next[e]] = prev[e];
  };
  const relink = (e: number) => {
    next[prev[e]] = e;
    prev[next[e]] = e;
  };

  // The set of placed operations as a bitset, 16 bits per word so a word is one string character.
  const placed = new Uint16Array(Math.ceil(n / 16));
  const flip = (op: number) => (placed[op >> 4] ^= 1 << (op & 15));
  const seen = new Set<string>();
  const stack: { op: number; before: S; beforeKey: string }[] = [];
  let state = model.init;
  let stateKey = model.key(state);
  let completedLeft = ops.filter((o) => o.respondedAt !== undefined).length;
  let best: Extract<SearchOutcome<S>, { kind: 'illegal' }> | undefined;

  let entry = next[HEAD];
  while (next[HEAD] !== TAIL) {
    budget.steps++;
    if (budget.steps > budget.maxSteps) return { kind: 'unknown', reason: `step budget of ${budget.maxSteps} exhausted`, furthest: best };
    if ((budget.steps & 255) === 0 && budget.now() > budget.deadline) return { kind: 'unknown', reason: 'time budget exhausted', furthest: best };
    const op = opOf(entry);
    if (isCall(entry)) {
      const { ok, next: after } = model.step(state, ops[op].input, ops[op].output);
      const afterKey = ok ? model.key(after) : '';
      const indeterminate = ops[op].respondedAt === undefined;
      // An indeterminate operation that would change nothing here can as well take effect last
      // (it constrains nobody, and its step always succeeds), so it is not placed here. This keeps
      // indeterminate reads and no-op writes from multiplying the search.
      const pointless = indeterminate && afterKey === stateKey && completedLeft > 0;
      if (ok && !pointless) {
        flip(op);
        const memo = String.fromCharCode(...placed) + '\u0000' + afterKey;
        if (!seen.has(memo)) {
          seen.add(memo);
          stack.push({ op, before: state, beforeKey: stateKey });
          state = after;
          stateKey = afterKey;
          if (!indeterminate) completedLeft--;
          unlink(2 * op + 1);
          unlink(2 * op + 2);
          entry = next[HEAD];
          continue;
        }
        flip(op);
      }
      entry = next[entry];
    } else {
      // `op` returned and is still unplaced: nothing placed so far can be followed consistently.
      if (!best || stack.length > best.prefix.length) {
        const pending: number[] = [];
        for (let e = next[HEAD]; e !== entry; e = next[e]) if (isCall(e) && opOf(e) !== op) pending.push(opOf(e));
        best = { kind: 'illegal', prefix: stack.map((s) => s.op), state, stuckAt: op, pending };
      }
      const last = stack.pop();
      if (!last) return best;
      state = last.before;
      stateKey = last.beforeKey;
      if (ops[last.op].respondedAt !== undefined) completedLeft++;
      flip(last.op);
      relink(2 * last.op + 2);
      relink(2 * last.op + 1);
      entry = next[2 * last.op + 1];
    }
  }
  return { kind: 'ok', order: stack.map((s) => s.op) };
}

function explain<S, I, O>(
  model: Model<S, I, O>,
  history: readonly Operation<I, O>[],
  part: number[],
  found: Extract<SearchOutcome<S>, { kind: 'illegal' }>,
  lead: string,
): Explanation<S> {
  const global = (local: number) => part[local];
  const show = (i: number) => {
    const op = history[i];
    const result = op.respondedAt === undefined ? '(no response)' : JSON.stringify(op.output);
    return `#${i} client ${op.client} [${op.invokedAt}, ${op.respondedAt ?? '∞'}] ${JSON.stringify(op.input)} → ${result}`;
  };
  const longestPrefix = found.prefix.map(global);
  const stuckAt = global(found.stuckAt);
  const pending = found.pending.map(global);
  const state = (model.describe ?? model.key).call(model, found.state);
  const message =
    `${lead} ${longestPrefix.length} of ${part.length} operations` +
    (part.length < history.length ? ` (of one independent part of ${history.length})` : '') +
    ` can be ordered [${longestPrefix.join(', ')}], reaching state ${state}; no continuation of that order places ` +
    `${show(stuckAt)} before its response (the other candidates were [${pending.join(', ')}]).`;
  return { longestPrefix, stateAfterPrefix: found.state, stuckAt, pending, message };
}

/**
 * Records a history from real clients: stamps invocation and response with `performance.now()`
 * (or the given clock). An operation that throws, or has not finished when the history is taken,
 * is recorded as indeterminate; that is always sound, even for a definite failure (it may have
 * taken effect "never"), only less strict. The output of an operation must not be `undefined`.
 */
export class HistoryRecorder<I, O> {
  private readonly ops: Operation<I, O>[] = [];

  constructor(private readonly now: () => number = () => performance.now()) {}

  async run(client: string | number, input: I, perform: () => O | Promise<O>): Promise<O> {
    const op: Operation<I, O> = { client, input, invokedAt: this.now() };
    this.ops.push(op);
    const output = await perform(); // on a throw, `op` stays indeterminate and the error propagates
    if (output === undefined) throw new Error('HistoryRecorder: an operation must not resolve to undefined');
    op.respondedAt = this.now();
    op.output = output;
    return output;
  }

  /** A copy of the history so far, in invocation order. */
  history(): Operation<I, O>[] {
    return this.ops.map((op) => ({ ...op }));
  }
}

// ---------------------------------------------------------------------------------------------
// The books database model.

export interface BookItem {
  bookId: string;
  quantity: number;
}
export type DecrementOutcome = { ok: true } | { ok: false; reason: 'OUT_OF_STOCK' | 'UNKNOWN_BOOK' };
export type BooksInput =
  | { op: 'read'; bookIds: string[] }
  | { op: 'decrement'; orderId: string; items: BookItem[] }
  | { op: 'setStock'; bookId: string; stock: number };
/** read → `{stock}` (requested books that exist; unknown ones absent); decrement → its outcome; setStock → `{ok: true}`. */
export type BooksOutput = { stock: Record<string, number> } | DecrementOutcome;

export interface BooksState {
  readonly stock: ReadonlyMap<string, number>;
  /** The first outcome of every order id seen (that is retried, if the model was given the
   * history): a retry returns it and changes nothing. */
  readonly outcomes: ReadonlyMap<string, DecrementOutcome>;
}

/**
 * The sequential specification of the books database, with stock `initialStock` (books absent
 * from it are unknown until a `setStock`). Assumptions, to be matched by the database:
 *  - `read` is atomic over all its books and omits unknown books from its map;
 *  - `decrement` quantities are positive; it is all or nothing; an order naming an unknown book
 *    fails UNKNOWN_BOOK whatever the stock, else one whose total quantity of some book exceeds its
 *    stock fails OUT_OF_STOCK; the first outcome of an order id, failure included, is final and
 *    returned to every retry, even if the retry names other items;
 *  - `setStock` always succeeds and also creates an unknown book.
 * Pass the very history that will be checked: the model then remembers outcomes only of the
 * order ids that occur more than once in it (no other can be asked again). Otherwise each
 * unanswered decrement leaves a different outcome behind in each order the search tries, which
 * memoisation cannot merge: in the tests, a 200-operation rejection with 33 unanswered operations
 * takes 17k steps with the history and does not finish in 30k, or 10 s, without it.
 */
export function booksModel(initialStock: Record<string, number>, history?: readonly Operation<BooksInput, BooksOutput>[]): Model<BooksState, BooksInput, BooksOutput> {
  const remember = retriedOrderIds(history);
  const sortedEntries = <V>(map: ReadonlyMap<string, V>) => [...map].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return {
    init: { stock: new Map(Object.entries(initialStock)), outcomes: new Map() },

    step(state, input, output) {
      const unchanged = (ok: boolean) => ({ ok, next: state });
      switch (input.op) {
        case 'read': {
          if (output === undefined) return unchanged(true);
          if (!('stock' in output)) return unchanged(false);
          const expected = input.bookIds.filter((id) => state.stock.has(id));
          const got = Object.keys(output.stock);
          const same = got.length === new Set(expected).size && expected.every((id) => output.stock[id] === state.stock.get(id));
          return unchanged(same);
        }
        case 'decrement': {
          const first = state.outcomes.get(input.orderId);
          if (first) return unchanged(output === undefined || sameOutcome(first, output));
          const need = new Map<string, number>();
          for (const { bookId, quantity } of input.items) need.set(bookId, (need.get(bookId) ?? 0) + quantity);
          const ids = [...need.keys()];
          const outcome: DecrementOutcome = ids.some((id) => !state.stock.has(id))
            ? { ok: false, reason: 'UNKNOWN_BOOK' }
            : ids.some((id) => need.get(id)! > state.stock.get(id)!)
              ? { ok: false, reason: 'OUT_OF_STOCK' }
              : { ok: true };
          if (output !== undefined && !sameOutcome(outcome, output)) return unchanged(false);
          const outcomes = remember(input.orderId) ? new Map(state.outcomes).set(input.orderId, outcome) : state.outcomes;
          if (!outcome.ok) return { ok: true, next: { stock: state.stock, outcomes } };
          const stock = new Map(state.stock);
          for (const [id, quantity] of need) stock.set(id, stock.get(id)! - quantity);
          return { ok: true, next: { stock, outcomes } };
        }
        case 'setStock': {
          if (output !== undefined && !('ok' in output && output.ok)) return unchanged(false);
          return { ok: true, next: { stock: new Map(state.stock).set(input.bookId, input.stock), outcomes: state.outcomes } };
        }
      }
    },

    key: (state) => JSON.stringify([sortedEntries(state.stock), sortedEntries(state.outcomes).map(([id, o]) => [id, o.ok ? 'ok' : o.reason])]),

    partitionKeys: (input) =>
      input.op === 'read'
        ? input.bookIds.map((id) => `book:${id}`)
        : input.op === 'setStock'
          ? [`book:${input.bookId}`]
          : [`order:${input.orderId}`, ...input.items.map((item) => `book:${item.bookId}`)],

    describe: (state) =>
      `{stock: ${JSON.stringify(Object.fromEntries(sortedEntries(state.stock)))}` +
      (state.outcomes.size ? `, orders: ${sortedEntries(state.outcomes).map(([id, o]) => `${id}=${o.ok ? 'ok' : o.reason}`).join(' ')}` : '') +
      '}',
  };
}

/** Which order ids a model must remember: those occurring more than once in `history` (all without it). */
function retriedOrderIds(history: readonly Operation<BooksInput, BooksOutput>[] | undefined): (orderId: string) => boolean {
  if (!history) return () => true;
  const seen = new Set<string>();
  const retried = new Set<string>();
  for (const { input } of history) if (input.op === 'decrement') (seen.has(input.orderId) ? retried : seen).add(input.orderId);
  return (orderId) => retried.has(orderId);
}

function sameOutcome(expected: DecrementOutcome, output: BooksOutput): boolean {
  if (!('ok' in output) || output.ok !== expected.ok) return false;
  return output.ok || expected.ok || output.reason === expected.reason;
}
