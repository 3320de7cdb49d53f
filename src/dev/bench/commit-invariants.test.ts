import type { DumpResponse } from '../../gen/causeway/v1/books_database';
import type { Execution } from '../../gen/causeway/v1/order_executor';
import type { PaymentRecord } from '../../gen/causeway/v1/payment';
import { checkCommitInvariants, commitViolations, formatCommitCheck, isSettled, NO_COMMIT_VIOLATIONS, type CommitExpectations, type CommitState, type CommitViolations } from './commit-invariants';

/*
 * A settled system after three orders: o1 (1 × Book A, 2 × Book B) committed, o2 (same items) aborted by a
 * declined card, o3 (3 × Book A) aborted because payment did not vote in time. Book A costs 10.00, Book B 15.00.
 */
const ITEMS = [
  { name: 'Book A', quantity: 1 },
  { name: 'Book B', quantity: 2 },
];

function execution(orderId: string, decision: 'commit' | 'abort', reason = '', participants: Record<string, string> = {}, finished = true): Execution {
  return {
    orderId,
    executor: 'executor-1',
    term: 2,
    index: 10,
    failureCode: reason,
    failureMessage: reason ? 'why' : '',
    commit: { decision, reason, participants, coordinator: 'executor-1', term: 2, finished, prepareStartedMs: 0, votedMs: {}, decidedMs: 0, finishedMs: {}, amountCents: 0, votes: {} },
  };
}

function dump(stockA: number, stockB: number, digest = 'd1'): DumpResponse {
  return {
    appliedIndex: 40,
    digest,
    reserved: [],
    books: [
      { bookId: 'bk-a', title: 'Book A', priceCents: 1000, stock: stockA },
      { bookId: 'bk-b', title: 'Book B', priceCents: 1500, stock: stockB },
    ],
  };
}

const record = (txId: string, state: string, amountCents: number): PaymentRecord => ({ txId, state, amountCents, maskedCard: '**** 1111', updatedAtMs: 1 });

function goodState(): CommitState {
  const ledger = [
    execution('o1', 'commit', '', { 'books-database': 'committed', payment: 'captured' }),
    execution('o2', 'abort', 'PAYMENT_DECLINED', { 'books-database': 'aborted', payment: 'declined' }),
    execution('o3', 'abort', 'PARTICIPANT_UNAVAILABLE', { 'books-database': 'aborted', payment: 'voided' }),
  ];
  return {
    executions: { 'executor-1': ledger, 'executor-2': structuredClone(ledger), 'executor-3': structuredClone(ledger) },
    books: { 'books-1': dump(99, 98), 'books-2': dump(99, 98), 'books-3': dump(99, 98) },
    bookTx: { o1: 'committed', o2: 'aborted', o3: 'aborted' },
    booksPrepared: [],
    payments: { o1: record('o1', 'captured', 4000), o2: record('o2', 'declined', 4000), o3: record('o3', 'voided', 0) },
    paymentStatus: { inFlight: [], capturedCount: 1, voidedCount: 1, declinedCount: 1, capturedCents: 4000 },
  };
}

const expectations = (): CommitExpectations => ({
  initialStock: { 'bk-a': 100, 'bk-b': 100 },
  orders: new Map([
    ['o1', ITEMS],
    ['o2', ITEMS],
    ['o3', [{ name: 'Book A', quantity: 3 }]],
  ]),
});

/** The violation counts that are not 0. */
function violated(state: CommitState, expected = expectations()): Partial<CommitViolations> {
  const counts = commitViolations(checkCommitInvariants(state, expected));
  return Object.fromEntries(Object.entries(counts).filter(([, n]) => n > 0));
}

