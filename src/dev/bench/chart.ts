/**
 * The bench's chart as hand-written SVG: the latest run's measures against their goals (one bar each, the goal
 * marked), and small line charts of chosen measures across the dated runs. Pure: values in, SVG text out.
 */

export interface GoalMeasure {
  label: string;
  unit: string;
  /** undefined: not measured in this run. */
  value: number | undefined;
  goal: number;
  better: 'higher' | 'lower';
}

export interface HistoryPoint {
  date: string;
  value: number;
  /** Drawn hollow and named in the legend: a point measured by an older method. */
  olderMethod?: boolean;
}

export interface HistorySeries {
  title: string;
  unit: string;
  goal: number;
  better: 'higher' | 'lower';
  points: HistoryPoint[];
}

/** CPU time per checkout of each process (ms), in a traced and an untraced system: where the cores go. */
export interface CpuBreakdown {
  /** Processes by name; a `total` entry, if any, is printed in the heading rather than as a process. */
  traced: Record<string, number>;
  untraced: Record<string, number>;
}

export interface ChartInput {
  title: string;
  subtitle: string;
  measures: GoalMeasure[];
  /** The latest run's CPU per checkout by process; drawn when given. */
  cpu?: CpuBreakdown;
  history: HistorySeries[];
  /** The legend's words for a hollow point. */
  olderMethodNote: string;
}

const WIDTH = 1000;
const GREEN = '#2e7d32';
const RED = '#c62828';
const GREY = '#757575';
const BLUE = '#1565c0';
const LIGHT_GREY = '#9e9e9e';

export const escapeXml = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');

/** A number as the chart prints it: three significant digits at most, no exponent. */
export function formatValue(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const abs = Math.abs(n);
  const digits = abs >= 100 ? 0 : abs >= 10 ? 1 : abs >= 1 ? 2 : 3;
  return String(Number(n.toFixed(digits)));
}

export const meetsGoal = (value: number, goal: number, better: 'higher' | 'lower'): boolean => (better === 'higher' ? value >= goal : value <= goal);

const px = (n: number) => String(Math.round(n * 10) / 10);

function text(x: number, y: number, content: string, attrs = ''): string {
  return `<text x="${px(x)}" y="${px(y)}"${attrs ? ` ${attrs}` : ''}>${escapeXml(content)}</text>`;
}

const goalWords = (m: { goal: number; better: 'higher' | 'lower'; unit: string }) =>
  `goal ${m.better === 'higher' ? '≥' : '≤'} ${formatValue(m.goal)}${m.unit ? ` ${m.unit}` : ''}`;

function measureRows(measures: GoalMeasure[], top: number): { svg: string[]; height: number } {
  const rowHeight = 34;
  const barX = 330;
  const barWidth = 400;
  const svg: string[] = [];
  measures.forEach((m, i) => {
    const y = top + i * rowHeight;
    svg.push(text(16, y + 18, m.label, 'font-size="13"'));
    const scale = Math.max(m.value ?? 0, m.goal) * 1.25 || 1;
    const x = (v: number) => barX + (v / scale) * barWidth;
    svg.push(`<rect x="${barX}" y="${y + 4}" width="${barWidth}" height="20" fill="#f2f2f2"/>`);
    if (m.value === undefined) {
      svg.push(text(barX + 8, y + 18, 'not measured in this run', `font-size="12" fill="${GREY}"`));
    } else {
      const met = meetsGoal(m.value, m.goal, m.better);
      svg.push(`<rect x="${barX}" y="${y + 4}" width="${px(Math.max(1, x(m.value) - barX))}" height="20" fill="${met ? GREEN : RED}" fill-opacity="0.8"/>`);
      svg.push(text(barX + barWidth + 10, y + 18, `${formatValue(m.value)}${m.unit ? ` ${m.unit}` : ''}`, `font-size="13" font-weight="bold" fill="${met ? GREEN : RED}"`));
    }
    svg.push(`<line x1="${px(x(m.goal))}" y1="${y}" x2="${px(x(m.goal))}" y2="${y + 28}" stroke="#000" stroke-width="2" stroke-dasharray="4 2"/>`);
    svg.push(text(barX + barWidth + 140, y + 18, goalWords(m), `font-size="12" fill="${GREY}"`));
  });
  return { svg, height: measures.length * rowHeight };
}

