/**
 * The two-phase commit's invariants (issue 14), checked after the faults are healed, from what the three parties
 * themselves report: the executors' ledgers (Executions, with each order's logged decision), the books database
 * (Dump of every replica, and the leader's Transactions for every transaction's state) and payment (Get of every
 * transaction, and Status). Used by test/two-phase-commit.test.ts and the chaos soak.
 *
 * `checkCommitInvariants` is pure: it takes the state as collected and what the test knows (the stock on hand
 * before any order, and each order's items), and counts every violation:
 * - no book's stock is negative;
 * - for each book, initial − final stock on hand = the copies of the committed orders that name it;
 * - every committed order was captured exactly once (payment `captured`, the order's amount; payment's own count of
 *   captures and captured cents equal the committed orders' number and amounts);
 * - every aborted order was never captured (payment `voided` or `declined`) and its reservation released (books
 *   `aborted`);
 * - every participant agrees with the logged decision (and with what the ledger logged it acknowledged);
 * - nothing stays in doubt: no decision unfinished in the ledger, nothing prepared in the books database, nothing
 *   held by payment, nothing reserved;
 * - the replicas agree: the books database's digests, and the executors' decisions.
 * `collectCommitState` does the I/O: it waits (up to a timeout) for the system to settle, then reads it all.
 */
import { createChannel, createClient, type Channel } from 'nice-grpc';
import { normalizeTitle } from '../../books-database-client/client';
import { BooksDatabaseDefinition, type DumpResponse } from '../../gen/causeway/v1/books_database';
import { OrderExecutorDefinition, type Execution } from '../../gen/causeway/v1/order_executor';
import { PaymentDefinition, type PaymentRecord, type PaymentStatus } from '../../gen/causeway/v1/payment';
import type { RunningSystem } from '../harness/system';

export interface OrderItem {
  /** The title, as the checkout sends it. */
  name: string;
  quantity: number;
}

/** Everything the checker reads, as the services reported it. */
export interface CommitState {
  /** Each executor replica's ledger. */
  executions: Record<string, Execution[]>;
  /** Each books replica's Dump. */
  books: Record<string, DumpResponse>;
  /** The books leader's state of every transaction in the ledger ("prepared", "committed", "aborted", "unknown"). */
  bookTx: Record<string, string>;
  /** Transactions the books leader holds prepared. */
  booksPrepared: string[];
  /** Payment's record of every transaction in the ledger. */
  payments: Record<string, PaymentRecord>;
  paymentStatus: PaymentStatus;
}

export interface CommitExpectations {
  /** Copies on hand per book id before the first order (Read or Dump: stock + reserved). */
  initialStock: Record<string, number>;
  /** What each order asked for, by order id. */
  orders: ReadonlyMap<string, readonly OrderItem[]>;
  /** The items of a committed order the test has no record of (e.g. its HTTP answer was lost); none: a violation. */
  defaultItems?: readonly OrderItem[];
}

/** What must be 0. */
export interface CommitViolations {
  /** Books whose stock on hand is below zero. */
  negativeStock: number;
  /** Books whose stock went down by another number than their committed orders' copies. */
  stockMismatch: number;
  /** Committed orders not captured exactly once for their amount (or captures payment counts beyond them). */
  notCapturedOnce: number;
  /** Aborted orders that payment captured. */
  abortCaptured: number;
  /** Participants (or the ledger's record of their acknowledgement) that disagree with the logged decision. */
  disagreements: number;
  /** Decisions unfinished, transactions prepared or held, copies reserved. */
  inDoubt: number;
  /** Books replicas whose digest differs from the others', and executor replicas whose decisions differ. */
  divergentReplicas: number;
  /** Committed orders the checker cannot account for (unknown items, unknown books, no commit details). */
  unaccountable: number;
}

export interface CommitCheck extends CommitViolations {
  committed: number;
  aborted: number;
  /** Aborts by reason. */
  abortReasons: Record<string, number>;
  /** The first few violations, in words. */
  problems: string[];
}

export const NO_COMMIT_VIOLATIONS: CommitViolations = {
  negativeStock: 0,
  stockMismatch: 0,
  notCapturedOnce: 0,
  abortCaptured: 0,
  disagreements: 0,
  inDoubt: 0,
  divergentReplicas: 0,
  unaccountable: 0,
};

