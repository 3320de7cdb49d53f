import type { BookStock } from '../gen/causeway/v1/books_database';
import { ClientError, Status } from 'nice-grpc';
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

  it('waits for an empty database to be seeded instead of pricing the order at nothing', async () => {
    let now = 0;
    const db = source([]);
    const slept: number[] = [];
    const sleep = async (ms: number) => {
      slept.push(ms);
      now += ms;
      // The first leader seeds the catalog during the third wait.
      if (slept.length === 3) db.books.push(book('Book A', 1000), book('Book B', 1500));
    };
    const prices = new PriceList(db, () => now, 1000, { waitMs: 5000, pollMs: 100, sleep });
    expect(await prices.amountCents([{ name: 'Book A', quantity: 1 }, { name: 'Book B', quantity: 2 }])).toBe(4000);
    expect(slept).toEqual([100, 100, 100]);
    expect(db.calls.reads).toBe(4);
  });

  it('gives up with UNAVAILABLE when the database is still empty after the wait, and tries again on the next checkout', async () => {
    let now = 0;
    const db = source([]);
    const sleep = async (ms: number) => {
      now += ms;
    };
    const prices = new PriceList(db, () => now, 1000, { waitMs: 1000, pollMs: 100, sleep });
    const failure = await prices.amountCents([{ name: 'Book A', quantity: 1 }]).catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(ClientError);
    expect(failure).toMatchObject({ code: Status.UNAVAILABLE, details: 'the books database still held no books after 1000 ms (not seeded yet)' });
    expect(db.calls.reads).toBe(11);
    db.books.push(book('Book A', 1000));
    expect(await prices.amountCents([{ name: 'Book A', quantity: 1 }])).toBe(1000);
  });

  it('tells /health whether the catalog is there: an empty database is read again after pollMs, a seeded one never', async () => {
    let now = 0;
    const db = source([]);
    const prices = new PriceList(db, () => now, 1000, { waitMs: 5000, pollMs: 100, sleep: async () => undefined });
    expect(await prices.isSeeded()).toBe(false);
    now = 99;
    expect(await prices.isSeeded()).toBe(false);
    expect(db.calls.reads).toBe(1);
    db.books.push(book('Book A', 1000));
    now = 100;
    expect(await prices.isSeeded()).toBe(true);
    now = 100_000;
    expect(await prices.isSeeded()).toBe(true);
    expect(db.calls.reads).toBe(2);
  });

  it('lets /health see a failed read', async () => {
    const prices = new PriceList({ read: () => Promise.reject(new Error('no leader')) });
    await expect(prices.isSeeded()).rejects.toThrow('no leader');
  });
});
