import type { Entry } from '../raft/types';
import { seedBooks } from './seed';
import { decodeCommand, encodeCommand, StockState, validateCommand, type StockCommand } from './stock-state';

/** A state machine fed commands as consecutive log entries, like a replica applying the committed log. */
function replica(retain?: number) {
  const state = new StockState(retain);
  let index = 0;
  const apply = (command: StockCommand | 'noop', term = 1) => {
    const entry: Entry = command === 'noop' ? { term, index: ++index, type: 'noop' } : { term, index: ++index, type: 'command', data: encodeCommand(command) };
    return state.apply(entry);
  };
  return { state, apply };
}

const seed: StockCommand = {
  type: 'seed',
  books: [
    { bookId: 'a', title: 'Book A', priceCents: 1000, stock: 3 },
    { bookId: 'b', title: 'Book B', priceCents: 1500, stock: 1 },
  ],
};
const decrement = (orderId: string, items: [string, number][], term = 0): StockCommand => ({
  type: 'decrement',
  orderId,
  items: items.map(([bookId, quantity]) => ({ bookId, quantity })),
  term,
});

describe('StockState', () => {
  it('seeds once: a second seed (a later leader) changes nothing', () => {
    const r = replica();
    expect(r.apply('noop')).toEqual({ kind: 'noop' });
    expect(r.apply(seed)).toEqual({ kind: 'seed', seeded: true });
    r.apply(decrement('o1', [['a', 1]]));
    expect(r.apply({ type: 'seed', books: [{ bookId: 'a', title: 'Book A', priceCents: 1, stock: 99 }] })).toEqual({ kind: 'seed', seeded: false });
    expect(r.state.book('a')?.stock).toBe(2);
  });

  it('sells the last copies exactly once: three of eight single-copy orders succeed on stock 3', () => {
    const r = replica();
    r.apply(seed);
    const codes = Array.from({ length: 8 }, (_, i) => r.apply(decrement(`o${i}`, [['a', 1]]))).map((a) => (a.kind === 'decrement' ? a.outcome.code : a.kind));
    expect(codes).toEqual(['OK', 'OK', 'OK', 'OUT_OF_STOCK', 'OUT_OF_STOCK', 'OUT_OF_STOCK', 'OUT_OF_STOCK', 'OUT_OF_STOCK']);
    expect(r.state.book('a')?.stock).toBe(0);
  });

  it('is all-or-nothing over the items, and names the book that failed', () => {
    const r = replica();
    r.apply(seed);
    expect(r.apply(decrement('o1', [['a', 1], ['b', 2]]))).toMatchObject({ outcome: { code: 'OUT_OF_STOCK', bookId: 'b' } });
    expect(r.apply(decrement('o2', [['a', 1], ['zz', 1]]))).toMatchObject({ outcome: { code: 'UNKNOWN_BOOK', bookId: 'zz' } });
    // An unknown book wins over a book short of stock, wherever it stands in the order.
    expect(r.apply(decrement('o2b', [['a', 9], ['zz', 1]]))).toMatchObject({ outcome: { code: 'UNKNOWN_BOOK', bookId: 'zz' } });
    expect(r.state.all().map((b) => b.stock)).toEqual([3, 1]);
    // The same book twice counts twice.
    expect(r.apply(decrement('o3', [['a', 2], ['a', 2]]))).toMatchObject({ outcome: { code: 'OUT_OF_STOCK', bookId: 'a' } });
    expect(r.apply(decrement('o4', [['a', 2], ['b', 1]]))).toMatchObject({ outcome: { code: 'OK' } });
    expect(r.state.all().map((b) => b.stock)).toEqual([1, 0]);
  });

  it('answers a retried order id with its first outcome, decrementing nothing again', () => {
    const r = replica();
    r.apply(seed);
    const first = r.apply(decrement('o1', [['a', 2]]));
    expect(first).toMatchObject({ outcome: { code: 'OK', index: 2 }, replayed: false });
    expect(r.apply(decrement('o1', [['a', 2]]))).toMatchObject({ outcome: { code: 'OK', index: 2 }, replayed: true });
    expect(r.state.book('a')?.stock).toBe(1);
    // A refused order stays refused, even after restocking.
    expect(r.apply(decrement('o2', [['a', 5]]))).toMatchObject({ outcome: { code: 'OUT_OF_STOCK' } });
    r.apply({ type: 'set', bookId: 'a', stock: 10, term: 0 });
    expect(r.apply(decrement('o2', [['a', 5]]))).toMatchObject({ outcome: { code: 'OUT_OF_STOCK', index: 4 }, replayed: true });
    expect(r.state.book('a')?.stock).toBe(10);
  });

  it('forgets the oldest outcomes beyond its retention', () => {
    const r = replica(2);
    r.apply(seed);
    r.apply(decrement('o1', [['a', 1]]));
    r.apply(decrement('o2', [['a', 1]]));
    r.apply(decrement('o3', [['a', 1]]));
    expect(r.state.outcome('o1')).toBeUndefined();
    expect(r.state.outcome('o3')).toMatchObject({ code: 'OK' });
  });

  it('fences writes by term: lower than the highest seen is refused and not remembered', () => {
    const r = replica();
    r.apply(seed);
    expect(r.apply(decrement('o1', [['a', 1]], 5))).toMatchObject({ outcome: { code: 'OK' } });
    expect(r.apply(decrement('o2', [['a', 1]], 4))).toMatchObject({ outcome: { code: 'STALE_TERM' }, replayed: false });
    expect(r.state.outcome('o2')).toBeUndefined();
    expect(r.apply({ type: 'set', bookId: 'a', stock: 50, term: 3 })).toMatchObject({ outcome: { code: 'STALE_TERM' } });
    expect(r.apply(decrement('o2', [['a', 1]], 6))).toMatchObject({ outcome: { code: 'OK' } });
    expect(r.state.book('a')?.stock).toBe(1);
    // Unfenced writes (term 0) pass.
    expect(r.apply({ type: 'set', bookId: 'a', stock: 7, term: 0 })).toMatchObject({ outcome: { code: 'OK' }, book: { stock: 7 } });
    expect(r.apply({ type: 'set', bookId: 'nope', stock: 7, term: 0 })).toMatchObject({ outcome: { code: 'UNKNOWN_BOOK', bookId: 'nope' } });
  });

  it('restores from its snapshot to the same state, digest and outcomes, and goes on identically', () => {
    const r = replica();
    r.apply(seed);
    r.apply(decrement('o1', [['a', 1]], 2));
    r.apply(decrement('o2', [['b', 5]]));
    const copy = new StockState();
    copy.restore(r.state.snapshot());
    expect(copy.digest()).toBe(r.state.digest());
    expect(copy.applied).toBe(r.state.applied);
    const next: Entry = { term: 1, index: r.state.applied + 1, type: 'command', data: encodeCommand(decrement('o1', [['a', 1]])) };
    expect(copy.apply(next)).toEqual(r.state.apply(next));
    expect(copy.apply({ ...next, index: next.index + 1, data: encodeCommand(decrement('o3', [['a', 1]], 1)) })).toMatchObject({ outcome: { code: 'STALE_TERM' } });
  });

  it('refuses to apply out of order, and treats an invalid committed command as a broken invariant', () => {
    const r = replica();
    expect(() => r.state.apply({ term: 1, index: 5, type: 'noop' })).toThrow('applied out of order');
    expect(() => decodeCommand(JSON.stringify({ type: 'decrement', orderId: 'x', items: [], term: 0 }))).toThrow('committed command is invalid');
  });

  it('validates commands before they are proposed', () => {
    expect(validateCommand(decrement('', [['a', 1]]))).toMatch(/orderId/);
    expect(validateCommand(decrement('o', [['a', 0]]))).toMatch(/quantity/);
    expect(validateCommand(decrement('o', [['a', 1.5]]))).toMatch(/quantity/);
    expect(validateCommand({ type: 'set', bookId: 'a', stock: -1, term: 0 })).toMatch(/stock/);
    expect(validateCommand(decrement('o', [['a', 1]]))).toBeUndefined();
  });

  it('seeds the catalog with prices and stock, plus the course titles Book A and Book B', () => {
    const books = seedBooks();
    expect(validateCommand({ type: 'seed', books })).toBeUndefined();
    expect(books.length).toBe(74);
    expect(books.filter((b) => b.title === 'Book A' || b.title === 'Book B')).toHaveLength(2);
    for (const b of books) expect(b.priceCents > 0 && b.stock > 0).toBe(true);
  });
});