/**
 * Two bars per process, tracing on and off, in two columns, the processes that spend the most first: what each
 * process costs per checkout, and what tracing adds to it.
 */
function cpuRows(cpu: CpuBreakdown, top: number): { svg: string[]; height: number } {
  const svg: string[] = [];
  const names = Object.keys(cpu.traced)
    .filter((name) => name !== 'total')
    .sort((a, b) => cpu.traced[b] - cpu.traced[a] || a.localeCompare(b));
  const total = (side: Record<string, number>) =>
    side.total ?? Object.entries(side).reduce((sum, [name, ms]) => (name === 'total' ? sum : sum + ms), 0);
  svg.push(
    text(16, top + 14, `CPU per checkout, by process: tracing on ${formatValue(total(cpu.traced))} ms, off ${formatValue(total(cpu.untraced))} ms`, 'font-size="15" font-weight="bold"'),
  );
  svg.push(`<rect x="560" y="${top + 4}" width="12" height="10" fill="${BLUE}"/>`);
  svg.push(text(578, top + 14, 'tracing on', 'font-size="11"'));
  svg.push(`<rect x="650" y="${top + 4}" width="12" height="10" fill="${LIGHT_GREY}"/>`);
  svg.push(text(668, top + 14, 'tracing off (ms per checkout)', 'font-size="11"'));
  const rowHeight = 26;
  const perColumn = Math.ceil(names.length / 2);
  const columnWidth = (WIDTH - 32) / 2;
  const labelWidth = 170;
  const barWidth = columnWidth - labelWidth - 70;
  const max = Math.max(...names.flatMap((n) => [cpu.traced[n], cpu.untraced[n] ?? 0]), 0) || 1;
  names.forEach((name, i) => {
    const left = 16 + Math.floor(i / perColumn) * columnWidth;
    const y = top + 24 + (i % perColumn) * rowHeight;
    const barX = left + labelWidth;
    svg.push(text(left, y + 14, name, 'font-size="12"'));
    const bar = (ms: number | undefined, dy: number, fill: string) => {
      if (ms === undefined) return;
      svg.push(`<rect x="${px(barX)}" y="${px(y + dy)}" width="${px(Math.max(1, (ms / max) * barWidth))}" height="9" fill="${fill}"/>`);
      svg.push(text(barX + (ms / max) * barWidth + 6, y + dy + 8, formatValue(ms), `font-size="10" fill="${GREY}"`));
    };
    bar(cpu.traced[name], 2, BLUE);
    bar(cpu.untraced[name], 12, LIGHT_GREY);
  });
  return { svg, height: 24 + perColumn * rowHeight };
}

