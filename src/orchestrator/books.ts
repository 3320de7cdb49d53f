import { timingSafeEqual, createHash } from 'node:crypto';
import type { BookStock, ReadStockResponse, SetStockRequest, SetStockResponse } from '../gen/causeway/v1/books_database';
import type { BookView } from './api-types';

/** A catalog entry as the shop lists it (src/catalog/catalog.json). */
export interface CatalogEntry {
  bookId: string;
  title: string;
  author: string;
  genres: string[];
  year: number;
}

/** What GET /books and PUT /books/:bookId/stock need of the books database (BooksDatabaseClient provides it). */
export interface StockSource {
  read(bookIds?: readonly string[]): Promise<ReadStockResponse>;
  setStock(request: Omit<SetStockRequest, 'term'> & { term?: number }): Promise<SetStockResponse>;
}

/**
 * The books as the shop shows them: the catalog's descriptions with the database's prices and stock. Books the
 * database holds beyond the catalog (the course page's `Book A` and `Book B`) are listed too, with no author,
 * genres or year. Pure.
 */
export function booksView(catalog: readonly CatalogEntry[], stock: readonly BookStock[]): BookView[] {
  const described = new Map(catalog.map((c) => [c.bookId, c]));
  return stock.map((s) => {
    const c = described.get(s.bookId);
    return {
      bookId: s.bookId,
      title: s.title,
      author: c?.author ?? '',
      genres: c ? [...c.genres] : [],
      year: c?.year ?? null,
      priceCents: s.priceCents,
      stock: s.stock,
    };
  });
}

/** The shop's books with live stock; `setStock` for the admin endpoint. */
export class BooksInventory {
  constructor(
    private readonly catalog: readonly CatalogEntry[],
    private readonly database: StockSource,
  ) {}

  /**
   * Every book, stock read linearizably (on the database's leader, by ReadIndex). Throws while the database holds
   * no books: its first leader has not seeded it yet (or BOOKS_DATABASE_SEED=false left it empty).
   */
  async list(): Promise<BookView[]> {
    const { books } = await this.database.read();
    if (books.length === 0) throw new Error('the books database holds no books yet (not seeded)');
    return booksView(this.catalog, books);
  }

  /** The book with its new stock, or undefined when the database has no such book. */
  async setStock(bookId: string, stock: number): Promise<BookView | undefined> {
    const { outcome, book } = await this.database.setStock({ bookId, stock });
    if (outcome === 'UNKNOWN_BOOK') return undefined;
    if (outcome !== 'OK' || !book) throw new Error(`the books database refused SetStock: ${outcome}`);
    return booksView(this.catalog, [book])[0];
  }
}

/**
 * Whether an `Authorization` header carries the admin token (`Bearer <token>`), compared in constant time
 * (both sides hashed first, so neither the token's length nor its prefix leaks through timing).
 */
export function bearerMatches(header: string | undefined, token: string): boolean {
  const match = /^Bearer ([^\s]+)$/.exec(header ?? '');
  if (!match) return false;
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(match[1]), digest(token));
}