/** The counts that must be 0, for comparing with NO_COMMIT_VIOLATIONS (a failure shows them all at once). */
export function commitViolations(check: CommitCheck): CommitViolations {
  return Object.fromEntries(Object.keys(NO_COMMIT_VIOLATIONS).map((k) => [k, check[k as keyof CommitViolations]])) as unknown as CommitViolations;
}

const MAX_PROBLEMS = 20;
const PAYMENT_ABORT_STATES = new Set(['voided', 'declined']);

/** Checks the invariants on collected state. Pure. */
export function checkCommitInvariants(state: CommitState, expected: CommitExpectations): CommitCheck {
  const v: CommitViolations = { ...NO_COMMIT_VIOLATIONS };
  const problems: string[] = [];
  const flag = (kind: keyof CommitViolations, message: string) => {
    v[kind]++;
    if (problems.length < MAX_PROBLEMS) problems.push(`${kind}: ${message}`);
  };

  // The executors' replicas: the same decisions everywhere; the first replica is the reference.
  const ledgers = Object.entries(state.executions);
  const decisionsOf = (l: Execution[]) => l.map((e) => `${e.orderId}:${e.commit?.decision ?? '-'}:${e.commit?.finished ?? '-'}`).sort().join();
  const reference = ledgers[0]?.[1] ?? [];
  for (const [id, ledger] of ledgers.slice(1)) if (decisionsOf(ledger) !== decisionsOf(reference)) flag('divergentReplicas', `executor ${id}'s decisions differ from ${ledgers[0][0]}'s`);

  // The books replicas: equal digests; the first replica's books are the reference.
  const dumps = Object.entries(state.books);
  const digests = new Set(dumps.map(([, d]) => d.digest));
  if (digests.size > 1) for (const [id, d] of dumps.slice(1)) if (d.digest !== dumps[0][1].digest) flag('divergentReplicas', `books replica ${id}'s digest differs from ${dumps[0][0]}'s`);
  const dump = dumps[0]?.[1];
  const reservedByBook = new Map((dump?.reserved ?? []).map((r) => [r.bookId, r.quantity]));
  const books = new Map((dump?.books ?? []).map((b) => [b.bookId, { ...b, onHand: b.stock + (reservedByBook.get(b.bookId) ?? 0) }]));
  const byTitle = new Map([...books.values()].map((b) => [normalizeTitle(b.title), b]));
  for (const [bookId, n] of reservedByBook) if (n > 0) flag('inDoubt', `${n} copies of ${bookId} still reserved`);

  let committed = 0;
  let aborted = 0;
  const abortReasons: Record<string, number> = {};
  const taken = new Map<string, number>();
  let committedCents = 0;
  for (const e of reference) {
    const commit = e.commit;
    if (!commit) {
      flag('unaccountable', `order ${e.orderId} has no commit details (not committed through two-phase commit)`);
      continue;
    }
    if (!commit.finished) flag('inDoubt', `the decision on ${e.orderId} (${commit.decision}) is not finished`);
    const booksState = state.bookTx[e.orderId] ?? 'unknown';
    const payment = state.payments[e.orderId];
    const paymentState = payment?.state ?? 'unknown';
    const acked = commit.participants;
    if (commit.decision === 'commit') {
      committed++;
      if (booksState !== 'committed') flag('disagreements', `order ${e.orderId} committed, but the books database has it ${booksState}`);
      if (commit.finished && (acked['books-database'] !== 'committed' || acked.payment !== 'captured')) {
        flag('disagreements', `order ${e.orderId} committed, but the ledger logged the participants as ${JSON.stringify(acked)}`);
      }
      const items = expected.orders.get(e.orderId) ?? expected.defaultItems;
      if (!items) {
        flag('unaccountable', `committed order ${e.orderId} is not one the test placed`);
        continue;
      }
      let amount = 0;
      let known = true;
      for (const item of items) {
        const book = byTitle.get(normalizeTitle(item.name));
        if (!book) {
          known = false;
          flag('unaccountable', `committed order ${e.orderId} names "${item.name}", which the books database does not hold`);
          continue;
        }
        taken.set(book.bookId, (taken.get(book.bookId) ?? 0) + item.quantity);
        amount += book.priceCents * item.quantity;
      }
      committedCents += amount;
      if (paymentState !== 'captured') flag('notCapturedOnce', `committed order ${e.orderId}: payment has it ${paymentState}`);
      else if (known && payment!.amountCents !== amount) flag('notCapturedOnce', `committed order ${e.orderId}: captured ${payment!.amountCents} cents, its amount is ${amount}`);
    } else {
      aborted++;
      abortReasons[commit.reason || '?'] = (abortReasons[commit.reason || '?'] ?? 0) + 1;
      if (paymentState === 'captured') flag('abortCaptured', `aborted order ${e.orderId} (${commit.reason}) was captured`);
      else if (!PAYMENT_ABORT_STATES.has(paymentState)) flag('disagreements', `order ${e.orderId} aborted, but payment has it ${paymentState}`);
      if (booksState !== 'aborted') flag('disagreements', `order ${e.orderId} aborted, but the books database has it ${booksState}`);
      if (commit.finished && (acked['books-database'] !== 'aborted' || !PAYMENT_ABORT_STATES.has(acked.payment ?? ''))) {
        flag('disagreements', `order ${e.orderId} aborted, but the ledger logged the participants as ${JSON.stringify(acked)}`);
      }
    }
  }

  // Exactly once, from payment's side: it captured nothing beyond the committed orders.
  if (state.paymentStatus.capturedCount !== committed) flag('notCapturedOnce', `payment counts ${state.paymentStatus.capturedCount} captures for ${committed} committed orders`);
  if (state.paymentStatus.capturedCents !== committedCents) flag('notCapturedOnce', `payment captured ${state.paymentStatus.capturedCents} cents; the committed orders come to ${committedCents}`);
  for (const held of state.paymentStatus.inFlight) flag('inDoubt', `payment still holds ${held.txId}`);
  for (const txId of state.booksPrepared) flag('inDoubt', `the books database still has ${txId} prepared`);

  for (const [bookId, book] of books) {
    if (book.stock < 0 || book.onHand < 0) flag('negativeStock', `${bookId} has ${book.onHand} on hand`);
    const initial = expected.initialStock[bookId];
    if (initial === undefined) continue;
    const want = taken.get(bookId) ?? 0;
    if (initial - book.onHand !== want) flag('stockMismatch', `${bookId}: ${initial} → ${book.onHand} on hand, but committed orders took ${want}`);
  }
  for (const bookId of taken.keys()) if (!books.has(bookId)) flag('stockMismatch', `committed orders took ${bookId}, which no replica reports`);

  return { ...v, committed, aborted, abortReasons, problems };
}

