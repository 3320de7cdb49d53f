/**
 * The HTTP the load tools (`npm run load`, `npm run flash-sale`) speak to a running Causeway: one request that
 * always resolves (status 0 when it failed or timed out), and following approved orders to their end.
 */
import http from 'node:http';

export interface HttpAnswer {
  /** HTTP status, 0 when the request failed or timed out. */
  status: number;
  /** The parsed JSON body, undefined when there was none. */
  body: unknown;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One request with an optional JSON body and headers; never rejects. */
export function request(
  agent: http.Agent,
  base: URL,
  method: string,
  path: string,
  body: string | undefined,
  timeoutMs: number,
  headers: Record<string, string> = {},
): Promise<HttpAnswer> {
  return new Promise((resolve) => {
    const payload = body === undefined ? undefined : Buffer.from(body);
    const req = http.request(
      {
        host: base.hostname,
        port: base.port,
        path,
        method,
        agent,
        headers: { ...(payload ? { 'content-type': 'application/json', 'content-length': payload.length } : {}), ...headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          let parsed: unknown;
          try {
            parsed = JSON.parse(Buffer.concat(chunks).toString('utf8'));
          } catch {
            parsed = undefined;
          }
          resolve({ status: res.statusCode ?? 0, body: parsed });
        });
        res.on('error', () => resolve({ status: 0, body: undefined }));
      },
    );
    req.setTimeout(timeoutMs, () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve({ status: 0, body: undefined }));
    req.end(payload);
  });
}

/** What GET /orders/:id says of a decided order (the fields the load tools read). */
export interface DecidedOrder {
  state: 'executed' | 'failed';
  failure?: { code?: string };
  commit?: { timeline?: { step: string; at: number }[] };
}

/**
 * Polls GET /orders/:id for each order (32 at a time, every 250 ms) until it is executed or failed, or until
 * `timeoutMs`; returns the decided ones (the others are missing from the map).
 */
export async function followOrders(
  agent: http.Agent,
  base: URL,
  orderIds: readonly string[],
  timeoutMs: number,
  progress?: (line: string) => void,
): Promise<Map<string, DecidedOrder>> {
  const decided = new Map<string, DecidedOrder>();
  const deadline = Date.now() + timeoutMs;
  while (decided.size < orderIds.length && Date.now() < deadline) {
    const open = orderIds.filter((id) => !decided.has(id));
    progress?.(`following approved orders: ${decided.size}/${orderIds.length} decided`);
    for (let i = 0; i < open.length; i += 32) {
      await Promise.all(
        open.slice(i, i + 32).map(async (id) => {
          const res = await request(agent, base, 'GET', `/orders/${encodeURIComponent(id)}`, undefined, 5000);
          const order = res.body as DecidedOrder | undefined;
          if (order?.state === 'executed' || order?.state === 'failed') decided.set(id, order);
        }),
      );
    }
    if (decided.size < orderIds.length) await sleep(250);
  }
  return decided;
}
