import { useEffect, useState } from 'react';
import type { Api, BookView } from './api';
import type { CartLine } from './cart';

/** How often the shop asks for prices and stock while it is open (and at once when the window regains focus). */
export const STOCK_POLL_MS = 3000;

/** Prices and stock by title (the cart holds titles, as the course's API does). */
export interface Stock {
  byTitle: ReadonlyMap<string, BookView>;
  /** Set while GET /books fails (the database electing a leader, say); the last values stay shown. */
  error?: string;
  /** Whether any answer has arrived yet. */
  loaded: boolean;
}

export function useStock(api: Api): Stock {
  const [stock, setStock] = useState<Stock>({ byTitle: new Map(), loaded: false });
  useEffect(() => {
    let stopped = false;
    let inFlight = false;
    const refresh = async () => {
      if (inFlight) return;
      inFlight = true;
      try {
        const { books } = await api.books();
        if (!stopped) setStock({ byTitle: new Map(books.map((b) => [b.title, b])), loaded: true });
      } catch (err) {
        if (!stopped) setStock((s) => ({ ...s, error: (err as Error).message }));
      } finally {
        inFlight = false;
      }
    };
    void refresh();
    const timer = setInterval(refresh, STOCK_POLL_MS);
    window.addEventListener('focus', refresh);
    return () => {
      stopped = true;
      clearInterval(timer);
      window.removeEventListener('focus', refresh);
    };
  }, [api]);
  return stock;
}

const money = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD' });

export const formatPrice = (cents: number): string => money.format(cents / 100);

/** "out of stock", or how many are left. */
export const stockLabel = (stock: number): string => (stock <= 0 ? 'out of stock' : `${stock} left`);

/** The cart's total in cents, or undefined while a line's price is not known. */
export function cartTotalCents(lines: readonly CartLine[], byTitle: ReadonlyMap<string, BookView>): number | undefined {
  let total = 0;
  for (const line of lines) {
    const book = byTitle.get(line.name);
    if (!book) return undefined;
    total += book.priceCents * line.quantity;
  }
  return total;
}
