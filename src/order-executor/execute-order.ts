import { context, ROOT_CONTEXT, SpanStatusCode, trace, type SpanContext } from '@opentelemetry/api';
import { inject, injectable } from 'tsyringe';
import { CallBatcher } from '../platform/call-batcher';
import { linkTo } from '../platform/telemetry/traceparent';
import type { DecrementRequest, DecrementResponse, ReadStockResponse } from '../gen/causeway/v1/books_database';
import { normalizeTitle } from '../books-database-client/client';
import type { OrderOutcome } from './execution-ledger';

/**
 * The execution step of one order: take its books out of stock in the books database, all of them or none.
 * One function (`ExecuteOrder`) that the queue consumer calls today and a two-phase-commit coordinator can drive
 * later.
 *
 * Exactly once: the decrement is idempotent by order id, and it happens before the order's ledger entry is
 * proposed, with the outcome carried in that entry. If the entry never commits (the leader crashed or lost its
 * term), the order is leased again by the next leader, which executes it again and gets the database's first
 * outcome back (`replayed`): stock is taken once, and every replica records the same outcome.
 */

export interface OrderToExecute {
  orderId: string;
  /** As the course's API sends them: by title, matched case-insensitively. */
  items: readonly { name: string; quantity: number }[];
  /** The checkout's W3C traceparent: the execution's span links to it (optional). */
  traceparent?: string;
}

/** `fence`: the executor leader's Raft term; a database that has seen a higher one refuses (DeposedError). */
export type ExecuteOrder = (order: OrderToExecute, fence: number) => Promise<OrderOutcome>;

/** Injection token of the ExecuteOrder function. */
export const EXECUTE_ORDER = Symbol('ExecuteOrder');
/** Injection token of the books database client the execution step uses. */
export const BOOKS_DATABASE = Symbol('BooksDatabase');

/** What the execution step needs of the books database (BooksDatabaseClient provides it). */
export interface StockDatabase {
  read(bookIds?: readonly string[]): Promise<ReadStockResponse>;
  /** Several orders' decrements in one call, one outcome each in order; each idempotent by its order id. */
  decrementBatch(requests: readonly DecrementRequest[]): Promise<DecrementResponse[]>;
}

/** Orders executed at once (a lease's worth) share DecrementBatch calls of at most this many. */
const DECREMENTS_PER_CALL = 256;

/** The database refused our fence: a later executor leader has written; this one must not decide anything. */
export class DeposedError extends Error {
  constructor(fence: number) {
    super(`the books database has seen a newer executor term than ${fence}: this leader is deposed`);
    this.name = 'DeposedError';
  }
}

/** The catalog's titles never change once seeded (SetStock changes stock only), so the executor keeps an index. */
interface TitleIndex {
  idByTitle: Map<string, string>;
  titleById: Map<string, string>;
}

/** The order's items as database items, or the first title no book has. Pure. */
export function itemsByBook(order: OrderToExecute, index: TitleIndex): { items: { bookId: string; quantity: number }[] } | { unknown: string } {
  const items: { bookId: string; quantity: number }[] = [];
  for (const item of order.items) {
    const bookId = index.idByTitle.get(normalizeTitle(item.name));
    if (bookId === undefined) return { unknown: item.name };
    items.push({ bookId, quantity: item.quantity });
  }
  return { items };
}

/** The order's outcome from the database's answer. Pure. STALE_TERM is not an outcome: the caller is deposed. */
export function outcomeOf(response: DecrementResponse, fence: number, titleOf: (bookId: string) => string): OrderOutcome {
  switch (response.outcome) {
    case 'OK':
      return { state: 'executed' };
    case 'OUT_OF_STOCK':
      return { state: 'failed', failure: { code: 'OUT_OF_STOCK', message: `not enough copies of "${titleOf(response.bookId)}" in stock` } };
    case 'UNKNOWN_BOOK':
      return { state: 'failed', failure: { code: 'UNKNOWN_BOOK', message: `no book "${titleOf(response.bookId)}" in the database` } };
    case 'STALE_TERM':
      throw new DeposedError(fence);
    default:
      // The database answered something this build does not know: fail loudly rather than guess an outcome.
      throw new Error(`the books database answered an unknown outcome ${JSON.stringify(response.outcome)}`);
  }
}

