/**
 * `npm run flash-sale -- [--stock 20] [--buyers 200] [--book "The Hobbit"] [--quantity 1]
 *   [--url http://localhost:8081] [--data-dir ./data] [--json]`
 *
 * The course's demo question "what happens in a flash sale?", asked of a running Causeway (`npm start`). One book
 * is given `--stock` copies (PUT /books/:bookId/stock: start the system with CAUSEWAY_ADMIN_TOKEN and run this
 * with the same variable), then `--buyers` customers, each with a card and an address of their own, check it out
 * at the same moment. Every approved order is followed to its end (GET /orders/:id), and the book's stock is read
 * again. The report says:
 *
 * - how the checkouts were answered, and how the orders ended (executed, or failed and why);
 * - whether the stock holds: copies sold never more than there were, the stock left exactly what the executed
 *   orders did not take, and nobody refused OUT_OF_STOCK while copies were left;
 * - how long it took: each checkout's answer, each order's decision (the two-phase commit's, by the executor
 *   leader's clock), when the last copy went, and how many orders were decided per second;
 * - where the time went: each process's CPU during the sale, read from /proc through the launcher's process
 *   table (in the data directory; on this machine only), busiest first, as a share of one core: a Node process
 *   near 100 % is the bottleneck.
 *
 * The numbers are computed by `summarizeSale`, which is pure; `runFlashSale` does the I/O.
 */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import { readProcessTable } from '../../platform/process-table';
import { snapshot } from '../bench/cpu';
import { percentile } from '../bench/stats';
import { pidFilePath } from '../launcher/processes';
import { argValue } from './args';
import { followOrders, request, type DecidedOrder } from './http';
import { countBy, outcomeOf, randomCard } from './mix';
import { seededRandom } from '../../raft/random';

export interface FlashSaleOptions {
  /** The orchestrator's HTTP address. */
  url: string;
  /** CAUSEWAY_ADMIN_TOKEN, to set the book's stock; without it the sale uses the stock the book has. */
  token?: string;
  /** The book's id or title; by default the catalog's first book. */
  book?: string;
  /** Copies on sale (set before the rush when a token is given). */
  stock: number;
  buyers: number;
  /** Copies each buyer asks for. */
  quantity: number;
  /** The launcher's process table, for each process's CPU; none: no CPU figures. */
  pidFile?: string;
  seed: number;
  /** A checkout unanswered after this long counts as "no answer". */
  timeoutMs: number;
  /** How long to follow approved orders. */
  followTimeoutMs: number;
  progress?: (line: string) => void;
}

/** One buyer's checkout and what became of the order. */
export interface Buyer {
  /** "approved", "rejected: CODE", "HTTP 504: DEADLINE_EXCEEDED", "no answer" (as `npm run load` counts them). */
  outcome: string;
  /** Epoch ms when the checkout was sent, and when it was answered. */
  sentAt: number;
  answeredAt: number;
  orderId?: string;
  /** The order once executed or failed; missing when it was not decided in time (or not approved). */
  final?: DecidedOrder;
}

/** Everything a sale observed: the input of `summarizeSale`. */
export interface SaleObservations {
  book: { bookId: string; title: string };
  quantity: number;
  stockBefore: number;
  stockAfter: number;
  /** Epoch ms when the first checkout left. */
  startedAt: number;
  /** Epoch ms when the last order was seen decided (or following gave up). */
  endedAt: number;
  buyers: Buyer[];
  /** CPU ms each process used between the start and the end; undefined when the processes could not be read. */
  cpuMs?: Record<string, number>;
  cores: number;
}

export interface Spread {
  p50: number;
  p99: number;
  max: number;
}

