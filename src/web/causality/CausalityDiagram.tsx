import type { CheckoutEvent } from '../api';
import { GEOMETRY, layout } from './layout';

const COLOURS: Record<string, string> = {
  'transaction-verification': '#c0392b',
  'fraud-detection': '#1f2d3d',
  suggestions: '#1e7d3a',
};

/** The seed's vector-clock diagram, drawn from this order's real events and clocks. */
export function CausalityDiagram({ events }: { events: CheckoutEvent[] }) {
  const { width, height, lanes, dots, arrows } = layout(events);
  const summary = dots.map((d) => `${d.label} at ${d.service}${d.failed ? ' (failed)' : ''}`).join(', ');
  return (
    <figure className="diagram">
      <svg
        viewBox={`0 0 ${width} ${height}`}
        role="img"
        aria-label={`Causal order of this order's events: ${summary}`}
        data-testid="causality-diagram"
      >
        <defs>
          {Object.entries(COLOURS).map(([service, colour]) => (
            <marker key={service} id={`arrow-${service}`} viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
              <path d="M 0 0 L 10 5 L 0 10 z" fill={colour} />
            </marker>
          ))}
        </defs>
        {lanes.map((lane) => (
          <g key={lane.service}>
            <text x={10} y={lane.y + 5} className="lane-label" fill={COLOURS[lane.service]}>
              {lane.label}
            </text>
            <line x1={GEOMETRY.left} y1={lane.y} x2={width - 20} y2={lane.y} stroke={COLOURS[lane.service]} strokeWidth={2} markerEnd={`url(#arrow-${lane.service})`} />
          </g>
        ))}
        {arrows.map((a) => {
          const from = dots.find((d) => d.event === a.from)!;
          // Stop short of the target dot so the arrow head stays visible.
          const dx = a.x2 - a.x1;
          const dy = a.y2 - a.y1;
          const len = Math.hypot(dx, dy);
          return (
            <line
              key={`${a.from}-${a.to}`}
              data-testid={`arrow-${a.from}-${a.to}`}
              x1={a.x1}
              y1={a.y1}
              x2={a.x2 - (dx / len) * 10}
              y2={a.y2 - (dy / len) * 10}
              stroke={COLOURS[from.service]}
              strokeWidth={1.8}
              markerEnd={`url(#arrow-${from.service})`}
            />
          );
        })}
        {dots.map((d) => (
          <g key={d.event} data-testid={`event-${d.event}`} data-failed={d.failed}>
            <circle cx={d.x} cy={d.y} r={8} fill={d.failed ? COLOURS[d.service] : '#fff'} stroke={COLOURS[d.service]} strokeWidth={2.5} />
            {d.failed && (
              <text x={d.x} y={d.y + 4} textAnchor="middle" className="fail-mark" fill="#fff">
                ✕
              </text>
            )}
            {/* As in the seed's diagram: labels above the top lane, below the others. */}
            <text x={d.x} y={d.y === lanes[0].y ? d.y - 16 : d.y + 28} textAnchor="middle" className="clock-label" fill={COLOURS[d.service]}>
              {d.label}
            </text>
          </g>
        ))}
      </svg>
      <figcaption>
        Each dot is an event, labelled with the vector clock it produced over (transaction-verification, fraud-detection,
        suggestions); each arrow is a message that carried the clock to the next service.
      </figcaption>
    </figure>
  );
}
