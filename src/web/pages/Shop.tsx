import { useEffect, useState } from 'react';
import type { Api, Book } from '../api';
import type { Cart } from '../cart';

export function Shop({ api, cart }: { api: Api; cart: Cart }) {
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
  return (
    <section aria-labelledby="shop-title">
      <div className="section-head">
        <h1 id="shop-title">Books</h1>
        <label className="search">
          <span>Search</span>
          <input type="search" value={filter} onChange={(e) => setFilter(e.target.value)} placeholder="title, author or genre" />
        </label>
      </div>
      <ul className="books">
        {shown.map((book) => {
          const inCart = cart.quantityOf(book.title);
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
              <button type="button" onClick={() => cart.add(book.title)} aria-label={`Add ${book.title} to cart`}>
                {inCart > 0 ? `In cart (${inCart}) · add one more` : 'Add to cart'}
              </button>
            </li>
          );
        })}
      </ul>
    </section>
  );
}
