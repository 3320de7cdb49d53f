import { SpanStatusCode, trace, type Span } from '@opentelemetry/api';
import type { ChainResult, EventRecord, Handoff } from '../gen/causeway/v1/checkout';
import type { Logger } from '../platform/logger';
import { linkTo, traceparentOf } from '../platform/telemetry/traceparent';
import { EVENTS, type EventName, type RuleOutcome } from './events';
import type { OrderCache } from './order-cache';
import { clockFromWire, clockRecord, clockToWire } from './wire';

/** One event of the chain: its name and the rule it checks on the cached order. */
export type EventStep<Order> = readonly [EventName, (order: Order) => RuleOutcome];

const tracer = trace.getTracer('causeway.checkout');

/**
 * Runs a service's events on one order: each merges the incoming clock, ticks,
 * checks its rule, and is logged and traced as its own span linked to the span of
 * the event it follows. On a failure the chain stops; otherwise `next` continues
 * it at the next service, and its events are appended after ours.
 */
export class EventChain<Order> {
  constructor(
    private readonly orders: OrderCache<Order>,
    private readonly logger: Logger,
  ) {}

  async run(
    handoff: Handoff,
    steps: readonly EventStep<Order>[],
    next: (handoff: Handoff) => Promise<Partial<ChainResult>>,
  ): Promise<ChainResult> {
    const events: EventRecord[] = [];
    let current = handoff;
    for (const [event, rule] of steps) {
      const { record, rejection, handoff: following } = this.runEvent(event, current, rule);
      events.push(record);
      if (rejection) return { events, rejection, suggestedBooks: [] };
      current = following;
    }
    const rest = await next(current);
    return {
      events: [...events, ...(rest.events ?? [])],
      rejection: rest.rejection,
      suggestedBooks: rest.suggestedBooks ?? [],
    };
  }

  private runEvent(event: EventName, handoff: Handoff, rule: (order: Order) => RuleOutcome) {
    const { service, title } = EVENTS[event];
    if (service !== this.orders.process) throw new Error(`event ${event} belongs to ${service}, not ${this.orders.process}`);
    return tracer.startActiveSpan(
      `event ${event}`,
      {
        // The span that caused this event, from the traceparent the previous event sent.
        links: linkTo(handoff.causeTraceparent, { 'causeway.link': 'happened-before' }),
        attributes: { 'order.id': handoff.orderId, 'order.event': event, 'order.event.title': title },
      },
      (span: Span) => {
        try {
          const { order, clock } = this.orders.recordEvent(handoff.orderId, clockFromWire(handoff.clock));
          const outcome = rule(order);
          const vectorClock = clockRecord(clock);
          span.setAttribute('vector_clock', JSON.stringify(vectorClock));
          for (const [process, counter] of Object.entries(vectorClock)) span.setAttribute(`vector_clock.${process}`, counter);
          span.setAttribute('order.event.outcome', outcome.ok ? 'passed' : 'failed');
          const meta = { order_id: handoff.orderId, event, vector_clock: vectorClock };
          if (outcome.ok) {
            this.logger.info(`event ${event} passed: ${title}`, meta);
          } else {
            span.setAttribute('order.rejection.code', outcome.code);
            span.setStatus({ code: SpanStatusCode.ERROR, message: outcome.code });
            this.logger.info(`event ${event} failed: ${outcome.code}: ${outcome.message}`, meta);
          }
          const record: EventRecord = { event, service, clock: clockToWire(clock), failed: !outcome.ok };
          return {
            record,
            rejection: outcome.ok ? undefined : { event, code: outcome.code, message: outcome.message },
            handoff: { orderId: handoff.orderId, clock: clockToWire(clock), causeTraceparent: traceparentOf(span.spanContext()) },
          };
        } finally {
          span.end();
        }
      },
    );
  }
}
