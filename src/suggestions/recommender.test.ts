import catalog from '../catalog/catalog.json';
import { Recommender, type CatalogBook } from './recommender';

const books = catalog as CatalogBook[];
const recommender = new Recommender(books);
const find = (title: string) => books.find((b) => b.title === title)!;

describe('catalog', () => {
  it('has at least 60 real-looking books with unique ids and titles', () => {
    expect(books.length).toBeGreaterThanOrEqual(60);
    expect(new Set(books.map((b) => b.bookId)).size).toBe(books.length);
    expect(new Set(books.map((b) => b.title)).size).toBe(books.length);
    for (const b of books) {
      expect(b.author.length).toBeGreaterThan(0);
      expect(b.genres.length).toBeGreaterThan(0);
    }
  });
});

describe('Recommender', () => {
  it('never suggests what was ordered', () => {
    const ordered = books.slice(0, 10).map((b) => b.title);
    const titles = recommender.suggest(ordered, 5).map((b) => b.title);
    expect(titles).toHaveLength(5);
    for (const t of ordered) expect(titles).not.toContain(t);
  });

  it('relates suggestions by author first, then genre', () => {
    const hobbit = find('The Hobbit');
    const suggested = recommender.suggest(['the hobbit'], 3);
    expect(suggested[0].author).toBe(hobbit.author);
    for (const book of suggested) {
      expect(book.author === hobbit.author || book.genres.some((g) => hobbit.genres.includes(g))).toBe(true);
    }
  });

  it('falls back to the most popular books for unknown titles', () => {
    const top = [...books].sort((a, b) => b.popularity - a.popularity).slice(0, 3);
    expect(recommender.suggest(['Book A'], 3).map((b) => b.bookId)).toEqual(top.map((b) => b.bookId));
  });

  it('is deterministic: the same order gets the same books, in the same order, in any process', () => {
    // Pinned outputs, so a tie broken by chance, by time or by hash order would show (a change of the scoring
    // or the catalog updates them on purpose).
    const ids = (ordered: string[]) => recommender.suggest(ordered, 4).map((b) => b.bookId);
    expect(ids(['Dune'])).toEqual(['bk-004', 'bk-026', 'bk-014', 'bk-002']);
    expect(ids(['The Hobbit', 'Dune'])).toEqual(['bk-002', 'bk-003', 'bk-004', 'bk-026']);
    expect(ids(['Book A'])).toEqual(['bk-046', 'bk-004', 'bk-002', 'bk-017']);
  });
});
