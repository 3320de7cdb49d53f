import type { BookView } from './api';
import { cartTotalCents, formatPrice, stockLabel } from './stock';

const book = (title: string, priceCents: number, stock: number): BookView => ({ bookId: title, title, author: '', genres: [], year: null, priceCents, stock });

describe('the shop’s prices, stock and total', () => {
  it('formats cents as dollars and stock as what is left', () => {
    expect(formatPrice(1599)).toBe('$15.99');
    expect(formatPrice(0)).toBe('$0.00');
    expect(formatPrice(123456)).toBe('$1,234.56');
    expect(stockLabel(3)).toBe('3 left');
    expect(stockLabel(1)).toBe('1 left');
    expect(stockLabel(0)).toBe('out of stock');
  });

  it('totals the cart by title, and gives no total while a price is unknown', () => {
    const byTitle = new Map([book('Emma', 1099, 12), book('Dune', 1199, 0)].map((b) => [b.title, b]));
    expect(cartTotalCents([], byTitle)).toBe(0);
    expect(cartTotalCents([{ name: 'Emma', quantity: 2 }, { name: 'Dune', quantity: 1 }], byTitle)).toBe(3397);
    expect(cartTotalCents([{ name: 'Emma', quantity: 1 }, { name: 'Unknown', quantity: 1 }], byTitle)).toBeUndefined();
  });
});
