/**
 * Spans received against spans expected, cheaply: the bench's OTLP receiver shares the two cores with the system
 * it measures, so it does not decode the export requests. A checkout that passes runs the six events A–F, each one
 * span named `event A` … `event F`; the counter finds those names in the raw ExportTraceServiceRequest bytes, as
 * protobuf writes them: Span.name is field 5, length-delimited, so the tag byte 0x2a, the length 7, then the name.
 * No other string field of a trace export has that tag and length in front of these bytes.
 */
export const EVENTS = ['A', 'B', 'C', 'D', 'E', 'F'] as const;
export type EventName = (typeof EVENTS)[number];
export type EventSpanCounts = Record<EventName, number>;

const SPAN_NAME_TAG = (5 << 3) | 2;
const PREFIX = Buffer.concat([Buffer.from([SPAN_NAME_TAG, 'event A'.length]), Buffer.from('event ', 'latin1')]);
const FIRST = 'A'.charCodeAt(0);

export const noEventSpans = (): EventSpanCounts => ({ A: 0, B: 0, C: 0, D: 0, E: 0, F: 0 });

/** Adds the event spans named in one raw export request to `counts`. */
export function countEventSpans(request: Uint8Array, counts: EventSpanCounts): void {
  const bytes = Buffer.from(request.buffer, request.byteOffset, request.byteLength);
  for (let at = bytes.indexOf(PREFIX); at !== -1; at = bytes.indexOf(PREFIX, at + PREFIX.length)) {
    const event = EVENTS[bytes[at + PREFIX.length] - FIRST];
    if (event !== undefined) counts[event]++;
  }
}

/**
 * Spans missing when `checkouts` checkouts passed every event: per event, what arrived short of one span per
 * checkout. Per event rather than in total, so a surplus of one name (a checkout cut off by the end of a run after
 * its first events) cannot hide a loss of another.
 */
export function droppedEventSpans(received: EventSpanCounts, checkouts: number): number {
  return EVENTS.reduce((dropped, event) => dropped + Math.max(0, checkouts - received[event]), 0);
}

/** Counts event spans as export requests arrive; `since` reads what arrived after a mark. */
export class EventSpanCounter {
  private readonly counts = noEventSpans();

  readonly add = (request: Uint8Array): void => countEventSpans(request, this.counts);

  mark(): EventSpanCounts {
    return { ...this.counts };
  }

  since(mark: EventSpanCounts): EventSpanCounts {
    return Object.fromEntries(EVENTS.map((e) => [e, this.counts[e] - mark[e]])) as EventSpanCounts;
  }

  total(): number {
    return EVENTS.reduce((sum, e) => sum + this.counts[e], 0);
  }
}
