/**
 * Picks books to suggest for an order from the bundled catalog. Pure.
 *
 * Books the customer ordered are found by title (case- and punctuation-
 * insensitive). Every other book scores 3 per ordered book by the same author
 * and 1 per shared genre; ties go to the more popular book. When nothing ordered
 * is in the catalog (the course's "Book A"), the most popular books are suggested.
 */

export interface CatalogBook {
  bookId: string;
  title: string;
  author: string;
  genres: string[];
  year: number;
  popularity: number;
}

const normalise = (title: string) => title.toLowerCase().replace(/[^\p{L}\p{N}]+/gu, ' ').trim();

export class Recommender {
  private readonly byTitle: Map<string, CatalogBook>;

  constructor(private readonly catalog: readonly CatalogBook[]) {
    this.byTitle = new Map(catalog.map((book) => [normalise(book.title), book]));
  }

  suggest(orderedTitles: readonly string[], count: number): CatalogBook[] {
    const orderedNames = new Set(orderedTitles.map(normalise));
    const ordered = [...orderedNames].flatMap((t) => this.byTitle.get(t) ?? []);
    const candidates = this.catalog.filter((book) => !orderedNames.has(normalise(book.title)));
    const score = (book: CatalogBook) =>
      ordered.reduce(
        (sum, o) => sum + (o.author === book.author ? 3 : 0) + book.genres.filter((g) => o.genres.includes(g)).length,
        0,
      );
    return candidates
      .map((book) => ({ book, score: score(book) }))
      .sort((x, y) => y.score - x.score || y.book.popularity - x.book.popularity || x.book.bookId.localeCompare(y.book.bookId))
      .slice(0, count)
      .map(({ book }) => book);
  }
}
