import { ExportTraceServiceRequest } from '../../gen/opentelemetry/proto/collector/trace/v1/trace_service';
import { countEventSpans, droppedEventSpans, EventSpanCounter, noEventSpans } from './span-count';

/** An export request as an SDK would send it, encoded with the generated OTLP types. */
function exportOf(names: string[], attributeValue = 'event A'): Uint8Array {
  const span = (name: string, i: number) => ({
    traceId: Buffer.alloc(16, i + 1),
    spanId: Buffer.alloc(8, i + 1),
    name,
    kind: 1,
    // Strings elsewhere in a span that read like an event span's name must not be counted as one.
    attributes: [{ key: 'event A', value: { value: { $case: 'stringValue' as const, value: attributeValue } } }],
    events: [{ name: 'event B', attributes: [] }],
    status: { message: 'event C', code: 0 },
  });
  const request = ExportTraceServiceRequest.fromPartial({
    resourceSpans: [{ resource: { attributes: [{ key: 'service.name', value: { value: { $case: 'stringValue', value: 'event D' } } }] }, scopeSpans: [{ spans: names.map(span) }] }],
  });
  return ExportTraceServiceRequest.encode(request).finish();
}

describe('counting event spans in raw OTLP bytes', () => {
  it('counts each of the six event names by the span name field alone', () => {
    const counts = noEventSpans();
    countEventSpans(exportOf(['event A', 'event B', 'event B', 'event F', 'POST /checkout', 'event G', 'event AB']), counts);
    expect(counts).toEqual({ A: 1, B: 2, C: 0, D: 0, E: 0, F: 1 });
  });

  it('reads a request that is a view into a larger buffer', () => {
    const bytes = exportOf(['event E']);
    const padded = new Uint8Array(bytes.length + 20);
    padded.set(bytes, 10);
    const counts = noEventSpans();
    countEventSpans(padded.subarray(10, 10 + bytes.length), counts);
    expect(counts.E).toBe(1);
  });

  it('counts what arrived after a mark', () => {
    const counter = new EventSpanCounter();
    counter.add(exportOf(['event A', 'event B']));
    const mark = counter.mark();
    counter.add(exportOf(['event A', 'event C']));
    expect(counter.since(mark)).toEqual({ A: 1, B: 0, C: 1, D: 0, E: 0, F: 0 });
    expect(counter.total()).toBe(4);
  });

  it('finds spans dropped per event, so a surplus of one name does not hide a loss of another', () => {
    expect(droppedEventSpans({ A: 10, B: 10, C: 10, D: 10, E: 10, F: 10 }, 10)).toBe(0);
    expect(droppedEventSpans({ A: 12, B: 12, C: 11, D: 10, E: 10, F: 10 }, 10)).toBe(0);
    expect(droppedEventSpans({ A: 14, B: 10, C: 10, D: 7, E: 10, F: 9 }, 10)).toBe(4);
  });
});
