import type { BookStock } from '../gen/causeway/v1/books_database';
import { PriceList } from './prices';

const book = (title: string, priceCents: number): BookStock => ({ bookId: `bk-${title}`, title, priceCents, stock: 10 });

function source(books: BookStock[]) {
  const calls = { reads: 0 };
  return {
    calls,
    books,
    read: async () => {
      calls.reads++;
      return { books: [...books] };
    },
  };
}

describe('PriceList', () => {
  it('sums price times quantity, matching titles as the executors do (case and spaces)', async () => {
    const db = source([book('Book A', 1000), book('Book B', 1500)]);
    const prices = new PriceList(db);
    expect(await prices.amountCents([{ name: 'Book A', quantity: 1 }, { name: ' book  b ', quantity: 2 }])).toBe(4000);
  });

  it('reads the database once for known titles, and shares one read between checkouts arriving together', async () => {
    const db = source([book('Book A', 1000)]);
    const prices = new PriceList(db);
    await Promise.all([prices.amountCents([{ name: 'Book A', quantity: 1 }]), prices.amountCents([{ name: 'Book A', quantity: 3 }])]);
    await prices.amountCents([{ name: 'book a', quantity: 1 }]);
    expect(db.calls.reads).toBe(1);
  });

  it('reads again for an unknown title, at most once per refresh interval, and prices what it cannot find at 0', async () => {
    let now = 0;
    const db = source([book('Book A', 1000)]);
    const prices = new PriceList(db, () => now, 1000);
    expect(await prices.amountCents([{ name: 'Book A', quantity: 1 }, { name: 'Nope', quantity: 5 }])).toBe(1000);
    expect(db.calls.reads).toBe(1);
    now = 999;
    await prices.amountCents([{ name: 'Nope', quantity: 1 }]);
    expect(db.calls.reads).toBe(1);
    db.books.push(book('Nope', 700));
    now = 1000;
    expect(await prices.amountCents([{ name: 'Nope', quantity: 2 }])).toBe(1400);
    expect(db.calls.reads).toBe(2);
  });

  it('lets a failed read reach the caller, and tries again on the next checkout', async () => {
    const db = source([book('Book A', 1000)]);
    let fail = true;
    const prices = new PriceList({ read: () => (fail ? Promise.reject(new Error('UNAVAILABLE')) : db.read()) });
    await expect(prices.amountCents([{ name: 'Book A', quantity: 1 }])).rejects.toThrow('UNAVAILABLE');
    fail = false;
    expect(await prices.amountCents([{ name: 'Book A', quantity: 1 }])).toBe(1000);
  });
});
