/**
 * `npm run load -- --rate R --seconds S [--mix good=80,fraud=10,declined=10] [--url http://localhost:8080]
 *   [--seed N] [--no-follow] [--json]`
 *
 * An open-loop load on a running Causeway (started with `npm start`), the way people use Locust on the course's
 * projects: checkouts leave at a fixed rate whether or not earlier ones were answered, and each latency runs from
 * the request's scheduled send time, so a stall counts against every request it delays. A live line shows what
 * has been sent and answered; the closing summary counts answers by outcome and kind, gives latency percentiles
 * (HDR histogram), and, unless --no-follow, follows every approved order to its end (GET /orders/:id: executed, or
 * failed and why).
 */
import http from 'node:http';
import { seededRandom } from '../../raft/random';
import { dueRequests, latencyFromSchedule, LatencyHistogram, plannedRequests, scheduledAtMs, type LatencySummary } from '../bench/open-loop';
import { argValue } from './args';
import { followOrders, request } from './http';
import { checkoutBody, countBy, DEFAULT_MIX, outcomeOf, parseMix, pickKind, type Answer, type Mix, type OrderKind } from './mix';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface LoadOptions {
  url: string;
  rate: number;
  seconds: number;
  mix: Mix;
  seed: number;
  /** Follow approved orders until they are executed or failed (up to `followTimeoutMs`). */
  follow: boolean;
  followTimeoutMs: number;
  /** A request unanswered after this long counts as "no answer". */
  timeoutMs: number;
  /** How long to wait for GET /books to answer before the first checkout. */
  readyWaitMs: number;
  /** Called about once a second with the live line; and once at the end with ''. */
  progress?: (line: string) => void;
}

export interface LoadSummary {
  planned: number;
  answered: number;
  byOutcome: [string, number][];
  byKind: Record<string, [string, number][]>;
  latency: LatencySummary;
  /** Approved orders by their final state ("executed", "failed: OUT_OF_STOCK", "still queued" ...). */
  finalStates?: [string, number][];
  seconds: number;
}

/**
 * The catalog's titles in stock, from GET /books. Waits (up to `waitMs`) while the shop answers 503: just after
 * `npm start` the books database is still electing its first leader and seeding, and checkouts sent then would only
 * measure that wait.
 */
async function catalogTitles(agent: http.Agent, base: URL, waitMs: number, progress?: (line: string) => void): Promise<string[]> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const res = await request(agent, base, 'GET', '/books', undefined, 5000);
    const books = (res.body as { books?: { title: string; stock: number }[] } | undefined)?.books;
    if (res.status === 200 && books) {
      const inStock = books.filter((b) => b.stock > 0).map((b) => b.title);
      if (inStock.length === 0) throw new Error('GET /books lists no book in stock: nothing to order');
      return inStock;
    }
    if (Date.now() > deadline) throw new Error(`GET ${base.origin}/books did not answer 200 within ${waitMs / 1000} s (last: ${res.status || 'no answer'}); is Causeway running?`);
    progress?.(`waiting for the shop to list its books (GET /books: ${res.status || 'no answer'})`);
    await sleep(500);
  }
}