const tracer = trace.getTracer('causeway.executor');

@injectable()
export class OrderExecution {
  private index: TitleIndex | undefined;

  /**
   * Decrements of the orders executed at the same time travel in one DecrementBatch call, one round trip and one
   * Raft batch in the database for all of them (a call per order capped a leader at a few hundred orders a
   * second). A batch call is a trace of its own, 'take stock: books database call'; each order's 'take stock'
   * span links to the one that carried its decrement.
   */
  private readonly decrements: CallBatcher<DecrementRequest, { response: DecrementResponse; call: SpanContext }>;

  constructor(@inject(BOOKS_DATABASE) private readonly database: StockDatabase) {
    this.decrements = new CallBatcher((requests) => this.decrementBatch(requests), { maxBatch: DECREMENTS_PER_CALL, maxInFlight: 2 }, {
      callee: 'the books database',
      items: 'orders',
    });
  }

  private decrementBatch(requests: DecrementRequest[]) {
    const span = tracer.startSpan('take stock: books database call', { attributes: { 'orders.count': requests.length } }, ROOT_CONTEXT);
    return context.with(trace.setSpan(ROOT_CONTEXT, span), async () => {
      try {
        const responses = await this.database.decrementBatch(requests);
        return responses.map((response) => ({ response, call: span.spanContext() }));
      } catch (err) {
        span.recordException(err as Error);
        span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
        throw err;
      } finally {
        span.end();
      }
    });
  }

  /**
   * The ExecuteOrder function. Throws (and decides nothing) when the database cannot be reached or refuses the
   * fence. Traced as one span linked to the checkout, with the database calls inside it.
   */
  readonly execute: ExecuteOrder = (order, fence) => {
    const span = tracer.startSpan(
      'take stock',
      { links: linkTo(order.traceparent ?? '', { 'causeway.link': 'checkout' }), attributes: { 'order.id': order.orderId, 'raft.term': fence } },
      ROOT_CONTEXT,
    );
    return context.with(trace.setSpan(ROOT_CONTEXT, span), async () => {
      try {
        const outcome = await this.decide(order, fence);
        span.setAttribute('order.outcome', outcome.state === 'executed' ? 'executed' : outcome.failure.code);
        return outcome;
      } catch (err) {
        span.recordException(err as Error);
        span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
        throw err;
      } finally {
        span.end();
      }
    });
  };

  private async decide(order: OrderToExecute, fence: number): Promise<OrderOutcome> {
    const index = await this.titles();
    const resolved = itemsByBook(order, index);
    // A title no book has fails the order without a database write: the set of titles is fixed once seeded.
    if ('unknown' in resolved) return { state: 'failed', failure: { code: 'UNKNOWN_BOOK', message: `no book titled "${resolved.unknown}"` } };
    const { response, call } = await this.decrements.submit({ orderId: order.orderId, items: resolved.items, term: fence });
    const span = trace.getActiveSpan();
    span?.addLink({ context: call, attributes: { 'causeway.link': 'books-database call' } });
    if (response.replayed) span?.setAttribute('books.replayed', true);
    return outcomeOf(response, fence, (bookId) => index.titleById.get(bookId) ?? bookId);
  }

  private async titles(): Promise<TitleIndex> {
    if (this.index) return this.index;
    const { books } = await this.database.read();
    // Before the first leader's seed commits the database is empty: not "every title unknown", just not ready.
    if (books.length === 0) throw new Error('the books database holds no books yet (not seeded)');
    this.index = {
      idByTitle: new Map(books.map((b) => [normalizeTitle(b.title), b.bookId])),
      titleById: new Map(books.map((b) => [b.bookId, b.title])),
    };
    return this.index;
  }
}