/** Stock on hand per book id, from a Dump (available + reserved). */
export function onHand(dump: DumpResponse): Record<string, number> {
  const reserved = new Map(dump.reserved.map((r) => [r.bookId, r.quantity]));
  return Object.fromEntries(dump.books.map((b) => [b.bookId, b.stock + (reserved.get(b.bookId) ?? 0)]));
}

/** Raw clients of every participant and executor of a running system (no leader following, no retries). */
export class CommitProbe {
  private readonly channels: Channel[] = [];
  readonly executors: Record<string, ReturnType<typeof createClient<typeof OrderExecutorDefinition>>>;
  readonly books: Record<string, ReturnType<typeof createClient<typeof BooksDatabaseDefinition>>>;
  readonly payment: ReturnType<typeof createClient<typeof PaymentDefinition>>;

  constructor(system: RunningSystem) {
    const channel = (address: string) => {
      const c = createChannel(address);
      this.channels.push(c);
      return c;
    };
    this.executors = Object.fromEntries(Object.entries(system.executors).map(([id, a]) => [id, createClient(OrderExecutorDefinition, channel(a))]));
    this.books = Object.fromEntries(Object.entries(system.booksDatabase).map(([id, a]) => [id, createClient(BooksDatabaseDefinition, channel(a))]));
    this.payment = createClient(PaymentDefinition, channel(system.addresses.payment));
  }

  close(): void {
    for (const c of this.channels) c.close();
  }

  /** Whichever books replica answers a linearizable call (the leader); throws if none does. */
  async booksLeader<T>(call: (client: CommitProbe['books'][string]) => Promise<T>): Promise<T> {
    let last: unknown;
    for (const client of Object.values(this.books)) {
      try {
        return await call(client);
      } catch (err) {
        last = err;
      }
    }
    throw last instanceof Error ? last : new Error('no books replica answered');
  }