export interface FlashSaleReport {
  book: { bookId: string; title: string };
  buyers: number;
  quantity: number;
  stockBefore: number;
  stockAfter: number;
  /** Checkout answers by outcome. */
  answers: [string, number][];
  /** Approved orders by how they ended: "executed", "failed: OUT_OF_STOCK", "not decided in time". */
  endings: [string, number][];
  copiesSold: number;
  /** Copies sold beyond the stock there was: must be 0. */
  oversold: number;
  /** Whether the stock left is exactly the stock before less the copies sold. */
  stockAccounted: boolean;
  /**
   * Orders refused OUT_OF_STOCK although the sale ended with enough copies left for them. Must be 0 when every
   * other order committed; an order aborted for another reason (its payment, say) held its copies until its abort,
   * and a buyer refused meanwhile was refused rightly.
   */
  refusedWhileLeft: number;
  /** Approved orders that failed for a reason other than OUT_OF_STOCK. */
  otherFailures: number;
  /** Approved orders still undecided when following gave up. */
  undecided: number;
  /** Send → checkout answer, ms (every answered buyer). */
  checkoutMs: Spread;
  /** Send → the two-phase commit's decision, ms (every decided order with a decision time). */
  decidedMs: Spread;
  /** Start → the decision of the last executed order, ms; undefined when nothing sold. */
  lastCopyMs?: number;
  /** Start → the last decision seen, ms, and decisions per second over it. */
  allDecidedMs: number;
  decisionsPerSecond: number;
  /** Each process's CPU during the sale, busiest first: ms, and % of one core over the sale's wall time. */
  cpu?: { process: string; ms: number; coreShare: number }[];
  /** All processes' CPU as a share of the whole box (all cores) over the sale. */
  boxShare?: number;
  /** The stock held, every buyer answered, every approved order decided. */
  ok: boolean;
}

const spread = (values: number[]): Spread =>
  values.length ? { p50: Math.round(percentile(values, 50)), p99: Math.round(percentile(values, 99)), max: Math.round(Math.max(...values)) } : { p50: NaN, p99: NaN, max: NaN };

/** When the order's two-phase commit logged its decision (epoch ms, the executor leader's clock). */
export function decisionAt(order: DecidedOrder | undefined): number | undefined {
  return order?.commit?.timeline?.find((s) => s.step === 'decision')?.at;
}

/** Pure: the report of a sale from what it observed. */
export function summarizeSale(o: SaleObservations): FlashSaleReport {
  const approved = o.buyers.filter((b) => b.outcome === 'approved');
  const executed = approved.filter((b) => b.final?.state === 'executed');
  const ending = (b: Buyer) => (b.final ? (b.final.state === 'executed' ? 'executed' : `failed: ${b.final.failure?.code ?? '?'}`) : 'not decided in time');
  const copiesSold = executed.length * o.quantity;
  const left = o.stockBefore - copiesSold;
  const outOfStock = approved.filter((b) => b.final?.state === 'failed' && b.final.failure?.code === 'OUT_OF_STOCK');
  const decisions = approved.map((b) => decisionAt(b.final)).filter((t): t is number => t !== undefined);
  const decidedMs = approved.flatMap((b) => {
    const at = decisionAt(b.final);
    return at === undefined ? [] : [at - b.sentAt];
  });
  const executedAt = executed.map((b) => decisionAt(b.final)).filter((t): t is number => t !== undefined);
  const lastDecision = decisions.length ? Math.max(...decisions) : o.endedAt;
  const allDecidedMs = Math.max(1, lastDecision - o.startedAt);
  const wallMs = Math.max(1, o.endedAt - o.startedAt);
  const cpu = o.cpuMs
    ? Object.entries(o.cpuMs)
        .map(([process, ms]) => ({ process, ms: Math.round(ms), coreShare: Math.round((ms / wallMs) * 100) }))
        .sort((a, b) => b.ms - a.ms)
    : undefined;
  const totalCpu = o.cpuMs ? Object.values(o.cpuMs).reduce((a, b) => a + b, 0) : 0;
  const report: FlashSaleReport = {
    book: o.book,
    buyers: o.buyers.length,
    quantity: o.quantity,
    stockBefore: o.stockBefore,
    stockAfter: o.stockAfter,
    answers: countBy(o.buyers, (b) => b.outcome),
    endings: countBy(approved, ending),
    copiesSold,
    oversold: Math.max(0, copiesSold - o.stockBefore),
    stockAccounted: o.stockAfter === left,
    // With copies left at the end, a buyer refused for want of stock was refused wrongly (all-or-nothing orders:
    // the copies left must be fewer than one order's quantity for the refusal to be right).
    refusedWhileLeft: left >= o.quantity ? outOfStock.length : 0,
    otherFailures: approved.filter((b) => b.final?.state === 'failed' && b.final.failure?.code !== 'OUT_OF_STOCK').length,
    undecided: approved.filter((b) => !b.final).length,
    checkoutMs: spread(o.buyers.filter((b) => b.outcome !== 'no answer').map((b) => b.answeredAt - b.sentAt)),
    decidedMs: spread(decidedMs),
    lastCopyMs: executedAt.length ? Math.max(...executedAt) - o.startedAt : undefined,
    allDecidedMs,
    decisionsPerSecond: Math.round((decisions.length / allDecidedMs) * 1000 * 10) / 10,
    cpu,
    boxShare: o.cpuMs ? Math.round((totalCpu / (wallMs * o.cores)) * 100) : undefined,
    ok: false,
  };
  report.ok =
    report.oversold === 0 &&
    report.stockAccounted &&
    (report.refusedWhileLeft === 0 || report.otherFailures > 0) &&
    report.undecided === 0 &&
    o.buyers.every((b) => b.outcome !== 'no answer');
  return report;
}

