import type { FinishStockRequest, PrepareStockRequest, ReadStockResponse } from '../../gen/causeway/v1/books_database';
import { BooksParticipant, booksVote, PaymentParticipant, paymentVote, type BooksParticipantPort } from './participants';

describe('participant adapters', () => {
  it("map each participant's vote strings to the coordinator's votes, and refuse one they do not know", () => {
    expect(booksVote({ vote: 'YES', bookId: '' })).toEqual({ kind: 'yes' });
    expect(booksVote({ vote: 'COMMITTED', bookId: '' })).toEqual({ kind: 'yes' });
    expect(booksVote({ vote: 'OUT_OF_STOCK', bookId: 'bk-002' })).toEqual({ kind: 'no', reason: 'OUT_OF_STOCK', detail: 'bk-002' });
    expect(booksVote({ vote: 'ABORTED', bookId: '' })).toEqual({ kind: 'no', reason: 'PARTICIPANT_ABORTED', detail: 'books-database' });
    expect(booksVote({ vote: 'STALE_TERM', bookId: '' })).toEqual({ kind: 'stale' });
    expect(() => booksVote({ vote: 'MAYBE', bookId: '' })).toThrow(/unknown vote "MAYBE"/);
    expect(paymentVote({ vote: 'DECLINED', message: 'card on the decline list' })).toEqual({ kind: 'no', reason: 'PAYMENT_DECLINED', detail: 'card on the decline list' });
    expect(paymentVote({ vote: 'UNKNOWN_TOKEN', message: '' })).toMatchObject({ kind: 'no', reason: 'UNKNOWN_TOKEN' });
    expect(paymentVote({ vote: 'STALE_TERM', message: '' })).toEqual({ kind: 'stale' });
    expect(() => paymentVote({ vote: '', message: '' })).toThrow(/payment answered an unknown vote/);
  });

  it('the books database: titles resolved to ids, an unknown title refused without a call, votes kept in order', async () => {
    const prepared: PrepareStockRequest[][] = [];
    let reads = 0;
    const port: BooksParticipantPort = {
      read: async () => (reads++, { books: [{ bookId: 'bk-001', title: 'Dune', priceCents: 999, stock: 3 }], unknownBookIds: [], index: 1 }) as ReadStockResponse,
      prepareBatch: async (txs) => {
        prepared.push([...txs]);
        return txs.map((t) => ({ vote: t.items[0].quantity > 3 ? 'OUT_OF_STOCK' : 'YES', bookId: t.items[0].bookId, index: 2 }));
      },
      finishBatch: async (txs: readonly FinishStockRequest[]) => txs.map((t) => ({ state: t.commit ? 'committed' : 'aborted', index: 3 })),
    };
    const books = new BooksParticipant(port);
    // Warming up reads the titles once; Prepare then needs no read of its own.
    await books.warm();
    expect(reads).toBe(1);
    const tx = (txId: string, name: string, quantity: number) => ({ txId, items: [{ name, quantity }], paymentToken: 'tok', amountCents: 1 });
    const votes = await books.prepare([tx('a', ' DUNE ', 1), tx('b', 'Nope', 1), tx('c', 'dune', 9)], 4);
    // A no vote names the book by its title, as the customer's order did (the database answers its id).
    expect(votes).toEqual([{ kind: 'yes' }, { kind: 'no', reason: 'UNKNOWN_BOOK', detail: 'Nope' }, { kind: 'no', reason: 'OUT_OF_STOCK', detail: 'Dune' }]);
    expect(prepared).toEqual([
      [
        { txId: 'a', items: [{ bookId: 'bk-001', quantity: 1 }], term: 4 },
        { txId: 'c', items: [{ bookId: 'bk-001', quantity: 9 }], term: 4 },
      ],
    ]);
    await expect(books.finish([{ txId: 'a', commit: true }])).resolves.toEqual(['committed']);
    expect(reads).toBe(1);
  });

  it('payment: one answer per transaction or the call fails loudly', async () => {
    let readies = 0;
    const payment = new PaymentParticipant({
      ready: async () => void readies++,
      prepareBatch: async () => [{ vote: 'YES', message: '' }],
      finishBatch: async (txs) => txs.map((t) => ({ txId: t.txId, state: t.commit ? 'captured' : 'voided', amountCents: 0, maskedCard: '', updatedAtMs: 0 })),
    });
    const tx = (txId: string) => ({ txId, items: [], paymentToken: 'tok_x', amountCents: 500 });
    await expect(payment.prepare([tx('a')], 2)).resolves.toEqual([{ kind: 'yes' }]);
    await expect(payment.prepare([tx('a'), tx('b')], 2)).rejects.toThrow(/payment answered 1 results for 2 transactions/);
    await expect(payment.finish([{ txId: 'a', commit: false }])).resolves.toEqual(['voided']);
    await payment.warm();
    expect(readies).toBe(1);
  });
});
