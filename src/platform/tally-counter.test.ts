import { AggregationTemporality, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader, type MetricReader } from '@opentelemetry/sdk-metrics';
import { TallyCounter } from './tally-counter';

/** Collects once and returns each point of the named metric as [attributes, value]. */
async function points(reader: MetricReader, name: string): Promise<[Record<string, unknown>, number][]> {
  const { resourceMetrics } = await reader.collect();
  const metric = resourceMetrics.scopeMetrics.flatMap((s) => s.metrics).find((m) => m.descriptor.name === name);
  if (!metric) throw new Error(`${name} was not collected`);
  return metric.dataPoints.map((p) => [p.attributes, p.value as number]);
}

function setUp() {
  const reader = new PeriodicExportingMetricReader({ exporter: new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE), exportIntervalMillis: 3_600_000 });
  const provider = new MeterProvider({ readers: [reader] });
  return { reader, provider, meter: provider.getMeter('test') };
}

describe('TallyCounter', () => {
  it('exports a cumulative, monotonic sum per attribute set, as a Counter would', async () => {
    const { reader, provider, meter } = setUp();
    const decisions = new TallyCounter(meter, 'executor.commit.decisions', { unit: '{transaction}', description: 'decisions' });
    decisions.add('commit|', () => ({ executor: 'e1', decision: 'commit' }));
    decisions.add('commit|', () => ({ executor: 'e1', decision: 'commit' }));
    decisions.add('abort|OUT_OF_STOCK', () => ({ executor: 'e1', decision: 'abort', 'abort.reason': 'OUT_OF_STOCK' }));

    const { resourceMetrics } = await reader.collect();
    const metric = resourceMetrics.scopeMetrics[0].metrics[0];
    expect(metric.descriptor).toMatchObject({ name: 'executor.commit.decisions', unit: '{transaction}', description: 'decisions' });
    expect(metric).toMatchObject({ isMonotonic: true, aggregationTemporality: AggregationTemporality.CUMULATIVE });
    expect(await points(reader, 'executor.commit.decisions')).toEqual([
      [{ executor: 'e1', decision: 'commit' }, 2],
      [{ executor: 'e1', decision: 'abort', 'abort.reason': 'OUT_OF_STOCK' }, 1],
    ]);

    decisions.add('commit|', () => ({ executor: 'e1', decision: 'commit' }), 3);
    expect(await points(reader, 'executor.commit.decisions')).toContainEqual([{ executor: 'e1', decision: 'commit' }, 5]);
    await provider.shutdown();
  });

  it('builds the attributes once per key, and shows a series added with 0 before its first event', async () => {
    const { reader, provider, meter } = setUp();
    const writes = new TallyCounter(meter, 'books_database.writes', { unit: '{write}' });
    let built = 0;
    const attributes = () => {
      built++;
      return { replica: 'books-1', kind: 'decrement', outcome: 'OK' };
    };
    writes.add('decrement|OK', attributes, 0);
    expect(await points(reader, 'books_database.writes')).toEqual([[{ replica: 'books-1', kind: 'decrement', outcome: 'OK' }, 0]]);
    for (let i = 0; i < 1000; i++) writes.add('decrement|OK', attributes);
    expect(await points(reader, 'books_database.writes')).toEqual([[{ replica: 'books-1', kind: 'decrement', outcome: 'OK' }, 1000]]);
    expect(built).toBe(1);
    await provider.shutdown();
  });

  it('refuses to go down, loudly', () => {
    const { meter } = setUp();
    const counter = new TallyCounter(meter, 'orders.executed', {});
    expect(() => counter.add('x', () => ({}), -1)).toThrow('a counter only goes up: add(-1) for x');
    expect(() => counter.add('x', () => ({}), NaN)).toThrow('a counter only goes up');
  });
});
