import type { DecrementRequest, DecrementResponse, ReadStockResponse } from '../gen/causeway/v1/books_database';
import { DeposedError, OrderExecution, type StockDatabase } from './execute-order';

/** The database as the execution step sees it: a fixed catalog, and decrements answered by the test. */
class FakeDatabase implements StockDatabase {
  reads = 0;
  readonly decrements: DecrementRequest[] = [];
  books = [
    { bookId: 'bk-023', title: 'Dune', priceCents: 1199, stock: 10 },
    { bookId: 'bk-019', title: 'Emma', priceCents: 1099, stock: 12 },
  ];
  answer: Partial<DecrementResponse> = { outcome: 'OK' };

  async read(): Promise<ReadStockResponse> {
    this.reads++;
    return { books: this.books, unknownBookIds: [], index: 7 };
  }

  /** The requests of each DecrementBatch call. */
  readonly calls: DecrementRequest[][] = [];

  async decrementBatch(requests: readonly DecrementRequest[]): Promise<DecrementResponse[]> {
    this.calls.push([...requests]);
    this.decrements.push(...requests);
    return requests.map(() => ({ outcome: 'OK', bookId: '', index: 9, replayed: false, ...this.answer }));
  }
}

describe('OrderExecution', () => {
  it('decrements every item by book id, titles matched case-insensitively, fenced by the given term', async () => {
    const db = new FakeDatabase();
    const { execute } = new OrderExecution(db);
    const order = { orderId: 'o1', items: [{ name: ' dune', quantity: 2 }, { name: 'EMMA', quantity: 1 }] };
    await expect(execute(order, 4)).resolves.toEqual({ state: 'executed' });
    expect(db.decrements).toEqual([{ orderId: 'o1', items: [{ bookId: 'bk-023', quantity: 2 }, { bookId: 'bk-019', quantity: 1 }], term: 4 }]);
    // The titles are read once: they never change after the seed.
    await execute({ orderId: 'o2', items: [{ name: 'Dune', quantity: 1 }] }, 4);
    expect(db.reads).toBe(1);
  });

  it('sends the decrements of orders executed at the same time in one call, each order getting its own outcome', async () => {
    const db = new FakeDatabase();
    const { execute } = new OrderExecution(db);
    await execute({ orderId: 'o0', items: [{ name: 'Dune', quantity: 1 }] }, 2); // reads the titles
    db.calls.length = 0;
    const outcomes = await Promise.all(['o1', 'o2', 'o3'].map((orderId) => execute({ orderId, items: [{ name: 'Emma', quantity: 1 }] }, 2)));
    expect(outcomes).toEqual([{ state: 'executed' }, { state: 'executed' }, { state: 'executed' }]);
    expect(db.calls.map((c) => c.map((r) => r.orderId))).toEqual([['o1', 'o2', 'o3']]);
  });

  it("turns the database's refusal into the order's failure, naming the book by its title", async () => {
    const db = new FakeDatabase();
    const { execute } = new OrderExecution(db);
    db.answer = { outcome: 'OUT_OF_STOCK', bookId: 'bk-019' };
    await expect(execute({ orderId: 'o1', items: [{ name: 'Dune', quantity: 1 }, { name: 'Emma', quantity: 1 }] }, 1)).resolves.toEqual({
      state: 'failed',
      failure: { code: 'OUT_OF_STOCK', message: 'not enough copies of "Emma" in stock' },
    });
  });

  it('fails an order with a title no book has, without writing to the database', async () => {
    const db = new FakeDatabase();
    const { execute } = new OrderExecution(db);
    await expect(execute({ orderId: 'o1', items: [{ name: 'Dune', quantity: 1 }, { name: 'Dune Messiah', quantity: 1 }] }, 1)).resolves.toEqual({
      state: 'failed',
      failure: { code: 'UNKNOWN_BOOK', message: 'no book titled "Dune Messiah"' },
    });
    expect(db.decrements).toEqual([]);
  });

  it('decides nothing when it is deposed, when the database is not seeded, or when it answers something unknown', async () => {
    const db = new FakeDatabase();
    const { execute } = new OrderExecution(db);
    db.answer = { outcome: 'STALE_TERM' };
    await expect(execute({ orderId: 'o1', items: [{ name: 'Dune', quantity: 1 }] }, 2)).rejects.toBeInstanceOf(DeposedError);
    db.answer = { outcome: 'MAYBE' };
    await expect(execute({ orderId: 'o1', items: [{ name: 'Dune', quantity: 1 }] }, 2)).rejects.toThrow(/unknown outcome "MAYBE"/);

    const empty = new FakeDatabase();
    empty.books = [];
    await expect(new OrderExecution(empty).execute({ orderId: 'o1', items: [{ name: 'Dune', quantity: 1 }] }, 1)).rejects.toThrow(/not seeded/);
    expect(empty.decrements).toEqual([]);
  });
});
