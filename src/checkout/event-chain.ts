import { metrics, SpanStatusCode, trace, type Span } from '@opentelemetry/api';
import type { ChainResult, EventRecord, Handoff } from '../gen/causeway/v1/checkout';
import type { Logger } from '../platform/logger';
import { linkTo, traceparentOf } from '../platform/telemetry/traceparent';
import { EVENTS, type EventName } from './events';
import type { OrderCache } from './order-cache';
import type { EventOutcome } from './rules/outcome';
import { clockFromWire, clockRecord, clockToWire } from './wire';

/**
 * One event of the chain: its name and what it decides on the cached order:
 * rejected, or passed with a value of type Result (void for a plain check).
 */
export type EventStep<Order, Result = void> = readonly [EventName, (order: Order) => EventOutcome<Result>];

const tracer = trace.getTracer('causeway.checkout');
/** checkout_event_duration_milliseconds_bucket{order_event, outcome}: how long each event's rule takes here. */
const eventDuration = metrics.getMeter('causeway.checkout').createHistogram('checkout.event.duration', {
  unit: 'ms',
  description: 'Time one checkout event takes in its service (merge the clock, tick, decide), by event and outcome',
  advice: { explicitBucketBoundaries: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50] },
});

/**
 * Runs a service's events on one order: each merges the incoming clock, ticks,
 * checks its rule, and is logged and traced as its own span linked to the span of
 * the event it follows. On a failure the chain stops; otherwise `next` continues
 * it with the last event's value (at the next service, or by answering with it),
 * and the events it reports are appended after ours.
 */
export class EventChain<Order> {
  constructor(
    private readonly orders: OrderCache<Order>,
    private readonly logger: Logger,
  ) {}

  async run<Result>(
    handoff: Handoff,
    steps: readonly [...EventStep<Order>[], EventStep<Order, Result>],
    next: (handoff: Handoff, result: Result) => Promise<Partial<ChainResult>>,
  ): Promise<ChainResult> {
    const events: EventRecord[] = [];
    let current = handoff;
    let result: unknown;
    for (const [event, decide] of steps) {
      const step = this.runEvent<unknown>(event, current, decide);
      events.push(step.record);
      if (!step.outcome.ok) {
        const { code, message } = step.outcome;
        return { events, rejection: { event, code, message }, suggestedBooks: [] };
      }
      current = step.handoff;
      result = step.outcome.value;
    }
    // The steps' type makes the last one produce a Result, and every step passed.
    const rest = await next(current, result as Result);
    return {
      events: [...events, ...(rest.events ?? [])],
      rejection: rest.rejection,
      suggestedBooks: rest.suggestedBooks ?? [],
    };
  }

  private runEvent<Result>(event: EventName, handoff: Handoff, decide: (order: Order) => EventOutcome<Result>) {
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
        const start = performance.now();
        let passed = false;
        try {
          const { order, clock } = this.orders.recordEvent(handoff.orderId, clockFromWire(handoff.clock));
          const outcome = decide(order);
          passed = outcome.ok;
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
            outcome,
            handoff: { orderId: handoff.orderId, clock: clockToWire(clock), causeTraceparent: traceparentOf(span.spanContext()) },
          };
        } finally {
          eventDuration.record(performance.now() - start, { 'order.event': event, outcome: passed ? 'passed' : 'failed' });
          span.end();
        }
      },
    );
  }
}
