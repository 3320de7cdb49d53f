import { context, ROOT_CONTEXT, SpanStatusCode, trace, type Link, type SpanContext } from '@opentelemetry/api';
import { CLOCK_PROCESSES } from '../checkout/events';
import { clockFromWire } from '../checkout/wire';
import type { ClearOrderOutcome, ClearOrderRequest, ClearOrdersRequest, ClearOrdersResponse, VectorClock as WireClock } from '../gen/causeway/v1/checkout';
import { CallBatcher, type CallBatcherOptions } from '../platform/call-batcher';
import type { Logger } from '../platform/logger';
import type { CheckoutServiceName } from '../platform/config';

/** What the broadcast needs of each checkout service's client. */
export interface OrderClearing {
  clearOrders(request: ClearOrdersRequest): Promise<ClearOrdersResponse>;
}

const tracer = trace.getTracer('causeway.orchestrator');

/** One order's outcome in a batch, and the span of the batch that carried it. */
interface Batched {
  outcome: ClearOrderOutcome;
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
      new CallBatcher(
        (orders: ClearOrderRequest[]) =>
          tracer.startActiveSpan('final clock batch', { attributes: { 'peer.service': name, 'causeway.batch.orders': orders.length } }, ROOT_CONTEXT, async (span) => {
            try {
              const { outcomes } = await services[name].clearOrders({ orders });
              return outcomes.map((outcome) => ({ outcome, batch: span.spanContext() }));
            } catch (err) {
              span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
              throw err;
            } finally {
              span.end();
            }
          }),
        options,
        { callee: name, items: 'final clocks' },
      ),
    ]);
  }

  /**
   * Starts the order's broadcast and returns at once. A service that keeps the order (it is unknown there, or
   * its clock is ahead) or cannot be reached is logged as a warning and marks the span as an error; nothing is
   * thrown, as the checkout was answered already.
   */
  broadcast(orderId: string, finalClock: WireClock): void {
    const parent = context.active();
    const startTime = Date.now();
    const request = { orderId, finalClock };
    const done = Promise.allSettled(this.batchers.map(([, batcher]) => batcher.submit(request)))
      .then((answers) => {
        const kept: string[] = [];
        const links: Link[] = [];
        answers.forEach((answer, i) => {
          const service = this.batchers[i][0];
          if (answer.status === 'fulfilled') links.push({ context: answer.value.batch, attributes: { 'causeway.link': 'batch' } });
          const why = answer.status === 'rejected' ? (answer.reason as Error).message : answer.value.outcome.cleared ? undefined : answer.value.outcome.reason;
          if (why === undefined) return;
          kept.push(service);
          this.logger.warn(`order ${orderId}: ${service} did not clear it: ${why}`, {
            order_id: orderId,
            final_clock: clockFromWire(finalClock).toRecord(CLOCK_PROCESSES),
          });
        });
        // Made once the answers are in, so that it can link to the batches that carried the order.
        const span = tracer.startSpan(
          'final clock broadcast',
          { startTime, links, attributes: { 'order.id': orderId, 'vector_clock.final': clockFromWire(finalClock).format(CLOCK_PROCESSES) } },
          parent,
        );
        if (kept.length > 0) span.setStatus({ code: SpanStatusCode.ERROR, message: `not cleared by ${kept.join(', ')}` });
        span.end();
      })
      .finally(() => this.running.delete(done));
    this.running.add(done);
  }

  /** Resolves once every broadcast already started has finished: main waits for it before closing the clients. */
  async drain(): Promise<void> {
    await Promise.all([...this.running]);
  }
}
