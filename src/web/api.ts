/** The orchestrator's HTTP API, as the web app uses it. */
import type { BookView, CheckoutResult, ClusterSnapshot } from '../orchestrator/api-types';
import type { CheckoutRequest } from '../orchestrator/schema';

export interface WebConfig {
  apiBase: string;
  jaegerUrl: string;
  localMode: boolean;
}


export type { BookView, BooksReplicaView, CheckoutEvent, ClusterSnapshot, ExecutorView } from '../orchestrator/api-types';
export type { CheckoutRequest } from '../orchestrator/schema';

export interface Book {
  bookId: string;
  title: string;
  author: string;
  genres?: string[];
  year?: number;
}

export type OrderResult = CheckoutResult;


export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export async function loadConfig(): Promise<WebConfig> {
  try {
    const res = await fetch('/config.json');
    if (res.ok) return (await res.json()) as WebConfig;
  } catch {
    // dev server without the Causeway web server: fall through to defaults
  }
  return { apiBase: 'http://localhost:8081', jaegerUrl: 'http://localhost:16686', localMode: false };
}

export class Api {
  constructor(readonly config: WebConfig) {}

  private async call<T>(path: string, init?: RequestInit): Promise<T> {
    let res: Response;
    try {
      res = await fetch(`${this.config.apiBase}${path}`, init);
    } catch {
      throw new ApiError(0, 'NETWORK', `The shop's server at ${this.config.apiBase} cannot be reached.`);
    }
    const body = await res.json().catch(() => ({}));
    if (!res.ok) throw new ApiError(res.status, body?.error?.code ?? 'ERROR', body?.error?.message ?? res.statusText);
    return body as T;
  }

  catalog(): Promise<{ books: Book[] }> {
    return this.call('/catalog');
  }

  /** Every book with its price and stock, read linearizably from the books database. */
  books(): Promise<{ books: BookView[] }> {
    return this.call('/books');
  }

  checkout(request: CheckoutRequest): Promise<OrderResult> {
    return this.call('/checkout', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(request) });
  }

  order(orderId: string): Promise<OrderResult> {
    return this.call(`/orders/${encodeURIComponent(orderId)}`);
  }

  cluster(): Promise<ClusterSnapshot> {
    return this.call('/cluster');
  }

  killLeader(): Promise<{ killed: string; term: number }> {
    return this.call('/cluster/kill-leader', { method: 'POST' });
  }

  killBooksDatabaseLeader(): Promise<{ killed: string; term: number }> {
    return this.call('/cluster/books-database/kill-leader', { method: 'POST' });
  }

  clusterEvents(): EventSource {
    return new EventSource(`${this.config.apiBase}/cluster/events`);
  }
}
