/**
 * What recording an answered order costs the orchestrator: `node dist/dev/bench/order-store.js`.
 * For each synchronous mode, orders put one at a time (a transaction and, with FULL, an fsync each) and
 * orders put by concurrent checkouts in the same event-loop turn (one transaction for the lot). The time is
 * the event loop's: better-sqlite3 is synchronous, so a commit blocks every other request meanwhile.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { CheckoutResult } from '../../orchestrator/api-types';
import { OrderStore } from '../../orchestrator/order-store';

const ORDERS = Number(process.env.ORDERS ?? 4000);

const answer = (orderId: string): CheckoutResult => ({
  orderId,
  status: 'Order Approved',
  state: 'queued',
  suggestedBooks: Array.from({ length: 3 }, (_, i) => ({ bookId: `bk-00${i}`, title: 'The Fellowship of the Ring', author: 'J.R.R. Tolkien' })),
  traceId: '8ab763c5ceb7008161d6ba4b7c801da7',
  events: ['A', 'B', 'D', 'C', 'E', 'F'].map((event, i) => ({
    event,
    service: 'transaction-verification',
    vectorClock: { 'transaction-verification': i, 'fraud-detection': i, suggestions: i },
    passed: true,
  })),
});

async function measure(synchronous: 'FULL' | 'NORMAL', together: number): Promise<string> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'causeway-order-store-bench-'));
  const store = OrderStore.open(dir, { retentionMs: 1e12, synchronous });
  const commits: number[] = [];
  const start = process.hrtime.bigint();
  for (let i = 0; i < ORDERS; i += together) {
    const t = process.hrtime.bigint();
    await Promise.all(Array.from({ length: together }, (_, j) => store.put(answer(`ord_${synchronous}_${i + j}`))));
    commits.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  const totalMs = Number(process.hrtime.bigint() - start) / 1e6;
  store.close();
  fs.rmSync(dir, { recursive: true, force: true });
  commits.sort((a, b) => a - b);
  const q = (p: number) => commits[Math.min(commits.length - 1, Math.floor(commits.length * p))].toFixed(2);
  return `| ${synchronous} | ${together} | ${((totalMs / ORDERS) * 1000).toFixed(0)} µs | ${q(0.5)} / ${q(0.99)} ms |`;
}

async function main(): Promise<void> {
  const rows = ['| synchronous | orders per commit | per order | per commit p50 / p99 |', '|---|---|---|---|'];
  for (const synchronous of ['FULL', 'NORMAL'] as const) {
    for (const together of [1, 8, 32]) rows.push(await measure(synchronous, together));
  }
  process.stdout.write(`${ORDERS} orders in ${os.tmpdir()}\n${rows.join('\n')}\n`);
}

void main();
