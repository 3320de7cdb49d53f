import { ClientError, Status } from 'nice-grpc';
import { normalizeTitle } from '../books-database-client/client';
import type { BookStock } from '../gen/causeway/v1/books_database';

/** What the price list needs of the books database: every book, with its price (BooksDatabaseClient.read). */
export interface BookSource {
  read(): Promise<{ books: BookStock[] }>;
}

export interface PricedItem {
  name: string;
  quantity: number;
}

/**
 * The books' prices by title, for the amount an approved order carries to the executors (and payment holds). Prices
 * never change once the database is seeded (SetStock sets only stock), so they are read once and kept; a title not
 * known yet reads the database again (a new book, or a first read before the seed), at most once per `refreshMs`.
 * A title the database does not hold costs nothing here: the executors fail that order (UNKNOWN_BOOK) anyway.
 *
 * An empty database is another matter: its first leader has not seeded it yet (moments after the cluster's first
 * election), and the books will be there when the executors look, so pricing the order at nothing would give them
 * away. The price list reads again every `seed.pollMs` (100 ms) for up to `seed.waitMs` (5 s), then gives up with
 * UNAVAILABLE: the checkout fails as the database being unavailable, and nothing is enqueued.
 */
export class PriceList {
  private prices = new Map<string, number>();
  private lastReadMs = -Infinity;
  private reading: Promise<void> | undefined;

  constructor(
    private readonly books: BookSource,
    private readonly now: () => number = Date.now,
    private readonly refreshMs = 1000,
    private readonly seed = { waitMs: 5000, pollMs: 100, sleep: (ms: number) => new Promise<void>((r) => setTimeout(r, ms)) },
  ) {}

  /** The items' price times quantity, summed, in cents. */
  async amountCents(items: readonly PricedItem[]): Promise<number> {
    const missing = items.some((i) => !this.prices.has(normalizeTitle(i.name)));
    if (missing && (this.prices.size === 0 || this.now() - this.lastReadMs >= this.refreshMs)) await this.refresh();
    if (this.prices.size === 0) await this.untilSeeded();
    return items.reduce((sum, i) => sum + (this.prices.get(normalizeTitle(i.name)) ?? 0) * Math.max(0, Math.floor(i.quantity)), 0);
  }

  /**
   * Whether the database holds its catalog yet, for the orchestrator's /health: while it does not, checkouts wait
   * for it and then fail, so the orchestrator is not ready. An empty answer is read again after `seed.pollMs`; once
   * seeded, the answer is kept (prices never go away). A failed read rejects.
   */
  async isSeeded(): Promise<boolean> {
    if (this.prices.size === 0 && this.now() - this.lastReadMs >= this.seed.pollMs) await this.refresh();
    return this.prices.size > 0;
  }

  private async untilSeeded(): Promise<void> {
    const deadline = this.now() + this.seed.waitMs;
    while (this.prices.size === 0) {
      if (this.now() >= deadline) {
        throw new ClientError('/causeway.v1.BooksDatabase/Read', Status.UNAVAILABLE, `the books database still held no books after ${this.seed.waitMs} ms (not seeded yet)`);
      }
      await this.seed.sleep(this.seed.pollMs);
      await this.refresh();
    }
  }

  private refresh(): Promise<void> {
    // Checkouts arriving together share one read.
    this.reading ??= this.books
      .read()
      .then(({ books }) => {
        this.prices = new Map(books.map((b) => [normalizeTitle(b.title), b.priceCents]));
        this.lastReadMs = this.now();
      })
      .finally(() => (this.reading = undefined));
    return this.reading;
  }
}
