import catalog from '../catalog/catalog.json';
import type { BookRecord } from './stock-state';

/**
 * What the first leader seeds into an empty database: every catalog entry with its price and initial stock,
 * and the course page's sample titles, so the course's own page keeps working end to end.
 *
 * The course titles get a million copies each: the course page, the tests and the bench order them over and
 * over (the page's default order is 1 × Book A and 2 × Book B), and none of those means to test running out.
 * The catalog's own books keep small stocks (10-13), so the shop shows "n left" and selling out is easy to try.
 */
export const COURSE_TITLE_STOCK = 1_000_000;

export const COURSE_BOOKS: readonly BookRecord[] = [
  { bookId: 'bk-course-a', title: 'Book A', priceCents: 1000, stock: COURSE_TITLE_STOCK },
  { bookId: 'bk-course-b', title: 'Book B', priceCents: 1500, stock: COURSE_TITLE_STOCK },
];

export function seedBooks(): BookRecord[] {
  return [...catalog.map(({ bookId, title, priceCents, stock }) => ({ bookId, title, priceCents, stock })), ...COURSE_BOOKS];
}
