/**
 * `npm run bench:flash-sale -- [--rounds 5] [--concurrency 64,256]`: the checkout line measured against everything
 * at once (or any concurrencies against each other).
 *
 * Each round starts a fresh system per setting, interleaved (in line: CAUSEWAY_CHECKOUT_CONCURRENCY=64, the
 * default; all at once: 256, as many as may be in progress), so that the drift of a shared box hits all alike.
 * On each system: a warm-up sale, then 200 buyers for 20 copies and 500 buyers for 100 copies (`npm run
 * flash-sale`'s runFlashSale). It prints, per setting, the range over the rounds of what the README's "A flash
 * sale" quotes, and writes every report to bench/results/flash-sale/<date>.json.
 */
import path from 'node:path';
import { pidFilePath } from '../launcher/processes';
import { ROOT, startSystem } from '../harness/system';
import { runFlashSale, type FlashSaleReport } from '../load/flash-sale';
import { writeDatedResult } from './results-chart';

const TOKEN = 'flash-sale-bench-token-0123456789';
/** What a concurrency is called in the table: 256 lets every checkout that may be in progress run at once. */
const settingName = (concurrency: number) => (concurrency >= 256 ? `all at once (${concurrency})` : `in line (${concurrency})`);
const SALES = [
  { name: '200 buyers, 20 copies', book: 'bk-001', stock: 20, buyers: 200 },
  { name: '500 buyers, 100 copies', book: 'bk-002', stock: 100, buyers: 500 },
] as const;

interface Run {
  round: number;
  setting: string;
  sale: string;
  report: FlashSaleReport;
}

async function round(n: number, concurrency: number, setting: string, log: (s: string) => void): Promise<Run[]> {
  const system = await startSystem({ CAUSEWAY_ADMIN_TOKEN: TOKEN, CAUSEWAY_CHECKOUT_CONCURRENCY: String(concurrency) });
  try {
    const sale = (book: string, stock: number, buyers: number) =>
      runFlashSale({
        url: system.baseUrl,
        token: TOKEN,
        book,
        stock,
        buyers,
        quantity: 1,
        pidFile: pidFilePath({ CAUSEWAY_DATA_DIR: system.dataDir }),
        seed: n,
        timeoutMs: 60_000,
        followTimeoutMs: 60_000,
      });
    await sale('bk-003', 10, 50); // warm-up: JIT, connections, the first leader's caches
    const runs: Run[] = [];
    for (const s of SALES) {
      const report = await sale(s.book, s.stock, s.buyers);
      log(`round ${n}, ${setting}, ${s.name}: checkout p50 ${report.checkoutMs.p50} ms, last copy ${report.lastCopyMs ?? '-'} ms, all decided ${report.allDecidedMs} ms, ${JSON.stringify(report.answers)}${report.ok ? '' : ', NOT OK'}`);
      runs.push({ round: n, setting, sale: s.name, report });
    }
    return runs;
  } finally {
    await system.stop();
  }
}

const range = (values: number[]) => {
  const finite = values.filter((v) => Number.isFinite(v));
  if (!finite.length) return '-';
  const lo = Math.min(...finite);
  const hi = Math.max(...finite);
  return lo === hi ? lo.toLocaleString('en-US') : `${lo.toLocaleString('en-US')}–${hi.toLocaleString('en-US')}`;
};

/** The printed table: per sale, per measure, each setting's range over the rounds. */
export function formatFlashSaleBench(runs: Run[]): string {
  const settings = [...new Set(runs.map((r) => r.setting))];
  const lines: string[] = [];
  for (const s of SALES) {
    const of = (setting: string) => runs.filter((r) => r.sale === s.name && r.setting === setting).map((r) => r.report);
    const count = (r: FlashSaleReport, prefix: string) => r.answers.filter(([k]) => k.startsWith(prefix)).reduce((a, [, c]) => a + c, 0);
    const rows: [string, (r: FlashSaleReport) => number][] = [
      ['checkout answered, p50 (ms)', (r) => r.checkoutMs.p50],
      ['checkout answered, p99 (ms)', (r) => r.checkoutMs.p99],
      ['last copy sold after (ms)', (r) => r.lastCopyMs ?? NaN],
      ['every order decided after (ms)', (r) => r.allDecidedMs],
      ['approved', (r) => count(r, 'approved')],
      ['503 turned away', (r) => count(r, 'HTTP 503')],
      ['504 deadline missed', (r) => count(r, 'HTTP 504')],
      ['report OK (1) or not (0)', (r) => (r.ok ? 1 : 0)],
    ];
    lines.push(`| ${s.name} | ${settings.join(' | ')} |`, `|---|${settings.map(() => '---').join('|')}|`);
    for (const [label, pick] of rows) {
      const cells = settings.map((x) => {
        const values = of(x).map(pick);
        // Per-run values where a range would hide how often it happened.
        return label.startsWith('504') || label.startsWith('report') ? values.join(', ') : range(values);
      });
      lines.push(`| ${label} | ${cells.join(' | ')} |`);
    }
    lines.push('');
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  const i = process.argv.indexOf('--rounds');
  const rounds = i >= 0 ? Number(process.argv[i + 1]) : 5;
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error('--rounds must be a whole number ≥ 1');
  const c = process.argv.indexOf('--concurrency');
  const concurrencies = (c >= 0 ? process.argv[c + 1] ?? '' : '64,256').split(',').map(Number);
  if (!concurrencies.every((n) => Number.isInteger(n) && n >= 1 && n <= 256)) throw new Error('--concurrency takes whole numbers from 1 to 256, comma-separated');
  const settings = concurrencies.map((concurrency) => ({ name: settingName(concurrency), concurrency }));
  const log = (s: string) => process.stderr.write(`${s}\n`);
  const runs: Run[] = [];
  for (let n = 1; n <= rounds; n++) {
    // Alternate which setting goes first, so neither always runs on a box just warmed (or tired) by the other.
    const order = n % 2 ? settings : [...settings].reverse();
    for (const s of order) runs.push(...(await round(n, s.concurrency, s.name, log)));
  }
  process.stdout.write(`${formatFlashSaleBench(runs)}\n`);
  const dir = path.join(ROOT, 'bench', 'results', 'flash-sale');
  const file = writeDatedResult(dir, new Date().toISOString().slice(0, 10), { rounds, settings, sales: SALES, runs });
  process.stdout.write(`written to ${path.relative(process.cwd(), file)}\n`);
  process.exit(runs.every((r) => r.report.ok) ? 0 : 1);
}

if (require.main === module) {
  main().catch((err: Error) => {
    process.stderr.write(`bench:flash-sale: ${err.stack ?? err.message}\n`);
    process.exit(2);
  });
}