  /** The books leader's state of each transaction. */
  async bookTransactions(txIds: readonly string[]): Promise<{ states: Record<string, string>; prepared: string[] }> {
    const states: Record<string, string> = {};
    let prepared: string[] = [];
    for (let i = 0; i === 0 || i < txIds.length; i += 5000) {
      const answer = await this.booksLeader((c) => c.transactions({ txIds: txIds.slice(i, i + 5000) }, { signal: AbortSignal.timeout(5000) }));
      for (const t of answer.asked) states[t.txId] = t.state;
      prepared = answer.prepared.map((t) => t.txId);
    }
    return { states, prepared };
  }

  /** Stock on hand per book, as the books leader reads it (linearizable). */
  async stockOnHand(): Promise<Record<string, number>> {
    const { books } = await this.booksLeader((c) => c.read({ bookIds: [] }, { signal: AbortSignal.timeout(5000) }));
    const { prepared } = await this.bookTransactions([]);
    if (prepared.length > 0) throw new Error(`${prepared.length} transactions are prepared: stock on hand is not settled`);
    return Object.fromEntries(books.map((b) => [b.bookId, b.stock]));
  }

  /** Everything the checker reads, once. */
  async read(): Promise<CommitState> {
    const timeout = () => ({ signal: AbortSignal.timeout(10_000) });
    const executions: Record<string, Execution[]> = {};
    for (const [id, c] of Object.entries(this.executors)) executions[id] = (await c.executions({ orderIds: [] }, timeout())).executions;
    const books: Record<string, DumpResponse> = {};
    for (const [id, c] of Object.entries(this.books)) books[id] = await c.dump({}, timeout());
    const txIds = [...new Set(Object.values(executions).flatMap((l) => l.map((e) => e.orderId)))];
    const { states: bookTx, prepared: booksPrepared } = await this.bookTransactions(txIds);
    const payments: Record<string, PaymentRecord> = {};
    for (let i = 0; i < txIds.length; i += 32) {
      const records = await Promise.all(txIds.slice(i, i + 32).map((txId) => this.payment.get({ txId }, timeout())));
      for (const r of records) payments[r.txId] = r;
    }
    return { executions, books, bookTx, booksPrepared, payments, paymentStatus: await this.payment.status({}, timeout()) };
  }

  /**
   * Waits (up to `timeoutMs`) until the system has settled: every decision finished and the same on every executor,
   * nothing prepared or held, the books replicas at one applied index with one digest. Then reads it. A system that
   * never settles is read as it is: the checker then counts what is wrong, rather than this timing out.
   */
  async settled(timeoutMs = 60_000): Promise<{ state: CommitState; settled: boolean }> {
    const deadline = Date.now() + timeoutMs;
    let state: CommitState | undefined;
    for (;;) {
      try {
        state = await this.read();
        if (isSettled(state)) return { state, settled: true };
      } catch {
        // a replica restarting, or no books leader right now: try again
      }
      if (Date.now() >= deadline) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    return { state: state ?? (await this.read()), settled: false };
  }
}

/** Nothing in flight, and every replica the same. */
export function isSettled(state: CommitState): boolean {
  const ledgers = Object.values(state.executions);
  const sizes = new Set(ledgers.map((l) => l.length));
  const dumps = Object.values(state.books);
  return (
    sizes.size === 1 &&
    ledgers.every((l) => l.every((e) => e.commit?.finished !== false)) &&
    state.booksPrepared.length === 0 &&
    state.paymentStatus.inFlight.length === 0 &&
    new Set(dumps.map((d) => d.digest)).size === 1 &&
    new Set(dumps.map((d) => d.appliedIndex)).size === 1 &&
    dumps.every((d) => d.reserved.length === 0)
  );
}

/** One line for a report: the counts, and the first problems if any. */
export function formatCommitCheck(check: CommitCheck): string {
  const reasons = Object.entries(check.abortReasons).map(([k, n]) => `${k} ×${n}`).join(', ');
  const bad = Object.entries(commitViolations(check)).filter(([, n]) => n > 0);
  return (
    `${check.committed} committed, ${check.aborted} aborted${reasons ? ` (${reasons})` : ''}; ` +
    (bad.length === 0 ? 'invariants hold' : `VIOLATED: ${bad.map(([k, n]) => `${k} ${n}`).join(', ')}\n  ${check.problems.join('\n  ')}`)
  );
}