export function formatSale(r: FlashSaleReport): string {
  const count = (rows: [string, number][]) => rows.map(([k, n]) => `  ${k.padEnd(36)} ${String(n).padStart(6)}`);
  const ms = (s: Spread) => `p50 ${s.p50} ms, p99 ${s.p99} ms, max ${s.max} ms`;
  const lines = [
    `flash sale of "${r.book.title}" (${r.book.bookId}): ${r.stockBefore} copies, ${r.buyers} buyers at once, ${r.quantity} each`,
    '',
    'checkouts answered:',
    ...count(r.answers),
    'approved orders, in the end:',
    ...count(r.endings),
    '',
    `copies sold ${r.copiesSold} of ${r.stockBefore}; stock now ${r.stockAfter}`,
    `  oversold                               ${r.oversold}`,
    `  stock accounted for                    ${r.stockAccounted ? 'yes' : 'NO'}`,
    `  refused while copies were left         ${r.refusedWhileLeft}${r.refusedWhileLeft && r.otherFailures ? ` (${r.otherFailures} other orders failed, holding copies until they did)` : ''}`,
    `  approved but not decided in time       ${r.undecided}`,
    '',
    `checkout answered          ${ms(r.checkoutMs)}`,
    `order decided (2PC)        ${ms(r.decidedMs)}`,
    `last copy sold after       ${r.lastCopyMs === undefined ? '-' : `${r.lastCopyMs} ms`}`,
    `every order decided after  ${r.allDecidedMs} ms (${r.decisionsPerSecond} decisions/s)`,
  ];
  if (r.cpu) {
    lines.push('', `CPU during the sale (${r.boxShare} % of the whole box), busiest first, as % of one core:`);
    for (const c of r.cpu.filter((c) => c.ms > 0)) lines.push(`  ${c.process.padEnd(26)} ${String(c.ms).padStart(6)} ms  ${String(c.coreShare).padStart(4)} %`);
  } else {
    lines.push('', 'CPU: no process table found (run this on the machine that runs `npm start`, or pass --data-dir)');
  }
  lines.push('', r.ok ? 'OK: the stock held and every order was decided.' : 'NOT OK: see the lines above.');
  return lines.join('\n');
}

interface BookRow {
  bookId: string;
  title: string;
  stock: number;
}

async function books(agent: http.Agent, base: URL): Promise<BookRow[]> {
  const res = await request(agent, base, 'GET', '/books', undefined, 10_000);
  const list = (res.body as { books?: BookRow[] } | undefined)?.books;
  if (res.status !== 200 || !list) throw new Error(`GET ${base.origin}/books answered ${res.status || 'nothing'}; is Causeway running?`);
  return list;
}

/** The buyer's checkout body: a customer, a card and an address of their own, so no fraud rule links two buyers. */
function buyerBody(n: number, title: string, quantity: number, random: () => number): string {
  return JSON.stringify({
    user: { name: `Flash Buyer ${n}`, contact: `flash-${n}-${Math.floor(random() * 1e9)}@example.com` },
    creditCard: { number: randomCard(random), expirationDate: '12/30', cvv: '123' },
    userComment: 'npm run flash-sale',
    items: [{ name: title, quantity }],
    billingAddress: { street: `${n} Sale St`, city: 'Springfield', state: 'IL', zip: '62701', country: 'USA' },
    shippingMethod: 'Standard',
    giftWrapping: false,
    termsAccepted: true,
  });
}