export async function runLoad(options: LoadOptions): Promise<LoadSummary> {
  const base = new URL(options.url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const random = seededRandom(options.seed);
  const titles = await catalogTitles(agent, base, options.readyWaitMs, options.progress);
  // The same-book kind races for one title: the seeded first pick.
  const sameBook = titles[Math.floor(random() * titles.length)];
  const total = plannedRequests(options);
  const histogram = new LatencyHistogram();
  const answers: Answer[] = [];
  let next = 0;
  const started = performance.now();

  const progressTimer = setInterval(() => {
    const s = histogram.summary();
    const approved = answers.filter((a) => a.outcome === 'approved').length;
    options.progress?.(
      `${((performance.now() - started) / 1000).toFixed(0).padStart(4)} s  sent ${next}/${total}  answered ${answers.length}  ` +
        `approved ${approved}  other ${answers.length - approved}  in flight ${next - answers.length}  ` +
        `p50 ${s.count ? s.p50Ms.toFixed(0) : '-'} ms  p99 ${s.count ? s.p99Ms.toFixed(0) : '-'} ms`,
    );
  }, 1000);

  await new Promise<void>((resolve) => {
    if (total === 0) return resolve();
    const send = (i: number) => {
      const kind: OrderKind = pickKind(options.mix, random);
      const body = JSON.stringify(checkoutBody(kind, i, random, titles, sameBook));
      void request(agent, base, 'POST', '/checkout', body, options.timeoutMs).then((res) => {
        const latencyMs = latencyFromSchedule(started, i, options.rate, performance.now());
        histogram.record(latencyMs);
        const orderId = (res.body as { orderId?: string } | undefined)?.orderId;
        answers.push({ kind, status: res.status, outcome: outcomeOf(res.status, res.body), latencyMs, orderId });
        if (answers.length === total) resolve();
      });
    };
    const tick = () => {
      const due = dueRequests(performance.now() - started, options.rate, total);
      while (next < due) send(next++);
      if (next < total) setTimeout(tick, Math.max(0, started + scheduledAtMs(next, options.rate) - performance.now()));
    };
    tick();
  });
  clearInterval(progressTimer);
  const seconds = (performance.now() - started) / 1000;

  let finalStates: [string, number][] | undefined;
  if (options.follow) {
    const approved = answers.filter((a) => a.outcome === 'approved' && a.orderId).map((a) => a.orderId!);
    const decided = await followOrders(agent, base, approved, options.followTimeoutMs, options.progress);
    const final = new Map([...decided].map(([id, o]) => [id, o.state === 'executed' ? 'executed' : `failed: ${o.failure?.code ?? '?'}`]));
    const states = approved.map((id) => final.get(id) ?? 'not decided in time');
    finalStates = countBy(states, (s) => s);
  }
  options.progress?.('');
  agent.destroy();

  const byKind: Record<string, [string, number][]> = {};
  for (const kind of new Set(answers.map((a) => a.kind))) byKind[kind] = countBy(answers.filter((a) => a.kind === kind), (a) => a.outcome);
  return {
    planned: total,
    answered: answers.filter((a) => a.status !== 0).length,
    byOutcome: countBy(answers, (a) => a.outcome),
    byKind,
    latency: histogram.summary(),
    finalStates,
    seconds: Math.round(seconds * 10) / 10,
  };
}

export function formatSummary(s: LoadSummary, options: Pick<LoadOptions, 'rate' | 'mix'>): string {
  const lines = [
    `${s.planned} checkouts at ${options.rate}/s in ${s.seconds} s (mix ${[...options.mix].map(([k, w]) => `${k}=${w}`).join(',')}): ${s.answered} answered`,
    '',
    'answers by outcome:',
    ...s.byOutcome.map(([k, n]) => `  ${k.padEnd(36)} ${String(n).padStart(7)}`),
    '',
    'by kind:',
    ...Object.entries(s.byKind).map(([kind, counts]) => `  ${kind.padEnd(12)} ${counts.map(([k, n]) => `${k} ${n}`).join(', ')}`),
    '',
    `latency from scheduled send (ms): p50 ${s.latency.p50Ms}  p99 ${s.latency.p99Ms}  p99.9 ${s.latency.p999Ms}  max ${s.latency.maxMs}`,
  ];
  if (s.finalStates) {
    lines.push('', 'approved orders, in the end:', ...s.finalStates.map(([k, n]) => `  ${k.padEnd(36)} ${String(n).padStart(7)}`));
  }
  return lines.join('\n');
}

function positive(name: string, fallback: number): number {
  const text = argValue(name);
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a number above 0, not "${text}"`);
  return n;
}

async function main(): Promise<void> {
  const options: LoadOptions = {
    url: argValue('--url') ?? `http://localhost:${process.env.ORCHESTRATOR_PORT ?? '8080'}`,
    rate: positive('--rate', 10),
    seconds: positive('--seconds', 10),
    mix: argValue('--mix') ? parseMix(argValue('--mix')!) : DEFAULT_MIX,
    seed: argValue('--seed') ? Number(argValue('--seed')) : Date.now() % 1_000_000,
    follow: !process.argv.includes('--no-follow'),
    followTimeoutMs: positive('--follow-seconds', 30) * 1000,
    timeoutMs: 30_000,
    readyWaitMs: 60_000,
  };
  const json = process.argv.includes('--json');
  const live = !json && process.stderr.isTTY;
  options.progress = (line) => {
    if (json) return;
    if (live) process.stderr.write(`\r\x1b[2K${line}`);
    else if (line) process.stderr.write(`${line}\n`);
  };
  const summary = await runLoad(options);
  if (live) process.stderr.write('\n');
  process.stdout.write(json ? `${JSON.stringify({ seed: options.seed, ...summary })}\n` : `${formatSummary(summary, options)}\n(seed ${options.seed})\n`);
  process.exit(summary.answered === summary.planned ? 0 : 1);
}

if (require.main === module) {
  main().catch((err: Error) => {
    process.stderr.write(`load: ${err.message}\n`);
    process.exit(2);
  });
}
