import { ROOT_CONTEXT, trace, TraceFlags, type Attributes, type Context, type Link, type SpanContext } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';

/**
 * W3C traceparent strings carried inside messages (a Handoff between events, a
 * queued order), so a span can link to another in a different trace or process.
 */

const w3c = new W3CTraceContextPropagator();

/** `00-<trace id>-<span id>-<flags>` for a span, or '' when tracing is off. */
export function traceparentOf(ctx: SpanContext): string {
  if (!trace.isSpanContextValid(ctx)) return '';
  const flags = (ctx.traceFlags & TraceFlags.SAMPLED).toString(16).padStart(2, '0');
  return `00-${ctx.traceId}-${ctx.spanId}-${flags}`;
}

/** A context whose parent is the span a traceparent names; the root context when it is empty or invalid. */
export function contextOf(traceparent: string): Context {
  if (!traceparent) return ROOT_CONTEXT;
  return w3c.extract(ROOT_CONTEXT, { traceparent }, {
    get: (carrier, key) => carrier[key as 'traceparent'],
    keys: (carrier) => Object.keys(carrier),
  });
}

/** A span link to a span; none when there is no valid span (tracing off). */
export function linkToSpan(spanContext: SpanContext | undefined, attributes: Attributes): Link[] {
  return spanContext && trace.isSpanContextValid(spanContext) ? [{ context: spanContext, attributes }] : [];
}

/** A span link to the span a traceparent names; none when it is empty or invalid. */
export function linkTo(traceparent: string, attributes: Attributes): Link[] {
  return linkToSpan(trace.getSpanContext(contextOf(traceparent)), attributes);
}
