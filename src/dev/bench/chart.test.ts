import { escapeXml, formatValue, renderChart, type ChartInput } from './chart';
import { chartInput, type BenchResults } from './results-chart';

/** Checks the SVG is well-formed XML: one root, every element closed in order, attributes quoted, entities known. */
function parseXml(xml: string): { root: string; texts: string[]; elements: { name: string; attrs: Record<string, string> }[] } {
  const stack: string[] = [];
  const texts: string[] = [];
  const elements: { name: string; attrs: Record<string, string> }[] = [];
  let root = '';
  const token = /<(\/?)([A-Za-z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>|([^<]+)/gy;
  const decode = (s: string) => {
    const unknown = s.replace(/&(amp|lt|gt|quot|apos);/g, '').match(/[&<>]/);
    if (unknown) throw new Error(`unescaped ${unknown[0]} in ${JSON.stringify(s)}`);
    return s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&');
  };
  let at = 0;
  for (let m = token.exec(xml); m; m = token.exec(xml)) {
    at = token.lastIndex;
    const [, closing, name, attrText, selfClosing, chars] = m;
    if (chars !== undefined) {
      if (stack.length === 0 && chars.trim()) throw new Error(`text outside the root: ${chars}`);
      if (chars.trim()) texts.push(decode(chars));
      continue;
    }
    if (closing) {
      const open = stack.pop();
      if (open !== name) throw new Error(`</${name}> closes <${open}>`);
      continue;
    }
    if (stack.length === 0) {
      if (root) throw new Error('two root elements');
      root = name;
    }
    const attrs = Object.fromEntries([...attrText.matchAll(/([\w:-]+)="([^"]*)"/g)].map((a) => [a[1], decode(a[2])]));
    elements.push({ name, attrs });
    if (!selfClosing) stack.push(name);
  }
  if (at !== xml.length) throw new Error(`not XML at offset ${at}: ${xml.slice(at, at + 40)}`);
  if (stack.length > 0) throw new Error(`unclosed <${stack.join('>, <')}>`);
  return { root, texts, elements };
}

const input: ChartInput = {
  title: 'Bench <latest> & history',
  subtitle: '2 × CPU',
  measures: [
    { label: 'floor ratio', unit: '', value: 0.43, goal: 0.6, better: 'higher' },
    { label: 'p99', unit: 'ms', value: 17.25, goal: 25, better: 'lower' },
    { label: 'queue commit rate', unit: 'orders/s', value: undefined, goal: 2000, better: 'higher' },
  ],
  history: [
    { title: 'floor ratio', unit: '', goal: 0.6, better: 'higher', points: [{ date: '2026-11-24T10:00:00Z', value: 0.33 }, { date: '2026-11-25T10:00:00Z', value: 0.43 }] },
    { title: 'p99', unit: 'ms', goal: 25, better: 'lower', points: [{ date: '2026-11-25T10:00:00Z', value: 93, olderMethod: true }] },
    { title: 'empty', unit: '', goal: 1, better: 'lower', points: [] },
  ],
  olderMethodNote: 'closed loop',
};

describe('the bench chart', () => {
  it('is a well-formed SVG document', () => {
    const { root, elements } = parseXml(renderChart(input).trim());
    expect(root).toBe('svg');
    expect(elements[0].attrs.xmlns).toBe('http://www.w3.org/2000/svg');
    for (const e of elements) for (const [k, v] of Object.entries(e.attrs)) if (/^(x|y|x1|y1|x2|y2|cx|cy|width|height|r)$/.test(k)) expect(Number.isFinite(Number(v))).toBe(true);
  });

  it('prints the given values, goals and dates, escaped', () => {
    const { texts } = parseXml(renderChart(input).trim());
    expect(texts).toContain('Bench <latest> & history');
    expect(texts).toContain('0.43');
    expect(texts).toContain('17.3 ms');
    expect(texts).toContain('goal ≥ 0.6');
    expect(texts).toContain('goal ≤ 25 ms');
    expect(texts).toContain('not measured in this run');
    expect(texts).toContain('11-24');
    // A date is printed once under a day's runs, however many there were.
    const twice: ChartInput = { ...input, history: [{ ...input.history[0], points: [...input.history[0].points, { date: '2026-11-25T18:00:00Z', value: 0.4 }] }] };
    expect(parseXml(renderChart(twice).trim()).texts.filter((t) => t === '11-25')).toHaveLength(1);
    expect(texts).toContain('no runs yet');
    expect(texts.some((t) => t.includes('2026-11-25T10:00:00Z: 93 ms'))).toBe(true);
  });

  it('colours a measure by its goal: red when missed, green when met', () => {
    const { elements } = parseXml(renderChart(input).trim());
    const bars = elements.filter((e) => e.name === 'rect' && e.attrs['fill-opacity']);
    expect(bars.map((b) => b.attrs.fill)).toEqual(['#c62828', '#2e7d32']);
  });

  it('draws the CPU per checkout of each process, tracing on and off, the costliest first, the total in the heading', () => {
    const cpu = {
      traced: { 'executor-1': 0.9, orchestrator: 4, 'fraud-detection': 3.4, total: 8.3 },
      untraced: { 'executor-1': 0.8, orchestrator: 3.6, 'fraud-detection': 2.4, total: 6.8 },
    };
    const { texts, elements } = parseXml(renderChart({ ...input, cpu }).trim());
    expect(texts).toContain('CPU per checkout, by process: tracing on 8.3 ms, off 6.8 ms');
    const names = texts.filter((t) => ['executor-1', 'orchestrator', 'fraud-detection', 'total'].includes(t));
    expect(names).toEqual(['orchestrator', 'fraud-detection', 'executor-1']);
    for (const ms of ['4', '3.6', '3.4', '2.4', '0.9', '0.8']) expect(texts).toContain(ms);
    // Bars in proportion: the orchestrator's traced bar is the longest, and 4 / 0.9 as long as executor-1's.
    const bars = elements.filter((e) => e.name === 'rect' && e.attrs.height === '9').map((e) => Number(e.attrs.width));
    expect(bars).toHaveLength(6);
    expect(Math.max(...bars)).toBe(bars[0]);
    expect(bars[0] / bars[4]).toBeCloseTo(4 / 0.9, 1);
    // Without it, no such section.
    expect(parseXml(renderChart(input).trim()).texts.some((t) => t.startsWith('CPU per checkout'))).toBe(false);
  });

  it('formats numbers to three significant digits and escapes XML', () => {
    expect(formatValue(2180.4)).toBe('2180');
    expect(formatValue(38.94)).toBe('38.9');
    expect(formatValue(0.4321)).toBe('0.432');
    expect(escapeXml(`<a b="c">&'`)).toBe('&lt;a b=&quot;c&quot;&gt;&amp;&apos;');
  });
});

describe('the chart of the results files', () => {
  const old: BenchResults = { date: '2026-11-25T16:55:30.335Z', floorRatio: 0.43, tracingOverhead: 0.389, p99Ms: 93, queueCommitRate: 2180, failover: { p50Ms: 179, p99Ms: 431 } };
  const now: BenchResults = { ...old, date: '2026-11-26T10:00:00.000Z', p99Ms: undefined, latency: { rate: 35, seconds: 60, p99Ms: 41.5, openLoop: true }, spansDropped: 0 };

  it('takes the measures of the latest run, the open-loop p99 when there is one', () => {
    const { measures } = chartInput([old, now]);
    const byLabel = Object.fromEntries(measures.map((m) => [m.label, m.value]));
    expect(byLabel['p99 latency, open loop at 35/s']).toBe(41.5);
    expect(byLabel['tracing overhead']).toBeCloseTo(38.9);
    expect(byLabel['spans dropped']).toBe(0);
    expect(byLabel['failover p99']).toBe(431);
  });

  it('marks the closed-loop p99 of older runs as measured the older way', () => {
    const p99 = chartInput([old, now]).history.find((s) => s.title.startsWith('p99'))!;
    expect(p99.points).toEqual([
      { date: old.date, value: 93, olderMethod: true },
      { date: now.date, value: 41.5, olderMethod: false },
    ]);
  });

  it('says when the latest run was shortened', () => {
    const settings = { runs: 3, runSeconds: 8, warmUpSeconds: 15, latencySeconds: 60, kills: 50, growthOrders: 200_000 };
    expect(chartInput([{ ...now, settings }]).subtitle).not.toMatch(/SHORTENED/);
    expect(chartInput([{ ...now, settings: { ...settings, latencySeconds: 10 } }]).subtitle).toMatch(/SHORTENED/);
    expect(chartInput([old]).subtitle).not.toMatch(/SHORTENED/);
  });

  it('draws the latest run\'s CPU per checkout by process, when it has one', () => {
    const cpuMsPerCheckout = { traced: { orchestrator: 4, total: 4 }, untraced: { orchestrator: 3.6, total: 3.6 } };
    expect(chartInput([old, { ...now, cpuMsPerCheckout }]).cpu).toEqual(cpuMsPerCheckout);
    expect(chartInput([{ ...old, cpuMsPerCheckout }, now]).cpu).toBeUndefined();
  });

  it('says what an older file did not measure', () => {
    const { measures } = chartInput([old]);
    expect(measures.find((m) => m.label === 'spans dropped')!.value).toBeUndefined();
  });
});
