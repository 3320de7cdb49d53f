import { formatFlashSaleBench } from './flash-sale';
import type { FlashSaleReport } from '../load/flash-sale';

function report(p50: number, answers: [string, number][], ok = true): FlashSaleReport {
  return {
    book: { bookId: 'bk-001', title: 'The Hobbit' },
    buyers: 200,
    quantity: 1,
    stockBefore: 20,
    stockAfter: 0,
    answers,
    endings: [],
    copiesSold: 20,
    oversold: 0,
    stockAccounted: true,
    refusedWhileLeft: 0,
    otherFailures: 0,
    undecided: 0,
    checkoutMs: { p50, p99: p50 + 100, max: p50 + 100 },
    decidedMs: { p50, p99: p50, max: p50 },
    lastCopyMs: 900,
    allDecidedMs: 3000,
    decisionsPerSecond: 60,
    ok,
  };
}

it('prints each setting as its range over the rounds, and deadline misses and failed runs run by run', () => {
  const sale = '200 buyers, 20 copies';
  const table = formatFlashSaleBench([
    { round: 1, setting: 'in line (32)', sale, report: report(2000, [['approved', 200]]) },
    { round: 2, setting: 'in line (32)', sale, report: report(1500, [['approved', 200]]) },
    { round: 1, setting: 'all at once (256)', sale, report: report(3000, [['approved', 150], ['HTTP 504: UPSTREAM_TIMEOUT', 50]], false) },
    { round: 2, setting: 'all at once (256)', sale, report: report(3000, [['approved', 200]]) },
  ]);
  expect(table).toContain('| 200 buyers, 20 copies | in line (32) | all at once (256) |');
  expect(table).toContain('| checkout answered, p50 (ms) | 1,500–2,000 | 3,000 |');
  expect(table).toContain('| approved | 200 | 150–200 |');
  expect(table).toContain('| 504 deadline missed | 0, 0 | 50, 0 |');
  expect(table).toContain('| report OK (1) or not (0) | 1, 1 | 0, 1 |');
});