function historyPanel(series: HistorySeries, left: number, top: number, width: number, height: number): string[] {
  const svg: string[] = [];
  const plot = { x: left + 44, y: top + 28, w: width - 60, h: height - 70 };
  svg.push(text(left + 4, top + 14, `${series.title} (${goalWords(series)})`, 'font-size="13" font-weight="bold"'));
  const values = [...series.points.map((p) => p.value), series.goal];
  const max = Math.max(...values) * 1.15 || 1;
  const y = (v: number) => plot.y + plot.h - (v / max) * plot.h;
  const n = series.points.length;
  const x = (i: number) => (n <= 1 ? plot.x + plot.w / 2 : plot.x + (i / (n - 1)) * plot.w);
  svg.push(`<rect x="${plot.x}" y="${plot.y}" width="${plot.w}" height="${plot.h}" fill="none" stroke="#ccc"/>`);
  for (const tick of [0, max / 2, max]) {
    svg.push(text(plot.x - 6, y(tick) + 4, formatValue(tick), `font-size="10" text-anchor="end" fill="${GREY}"`));
  }
  svg.push(`<line x1="${plot.x}" y1="${px(y(series.goal))}" x2="${plot.x + plot.w}" y2="${px(y(series.goal))}" stroke="#000" stroke-dasharray="4 2"/>`);
  if (n === 0) {
    svg.push(text(plot.x + 8, plot.y + plot.h / 2, 'no runs yet', `font-size="12" fill="${GREY}"`));
    return svg;
  }
  if (n > 1) {
    const path = series.points.map((p, i) => `${px(x(i))},${px(y(p.value))}`).join(' ');
    svg.push(`<polyline points="${path}" fill="none" stroke="#1565c0" stroke-width="1.5"/>`);
  }
  let lastLabelX = -Infinity;
  series.points.forEach((p, i) => {
    const color = meetsGoal(p.value, series.goal, series.better) ? GREEN : RED;
    const fill = p.olderMethod ? '#fff' : color;
    svg.push(`<circle cx="${px(x(i))}" cy="${px(y(p.value))}" r="4" fill="${fill}" stroke="${color}" stroke-width="2"><title>${escapeXml(`${p.date}: ${formatValue(p.value)} ${series.unit}`)}</title></circle>`);
    // One label per day, under its first run (a day with several runs would print its date over itself), and none
    // so close to the one before that they overlap.
    if ((i === 0 || series.points[i - 1].date.slice(0, 10) !== p.date.slice(0, 10)) && x(i) - lastLabelX >= 34) {
      lastLabelX = x(i);
      svg.push(text(x(i), plot.y + plot.h + 14, p.date.slice(5, 10), `font-size="10" text-anchor="middle" fill="${GREY}"`));
    }
  });
  return svg;
}

export function renderChart(input: ChartInput): string {
  const svg: string[] = [];
  svg.push(text(16, 26, input.title, 'font-size="18" font-weight="bold"'));
  svg.push(text(16, 46, input.subtitle, `font-size="12" fill="${GREY}"`));
  const rows = measureRows(input.measures, 62);
  svg.push(...rows.svg);
  let below = 62 + rows.height;
  if (input.cpu) {
    const cpu = cpuRows(input.cpu, below + 14);
    svg.push(...cpu.svg);
    below += 14 + cpu.height;
  }
  const historyTop = below + 24;
  svg.push(text(16, historyTop, 'History (one point per dated results file)', 'font-size="15" font-weight="bold"'));
  const perRow = 3;
  const panelWidth = (WIDTH - 32) / perRow;
  const panelHeight = 190;
  input.history.forEach((s, i) => {
    svg.push(...historyPanel(s, 16 + (i % perRow) * panelWidth, historyTop + 10 + Math.floor(i / perRow) * panelHeight, panelWidth, panelHeight));
  });
  const legendTop = historyTop + 10 + Math.ceil(input.history.length / perRow) * panelHeight;
  svg.push(`<circle cx="24" cy="${legendTop}" r="4" fill="${GREEN}" stroke="${GREEN}" stroke-width="2"/>`);
  svg.push(text(34, legendTop + 4, 'goal met', 'font-size="11"'));
  svg.push(`<circle cx="104" cy="${legendTop}" r="4" fill="${RED}" stroke="${RED}" stroke-width="2"/>`);
  svg.push(text(114, legendTop + 4, 'goal missed', 'font-size="11"'));
  svg.push(`<circle cx="204" cy="${legendTop}" r="4" fill="#fff" stroke="${GREY}" stroke-width="2"/>`);
  svg.push(text(214, legendTop + 4, input.olderMethodNote, 'font-size="11"'));
  svg.push(`<line x1="16" y1="${legendTop + 18}" x2="40" y2="${legendTop + 18}" stroke="#000" stroke-dasharray="4 2"/>`);
  svg.push(text(46, legendTop + 22, 'goal', 'font-size="11"'));
  const height = legendTop + 36;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif">`,
    `<rect width="${WIDTH}" height="${height}" fill="#fff"/>`,
    ...svg,
    '</svg>',
    '',
  ].join('\n');
}
