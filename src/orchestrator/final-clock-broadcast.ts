import { context, ROOT_CONTEXT, SpanStatusCode, trace, type Link, type SpanContext } from '@opentelemetry/api';
import { CLOCK_PROCESSES } from '../checkout/events';
import { clockFromWire, clockRecord } from '../checkout/wire';
import { clearRefusalToJSON, type ClearOrderOutcome, type ClearOrderRequest, type ClearOrdersRequest, type ClearOrdersResponse, type VectorClock as WireClock } from '../gen/causeway/v1/checkout';
import { CallBatcher, type CallBatcherOptions } from '../platform/call-batcher';
import type { Logger } from '../platform/logger';
import type { CheckoutServiceName } from '../platform/config';

/** What the broadcast needs of each checkout service's client. */
export interface OrderClearing {
  clearOrders(request: ClearOrdersRequest): Promise<ClearOrdersResponse>;
}

const tracer = trace.getTracer('causeway.orchestrator');

/** One order's outcome in a batch (or why the batch failed), and the span of the batch that carried it. */
interface Batched {
  outcome?: ClearOrderOutcome;
  failure?: string;
  batch: SpanContext;
}

/**
 * The final clock broadcast after each chain: every checkout service forgets the order if its own clock for it
 * happened before (or equals) the final clock. The answer never waits for it, so broadcasts of concurrent
 * checkouts gather for `lingerMs` and travel together, one ClearOrders call per service and batch, where a
 * ClearOrder per order and service used to cost a quarter of a checkout's calls. Each order's trace keeps a
 * `final clock broadcast` span from its broadcast to the last service's answer, linked to the three batches that
 * carried it; each batch is a trace of its own (a `final clock batch` span and its ClearOrders call), as a batch
 * serves many checkouts.
 */
export class FinalClockBroadcast {
  private readonly batchers: [CheckoutServiceName, CallBatcher<ClearOrderRequest, Batched>][];
  private readonly running = new Set<Promise<void>>();

  constructor(
    services: Record<CheckoutServiceName, OrderClearing>,
    private readonly logger: Logger,
    options: CallBatcherOptions,
  ) {
    this.batchers = CLOCK_PROCESSES.map((name) => [
      name,
      new CallBatcher((orders: ClearOrderRequest[]) => this.send(services[name], name, orders), options, { callee: name, items: 'final clocks' }),
    ]);
  }

  /**
   * One batch to one service, a trace of its own. It never rejects: a failed call, or an answer with the wrong
   * number of outcomes, becomes each order's `failure`, beside the batch's span for the orders' links.
   */
  private send(service: OrderClearing, name: CheckoutServiceName, orders: ClearOrderRequest[]): Promise<Batched[]> {
    return tracer.startActiveSpan('final clock batch', { attributes: { 'peer.service': name, 'causeway.batch.orders': orders.length } }, ROOT_CONTEXT, async (span) => {
      const batch = span.spanContext();
      try {
        const { outcomes } = await service.clearOrders({ orders });
        if (outcomes.length !== orders.length) throw new Error(`${name} answered ${outcomes.length} outcomes for ${orders.length} final clocks`);
        return outcomes.map((outcome) => ({ outcome, batch }));
      } catch (err) {
        const failure = (err as Error).message;
        span.setStatus({ code: SpanStatusCode.ERROR, message: failure });
        return orders.map(() => ({ failure, batch }));
      } finally {
        span.end();
      }
    });
  }

  /**
   * Starts the order's broadcast and returns at once. A service that keeps the order (it is unknown there, its
   * clock is ahead, or the clock is not one) or cannot be reached is logged as a warning, with the refusal, and
   * marks the span as an error; nothing is thrown, as the checkout was answered already.
   */
  broadcast(orderId: string, finalClock: WireClock): void {
    const parent = context.active();
    const startTime = Date.now();
    const request = { orderId, finalClock };
    const done = Promise.all(this.batchers.map(([, batcher]) => batcher.submit(request)))
      .then((answers) => {
        const clock = clockFromWire(finalClock);
        const kept: string[] = [];
        const links: Link[] = answers.map(({ batch }) => ({ context: batch, attributes: { 'causeway.link': 'batch' } }));
        answers.forEach(({ outcome, failure }, i) => {
          if (outcome?.cleared) return;
          const service = this.batchers[i][0];
          kept.push(service);
          const refusal = outcome ? clearRefusalToJSON(outcome.refusal) : 'CALL_FAILED';
          this.logger.warn(`order ${orderId}: ${service} did not clear it (${refusal}): ${outcome?.reason ?? failure}`, {
            order_id: orderId,
            final_clock: clockRecord(clock),
            refusal,
          });
        });
        // Made once the answers are in, so that it can link to the batches that carried the order.
        const span = tracer.startSpan(
          'final clock broadcast',
          { startTime, links, attributes: { 'order.id': orderId, 'vector_clock.final': clock.format(CLOCK_PROCESSES) } },
          parent,
        );
        if (kept.length > 0) span.setStatus({ code: SpanStatusCode.ERROR, message: `not cleared by ${kept.join(', ')}` });
        span.end();
      })
      .finally(() => this.running.delete(done));
    this.running.add(done);
  }

  /**
   * Resolves once every broadcast already started has finished: main waits for it before closing the clients.
   * Final clocks still lingering go at once, and from then on none lingers.
   */
  async drain(): Promise<void> {
    for (const [, batcher] of this.batchers) batcher.stopLingering();
    await Promise.all([...this.running]);
  }
}
