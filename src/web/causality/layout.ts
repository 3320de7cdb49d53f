/**
 * Lays out an order's causal diagram, the seed's vector-clock picture drawn from
 * live data: one lane per service, one dot per event in execution order,
 * labelled with its vector clock, and an arrow for every message between
 * services (an event followed by one at another service). Pure: data in,
 * geometry out, so it is unit-tested without a browser.
 */

export interface DiagramEvent {
  event: string;
  service: string;
  vectorClock: Record<string, number>;
  passed: boolean;
}

export interface Lane {
  service: string;
  label: string;
  y: number;
}

export interface Dot {
  event: string;
  service: string;
  x: number;
  y: number;
  /** e.g. "A(1,0,0)" over the lanes' order. */
  label: string;
  failed: boolean;
}

export interface Arrow {
  from: string;
  to: string;
  x1: number;
  y1: number;
  x2: number;
  y2: number;
}

export interface Layout {
  width: number;
  height: number;
  lanes: Lane[];
  dots: Dot[];
  arrows: Arrow[];
}

export const LANES: readonly { service: string; label: string }[] = [
  { service: 'transaction-verification', label: 'Transaction verification' },
  { service: 'fraud-detection', label: 'Fraud detection' },
  { service: 'suggestions', label: 'Suggestions' },
];

export const GEOMETRY = { laneGap: 90, top: 50, left: 205, step: 110, right: 60 };

export function clockLabel(event: DiagramEvent, services: readonly string[] = LANES.map((l) => l.service)): string {
  return `${event.event}(${services.map((s) => event.vectorClock[s] ?? 0).join(',')})`;
}

export function layout(events: readonly DiagramEvent[]): Layout {
  const { laneGap, top, left, step, right } = GEOMETRY;
  const lanes = LANES.map((lane, i) => ({ ...lane, y: top + i * laneGap }));
  const yOf = (service: string) => lanes.find((l) => l.service === service)?.y ?? top;
  const dots = events.map((e, i) => ({
    event: e.event,
    service: e.service,
    x: left + step * (i + 0.5),
    y: yOf(e.service),
    label: clockLabel(e),
    failed: !e.passed,
  }));
  const arrows: Arrow[] = [];
  for (let i = 1; i < dots.length; i++) {
    const [a, b] = [dots[i - 1], dots[i]];
    if (a.service !== b.service) arrows.push({ from: a.event, to: b.event, x1: a.x, y1: a.y, x2: b.x, y2: b.y });
  }
  const width = left + step * Math.max(events.length, 6) + right;
  const height = top + laneGap * (lanes.length - 1) + 50;
  return { width, height, lanes, dots, arrows };
}