describe('checkCommitInvariants', () => {
  it('accepts a settled, consistent system and counts its decisions', () => {
    const check = checkCommitInvariants(goodState(), expectations());
    expect(commitViolations(check)).toEqual(NO_COMMIT_VIOLATIONS);
    expect(check).toMatchObject({ committed: 1, aborted: 2, abortReasons: { PAYMENT_DECLINED: 1, PARTICIPANT_UNAVAILABLE: 1 }, problems: [] });
    expect(formatCommitCheck(check)).toMatch(/1 committed, 2 aborted .*invariants hold/);
    expect(isSettled(goodState())).toBe(true);
  });

  const cases: [string, (s: CommitState, e: CommitExpectations) => void, Partial<CommitViolations>][] = [
    [
      'negative stock',
      (s) => {
        for (const d of Object.values(s.books)) d.books[0].stock = -1;
      },
      // -1 on hand is also not 100 − 1.
      { negativeStock: 1, stockMismatch: 1 },
    ],
    [
      'a stock decremented twice for one commit',
      (s) => {
        for (const d of Object.values(s.books)) d.books[1].stock = 96;
      },
      { stockMismatch: 1 },
    ],
    [
      'an abort that took stock anyway',
      (s) => {
        for (const d of Object.values(s.books)) d.books[0].stock = 96;
      },
      { stockMismatch: 1 },
    ],
    [
      'a committed order payment never captured (held for ever)',
      (s) => {
        s.payments.o1 = record('o1', 'held', 4000);
        s.paymentStatus = { ...s.paymentStatus, inFlight: [s.payments.o1], capturedCount: 0, capturedCents: 0 };
      },
      // Not captured (the record, and payment's counts of captures and cents), and still held.
      { notCapturedOnce: 3, inDoubt: 1 },
    ],
    [
      'a capture of the wrong amount',
      (s) => {
        s.payments.o1 = record('o1', 'captured', 3999);
        s.paymentStatus.capturedCents = 3999;
      },
      { notCapturedOnce: 2 },
    ],
    [
      'a capture payment counts beyond the committed orders (captured twice, or a stray one)',
      (s) => {
        s.paymentStatus.capturedCount = 2;
        s.paymentStatus.capturedCents = 8000;
      },
      { notCapturedOnce: 2 },
    ],
    [
      'an aborted order captured',
      (s) => {
        s.payments.o3 = record('o3', 'captured', 3000);
        s.paymentStatus.capturedCount = 2;
        s.paymentStatus.capturedCents = 7000;
      },
      { abortCaptured: 1, notCapturedOnce: 2 },
    ],
    [
      'an aborted order whose reservation the books database still holds',
      (s) => {
        s.bookTx.o3 = 'prepared';
        s.booksPrepared = ['o3'];
        for (const d of Object.values(s.books)) {
          d.reserved = [{ bookId: 'bk-a', quantity: 3 }];
          d.books[0].stock = 96; // available: on hand 99 less the 3 reserved
        }
      },
      // The books database does not say aborted; it has it prepared; its copies are reserved.
      { disagreements: 1, inDoubt: 2 },
    ],
    [
      'the books database committed what the log aborted',
      (s) => {
        s.bookTx.o3 = 'committed';
        for (const d of Object.values(s.books)) d.books[0].stock = 96;
      },
      { disagreements: 1, stockMismatch: 1 },
    ],
    [
      'a participant that never heard of the decision',
      (s) => {
        delete s.payments.o2;
        s.bookTx.o1 = 'unknown';
      },
      { disagreements: 2 },
    ],
    [
      'the ledger logging acknowledgements that contradict the decision',
      (s) => {
        for (const l of Object.values(s.executions)) l[0].commit!.participants.payment = 'voided';
      },
      { disagreements: 1 },
    ],
    [
      'a decision never finished',
      (s) => {
        for (const l of Object.values(s.executions)) l[2].commit!.finished = false;
      },
      { inDoubt: 1 },
    ],
    [
      'books replicas with different digests',
      (s) => {
        s.books['books-3'].digest = 'other';
      },
      { divergentReplicas: 1 },
    ],
    [
      'an executor replica with another decision',
      (s) => {
        s.executions['executor-2'][1].commit!.decision = 'commit';
      },
      { divergentReplicas: 1 },
    ],
    [
      'a committed order the test never placed',
      (s, e) => {
        (e.orders as Map<string, unknown>).delete('o1');
      },
      // Its copies are then unaccounted for in the stock too.
      { unaccountable: 1, stockMismatch: 2, notCapturedOnce: 1 },
    ],
    [
      'an order without commit details',
      (s) => {
        for (const l of Object.values(s.executions)) delete l[2].commit;
      },
      { unaccountable: 1 },
    ],
  ];

  it.each(cases)('rejects %s', (_what, breakIt, want) => {
    const state = goodState();
    const expected = expectations();
    breakIt(state, expected);
    const got = violated(state, expected);
    expect(got).toEqual(want);
    expect(formatCommitCheck(checkCommitInvariants(state, expected))).toMatch(/VIOLATED/);
  });

  it('accounts for a committed order with no record by the default items when given', () => {
    const expected = expectations();
    (expected.orders as Map<string, unknown>).delete('o1');
    expect(violated(goodState(), { ...expected, defaultItems: ITEMS })).toEqual({});
  });

  it('does not call an unsettled system settled', () => {
    const unfinished = goodState();
    unfinished.executions['executor-1'][0].commit!.finished = false;
    const lagging = goodState();
    lagging.executions['executor-3'].pop();
    const held = goodState();
    held.paymentStatus.inFlight = [record('o9', 'held', 100)];
    const apart = goodState();
    apart.books['books-2'] = { ...apart.books['books-2'], appliedIndex: 39 };
    for (const s of [unfinished, lagging, held, apart]) expect(isSettled(s)).toBe(false);
  });
});
