/**
 * bench/results/chart.svg from the results files: the latest run's measures against their goals, and the history
 * of the dated runs (bench/results/<date>.json). `npm run bench` writes it after each run; `npm run bench:chart`
 * redraws it from the files alone.
 */
import fs from 'node:fs';
import path from 'node:path';
import { renderChart, type ChartInput, type HistorySeries } from './chart';

/** The keys of a results file the chart reads; older files lack some of them. */
export interface BenchResults {
  date: string;
  machine?: string;
  floorRatio?: number;
  tracingOverhead?: number;
  spansDropped?: number;
  /** Open loop, from issue 11 on. */
  latency?: { rate: number; seconds: number; p99Ms: number; openLoop: true };
  /** Closed-loop half-load p99, before issue 11. */
  p99Ms?: number;
  queueCommitRate?: number;
  /** CPU ms per checkout of each process, tracing on and off (8 checkouts at a time). */
  cpuMsPerCheckout?: { traced: Record<string, number>; untraced: Record<string, number> };
  failover?: { p50Ms: number; p99Ms: number };
  /** How the run was taken (from issue 11 on). */
  settings?: { runs: number; runSeconds: number; warmUpSeconds: number; latencySeconds: number; kills: number; growthOrders: number; heals?: number };
}

/** A run taken with less than the bench's defaults: a try, whose figures are not to be quoted. */
export function shortened(r: BenchResults): boolean {
  const s = r.settings;
  return s !== undefined && (s.runs < 3 || s.runSeconds < 8 || s.warmUpSeconds < 15 || s.latencySeconds < 60 || s.kills < 50 || s.growthOrders < 200_000 || (s.heals ?? 20) < 20);
}

/** `<date>.json`, or `<date>-<n>.json` for a later run the same day. */
const DATED = /^\d{4}-\d{2}-\d{2}(?:-\d+)?\.json$/;

/**
 * Writes `value` as JSON to `dir/<day>.json` (made if missing); a later run the same day keeps the first and goes
 * to `<day>-2.json`, `-3`, … Returns the file written.
 */
export function writeDatedResult(dir: string, day: string, value: unknown): string {
  fs.mkdirSync(dir, { recursive: true });
  let file = path.join(dir, `${day}.json`);
  for (let n = 2; fs.existsSync(file); n++) file = path.join(dir, `${day}-${n}.json`);
  fs.writeFileSync(file, `${JSON.stringify(value, null, 2)}\n`);
  return file;
}

export function readResults(dir: string): BenchResults[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((f) => DATED.test(f))
    .map((f) => JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as BenchResults)
    .sort((a, b) => a.date.localeCompare(b.date));
}

const p99Of = (r: BenchResults) => r.latency?.p99Ms ?? r.p99Ms;

export function chartInput(history: BenchResults[]): ChartInput {
  const latest = history.at(-1);
  const series = (title: string, unit: string, goal: number, better: 'higher' | 'lower', value: (r: BenchResults) => number | undefined, older?: (r: BenchResults) => boolean): HistorySeries => ({
    title,
    unit,
    goal,
    better,
    points: history.flatMap((r) => {
      const v = value(r);
      return v === undefined ? [] : [{ date: r.date, value: v, olderMethod: older?.(r) ?? false }];
    }),
  });
  const pct = (r: BenchResults) => (r.tracingOverhead === undefined ? undefined : r.tracingOverhead * 100);
  return {
    title: 'Causeway bench: latest run against the goals',
    subtitle: latest
      ? `${latest.date.slice(0, 16).replace('T', ' ')} UTC · ${latest.machine ?? 'unknown machine'}${shortened(latest) ? ' · SHORTENED run (BENCH_* knobs): a try, not figures to quote' : ''}`
      : 'no results yet',
    measures: [
      { label: 'floor ratio, tracing on', unit: '', value: latest?.floorRatio, goal: 0.6, better: 'higher' },
      { label: 'tracing overhead', unit: '%', value: latest && pct(latest), goal: 15, better: 'lower' },
      { label: latest?.latency ? `p99 latency, open loop at ${latest.latency.rate}/s` : 'p99 latency at half load (closed loop)', unit: 'ms', value: latest && p99Of(latest), goal: 25, better: 'lower' },
      { label: 'spans dropped', unit: '', value: latest?.spansDropped, goal: 0, better: 'lower' },
      { label: 'queue commit rate', unit: 'orders/s', value: latest?.queueCommitRate, goal: 2000, better: 'higher' },
      { label: 'failover p50', unit: 'ms', value: latest?.failover?.p50Ms, goal: 200, better: 'lower' },
      { label: 'failover p99', unit: 'ms', value: latest?.failover?.p99Ms, goal: 500, better: 'lower' },
    ],
    cpu: latest?.cpuMsPerCheckout,
    history: [
      series('floor ratio', '', 0.6, 'higher', (r) => r.floorRatio),
      series('tracing overhead', '%', 15, 'lower', pct),
      series('p99 at half load', 'ms', 25, 'lower', p99Of, (r) => !r.latency),
    ],
    olderMethodNote: 'p99 from closed-loop connections (before the open-loop generator)',
  };
}

/** Writes bench/results/chart.svg from the dated results in `dir`; returns the files written. */
export function writeCharts(dir: string): string[] {
  const file = path.join(dir, 'chart.svg');
  fs.writeFileSync(file, renderChart(chartInput(readResults(dir))));
  return [file];
}

if (require.main === module) {
  const dir = path.resolve(__dirname, '..', '..', '..', 'bench', 'results');
  for (const file of writeCharts(dir)) process.stdout.write(`wrote ${path.relative(process.cwd(), file)}\n`);
}
