import catalog from '../catalog/catalog.json';
import type { BookRecord } from './stock-state';

/**
 * What the first leader seeds into an empty database: every catalog entry with its price and initial stock,
 * and the course page's sample titles, so the course's own page keeps working end to end.
 */
export const COURSE_BOOKS: readonly BookRecord[] = [
  { bookId: 'bk-course-a', title: 'Book A', priceCents: 1000, stock: 100 },
  { bookId: 'bk-course-b', title: 'Book B', priceCents: 1500, stock: 100 },
];

export function seedBooks(): BookRecord[] {
  return [...catalog.map(({ bookId, title, priceCents, stock }) => ({ bookId, title, priceCents, stock })), ...COURSE_BOOKS];
}