export async function runFlashSale(options: FlashSaleOptions): Promise<FlashSaleReport> {
  const base = new URL(options.url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: Math.max(16, options.buyers) });
  const random = seededRandom(options.seed);
  try {
    const catalog = await books(agent, base);
    const book = options.book ? catalog.find((b) => b.bookId === options.book || b.title === options.book) : catalog[0];
    if (!book) throw new Error(`no book "${options.book}" in GET /books (give its id or its exact title)`);
    let stockBefore = book.stock;
    if (options.token) {
      const res = await request(agent, base, 'PUT', `/books/${encodeURIComponent(book.bookId)}/stock`, JSON.stringify({ stock: options.stock }), 10_000, {
        authorization: `Bearer ${options.token}`,
      });
      if (res.status !== 200) {
        const error = (res.body as { error?: { code?: string; message?: string } } | undefined)?.error;
        throw new Error(`PUT /books/${book.bookId}/stock answered ${res.status || 'nothing'}${error ? `: ${error.code}: ${error.message}` : ''}`);
      }
      // Read back, so that the sale starts from what the database holds.
      stockBefore = (await books(agent, base)).find((b) => b.bookId === book.bookId)!.stock;
    } else if (stockBefore === 0) {
      throw new Error(`"${book.title}" is out of stock: set CAUSEWAY_ADMIN_TOKEN (as the system was started with) to put --stock copies on sale`);
    }
    const table = options.pidFile && os.platform() === 'linux' && fs.existsSync(options.pidFile) ? readProcessTable(options.pidFile) : undefined;
    const pids = table?.processes;
    const cpuBefore = pids && snapshot(pids);

    const bodies = Array.from({ length: options.buyers }, (_, i) => buyerBody(i + 1, book.title, options.quantity, random));
    options.progress?.(`${options.buyers} buyers check out "${book.title}" (${stockBefore} copies) at once`);
    const startedAt = Date.now();
    const buyers: Buyer[] = await Promise.all(
      bodies.map(async (body) => {
        const sentAt = Date.now();
        const res = await request(agent, base, 'POST', '/checkout', body, options.timeoutMs);
        return { outcome: outcomeOf(res.status, res.body), sentAt, answeredAt: Date.now(), orderId: (res.body as { orderId?: string } | undefined)?.orderId };
      }),
    );
    const approved = buyers.filter((b) => b.outcome === 'approved' && b.orderId);
    const decided = await followOrders(agent, base, approved.map((b) => b.orderId!), options.followTimeoutMs, options.progress);
    for (const b of approved) b.final = decided.get(b.orderId!);
    const endedAt = Date.now();
    const cpuAfter = pids && snapshot(pids);
    const stockAfter = (await books(agent, base)).find((b) => b.bookId === book.bookId)!.stock;
    options.progress?.('');
    const cpuMs = cpuBefore && cpuAfter ? Object.fromEntries(Object.keys(cpuAfter).map((p) => [p, cpuAfter[p] - cpuBefore[p]])) : undefined;
    return summarizeSale({ book, quantity: options.quantity, stockBefore, stockAfter, startedAt, endedAt, buyers, cpuMs, cores: os.cpus().length });
  } finally {
    agent.destroy();
  }
}

function count(name: string, fallback: number, min: number): number {
  const text = argValue(name);
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < min) throw new Error(`${name} must be a whole number ≥ ${min}, not "${text}"`);
  return n;
}

async function main(): Promise<void> {
  const dataDir = argValue('--data-dir') ?? process.env.CAUSEWAY_DATA_DIR;
  const options: FlashSaleOptions = {
    url: argValue('--url') ?? `http://localhost:${process.env.ORCHESTRATOR_PORT ?? '8081'}`,
    token: process.env.CAUSEWAY_ADMIN_TOKEN,
    book: argValue('--book'),
    stock: count('--stock', 20, 0),
    buyers: count('--buyers', 200, 1),
    quantity: count('--quantity', 1, 1),
    pidFile: pidFilePath({ CAUSEWAY_DATA_DIR: dataDir }),
    seed: argValue('--seed') ? Number(argValue('--seed')) : Date.now() % 1_000_000,
    timeoutMs: 60_000,
    followTimeoutMs: count('--follow-seconds', 60, 1) * 1000,
  };
  const json = process.argv.includes('--json');
  if (!json) options.progress = (line) => line && process.stderr.write(`${line}\n`);
  const report = await runFlashSale(options);
  process.stdout.write(json ? `${JSON.stringify(report)}\n` : `${formatSale(report)}\n`);
  process.exit(report.ok ? 0 : 1);
}

if (require.main === module) {
  main().catch((err: Error) => {
    process.stderr.write(`flash-sale: ${err.message}\n`);
    process.exit(2);
  });
}
