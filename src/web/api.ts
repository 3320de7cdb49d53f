/** The orchestrator's HTTP API, as the web app uses it. */

export interface WebConfig {
  apiBase: string;
  jaegerUrl: string;
  localMode: boolean;
}

export interface Book {
  bookId: string;
  title: string;
  author: string;
  genres?: string[];
  year?: number;
}

export interface CheckoutEvent {
  event: string;
  service: string;
  vectorClock: Record<string, number>;
  passed: boolean;
}

export interface OrderResult {
  orderId: string;
  status: 'Order Approved' | 'Order Rejected';
  state: 'rejected' | 'queued' | 'executed';
  execution?: { executor: string; term: number; index: number };
  suggestedBooks: Book[];
  traceId: string | null;
  events: CheckoutEvent[];
  rejection?: { event: string; code: string; message: string };
}

export interface ExecutorView {
  id: string;
  address: string;
  role: 'leader' | 'follower' | 'candidate' | 'unreachable';
  term: number;
  leaderId: string | null;
  commitIndex: number;
  appliedIndex: number;
  logLength: number;
  lastHeartbeatMs: number | null;
  executedCount: number;
}

export interface ClusterSnapshot {
  executors: ExecutorView[];
  queue: { depth: number | null };
  at: number;
}

export interface CheckoutRequest {
  user: { name: string; contact: string };
  creditCard: { number: string; expirationDate: string; cvv: string };
  userComment: string;
  items: { name: string; quantity: number }[];
  billingAddress: { street: string; city: string; state: string; zip: string; country: string };
  shippingMethod: string;
  giftWrapping: boolean;
  termsAndConditionsAccepted: boolean;
}

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

  clusterEvents(): EventSource {
    return new EventSource(`${this.config.apiBase}/cluster/events`);
  }
}
