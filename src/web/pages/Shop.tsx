import { useEffect, useState } from 'react';
import type { Api, Book } from '../api';
import type { Cart } from '../cart';
import { cartTotalCents, formatPrice, stockLabel, type Stock } from '../stock';

export function Shop({ api, cart, stock }: { api: Api; cart: Cart; stock: Stock }) {
  const [books, setBooks] = useState<Book[] | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [filter, setFilter] = useState('');
  useEffect(() => {
    api.catalog().then(
      (r) => setBooks(r.books),
      (e: Error) => setError(e.message),
    );
  }, [api]);
  if (error) return <p role="alert" className="error">{error}</p>;
  if (!books) return <p aria-busy="true">Loading the catalog…</p>;
  const shown = books.filter((b) => `${b.title} ${b.author} ${(b.genres ?? []).join(' ')}`.toLowerCase().includes(filter.toLowerCase()));
  const total = cartTotalCents(cart.lines, stock.byTitle);
  return (
    <section aria-labelledby="shop-title">
      <div className="section-head">
        <h1 id="shop-title">Books</h1>
        <label className="search">
          <span>Search</span>
          <input type="search" value={filter} onChange={(e) => setFilter(e.target.value)} placeholder="title, author or genre" />
        </label>
      </div>
      <p className="cart-total" data-testid="cart-total" aria-live="polite">
        {cart.count === 0 ? 'Your cart is empty.' : `Cart: ${cart.count} ${cart.count === 1 ? 'book' : 'books'}${total !== undefined ? `, ${formatPrice(total)}` : ''}.`}{' '}
        {stock.error && <span className="muted">Stock could not be refreshed just now; the figures shown may be old.</span>}
      </p>
      <ul className="books">
        {shown.map((book) => {
          const inCart = cart.quantityOf(book.title);
          const live = stock.byTitle.get(book.title);
          // Only what the database says: while stock is unknown the button stays enabled (the order decides).
          const soldOut = live !== undefined && inCart >= live.stock;
          return (
            <li key={book.bookId} className="book" data-testid="book">
              <div className="cover" aria-hidden="true">
                {book.title
                  .split(' ')
                  .filter((w) => /^[A-Z0-9]/.test(w))
                  .slice(0, 2)
                  .map((w) => w[0])
                  .join('')}
              </div>
              <h2>{book.title}</h2>
              <p className="author">{book.author}{book.year ? `, ${book.year}` : ''}</p>
              <p className="genres">{(book.genres ?? []).join(' · ')}</p>
              {live ? (
                <p className="price">
                  <span data-testid="price">{formatPrice(live.priceCents)}</span> ·{' '}
                  <span data-testid="stock" className={live.stock > 0 ? 'in-stock' : 'out-of-stock'}>
                    {stockLabel(live.stock)}
                  </span>
                </p>
              ) : (
                <p className="price muted">{stock.loaded ? 'not sold here' : 'price and stock loading…'}</p>
              )}
              <button type="button" onClick={() => cart.add(book.title)} aria-label={`Add ${book.title} to cart`} disabled={soldOut}>
                {soldOut ? (inCart > 0 ? `In cart (${inCart}) · no more left` : 'Out of stock') : inCart > 0 ? `In cart (${inCart}) · add one more` : 'Add to cart'}
              </button>
            </li>
          );
        })}
      </ul>
    </section>
  );
}
