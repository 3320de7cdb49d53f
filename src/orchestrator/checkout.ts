import { SpanStatusCode, trace, type SpanContext } from '@opentelemetry/api';
import { randomUUID } from 'node:crypto';
import { ClientError, Status } from 'nice-grpc';
import { inject, injectable } from 'tsyringe';
import { CLOCK_PROCESSES } from '../checkout/events';
import { FRAUD_DETECTION_CLIENT, SUGGESTIONS_CLIENT, TRANSACTION_VERIFICATION_CLIENT } from '../checkout/tokens';
import type { EnqueueBatcher } from '../order-queue-client/enqueue-batcher';
import { clockRecord, clockFromWire, clockToWire } from '../checkout/wire';
import type { ChainResult, Order } from '../gen/causeway/v1/checkout';
import type { FraudDetectionClient } from '../gen/causeway/v1/fraud_detection';
import type { SuggestionsClient } from '../gen/causeway/v1/suggestions';
import type { TransactionVerificationClient } from '../gen/causeway/v1/transaction_verification';
import { LOGGER, type Logger } from '../platform/logger';
import { traceparentOf } from '../platform/telemetry/traceparent';
import { VectorClock } from '../vector-clock/vector-clock';
import type { CheckoutResult } from './api-types';
import { checkoutStarted } from './checkout-metrics';
import type { CheckoutRequest } from './schema';
import type { PriceList } from './prices';
import type { FinalClockBroadcast } from './final-clock-broadcast';
import { CARD_TOKENIZER, ENQUEUE_BATCHER, FINAL_CLOCK_BROADCAST, PRICE_LIST } from './tokens';

/** What checkout needs of the payment service (PaymentClient). */
export interface CardTokenizer {
  tokenize(cardNumber: string, expirationDate: string): Promise<{ token: string; maskedCard: string }>;
}

export type { CheckoutEvent, CheckoutResult } from './api-types';

/** A downstream service could not be reached in time: the order's outcome is unknown, not rejected. */
export class DependencyError extends Error {
  constructor(
    message: string,
    readonly timedOut: boolean,
  ) {
    super(message);
    this.name = 'DependencyError';
  }
}

/** The request in the services' wire shape, with the course's alternative terms field. */
export function toOrder(orderId: string, request: CheckoutRequest): Order {
  const a = request.billingAddress ?? {};
  return {
    orderId,
    user: { name: request.user.name ?? '', contact: request.user.contact ?? '' },
    creditCard: {
      number: request.creditCard.number ?? '',
      expirationDate: request.creditCard.expirationDate ?? '',
      cvv: request.creditCard.cvv ?? '',
    },
    items: request.items.map((item) => ({ name: item.name ?? '', quantity: item.quantity ?? 0 })),
    billingAddress: { street: a.street ?? '', city: a.city ?? '', state: a.state ?? '', zip: a.zip ?? '', country: a.country ?? '' },
    shippingMethod: request.shippingMethod ?? '',
    termsAccepted: request.termsAndConditionsAccepted ?? request.termsAccepted ?? false,
    giftWrapping: request.giftWrapping ?? false,
  };
}

const NO_CARD = { number: '', expirationDate: '', cvv: '' };

/** Each service gets only what its events need; suggestions never see the card. */
export const projections = {
  'transaction-verification': (order: Order): Order => order,
  'fraud-detection': (order: Order): Order => ({
    ...order,
    creditCard: { ...NO_CARD, number: order.creditCard?.number ?? '' },
    billingAddress: undefined,
  }),
  suggestions: (order: Order): Order => ({
    ...order,
    user: undefined,
    creditCard: undefined,
    billingAddress: undefined,
  }),
};

/** What an approved order pays with: the payment service's token for its card, and what its books cost. */
export interface OrderPayment {
  paymentToken: string;
  amountCents: number;
}

/**
 * What the queue (and from it the executors' replicated log) keeps of an approved order: the card masked to its last
 * four digits and the payment service's token for it, never the card itself.
 */
export function toQueuedOrder(order: Order, traceparent: string, enqueuedAtMs: number, payment: OrderPayment) {
  const digits = order.creditCard?.number.replace(/\D/g, '') ?? '';
  return {
    orderId: order.orderId,
    shippingMethod: order.shippingMethod,
    items: order.items,
    customerName: order.user?.name ?? '',
    maskedCard: digits.length >= 4 ? `**** ${digits.slice(-4)}` : '****',
    traceparent,
    enqueuedAtMs,
    paymentToken: payment.paymentToken,
    amountCents: payment.amountCents,
  };
}

const tracer = trace.getTracer('causeway.orchestrator');

/**
 * Drives one checkout. The orchestrator does not sequence the events: it
 * initialises the three services, transaction-verification with the call that
 * starts the chain, and the services call each other (A→B→D→C→E→F). Meanwhile
 * payment turns the card into a token, so an approved order is enqueued as soon
 * as the chain ends. The answer waits for that enqueue only; the final clock is
 * broadcast beside it (so each service can forget the order) and finishes after
 * the answer.
 */
@injectable()
export class CheckoutFlow {
  constructor(
    @inject(TRANSACTION_VERIFICATION_CLIENT) private readonly verification: TransactionVerificationClient,
    @inject(FRAUD_DETECTION_CLIENT) private readonly fraud: FraudDetectionClient,
    @inject(SUGGESTIONS_CLIENT) private readonly suggestions: SuggestionsClient,
    @inject(ENQUEUE_BATCHER) private readonly queue: EnqueueBatcher,
    @inject(CARD_TOKENIZER) private readonly payment: CardTokenizer,
    @inject(PRICE_LIST) private readonly prices: Pick<PriceList, 'amountCents'>,
    @inject(FINAL_CLOCK_BROADCAST) private readonly finalClock: Pick<FinalClockBroadcast, 'broadcast' | 'drain'>,
    @inject(LOGGER) private readonly logger: Logger,
  ) {}

  checkout(request: CheckoutRequest): Promise<CheckoutResult> {
    const orderId = `ord_${randomUUID()}`;
    const finished = checkoutStarted();
    return tracer.startActiveSpan('checkout', { attributes: { 'order.id': orderId } }, async (span) => {
      try {
        const order = toOrder(orderId, request);
        // The token does not depend on the checks, so it is asked for beside them: one hop less before the answer.
        const payment = this.paymentFor(order);
        const chain = await this.initialiseAndStart(order);
        const result = this.toResult(orderId, chain, span.spanContext().traceId);
        span.setAttribute('order.status', result.status);
        if (result.rejection) span.setAttribute('order.rejection.code', result.rejection.code);
        this.logger.info(`order ${orderId}: ${result.status}${result.rejection ? ` at event ${result.rejection.event} (${result.rejection.code})` : ''}`, {
          order_id: orderId,
          events: result.events.map((e) => `${e.event}${VectorClock.from(e.vectorClock).format(CLOCK_PROCESSES)}`).join(' '),
        });
        // Clearing the order in the three services does not change the answer, so the answer does not wait for it.
        // The last event's clock is the final clock: every event of the order happened before or at it.
        this.finalClock.broadcast(orderId, chain.events.at(-1)?.clock ?? clockToWire(VectorClock.zero()));
        if (result.status === 'Order Approved') {
          const paid = await payment.settled();
          await this.enqueue(order, span.spanContext(), paid);
        }
        finished(result.rejection ? { outcome: 'rejected', failedEvent: result.rejection.event } : { outcome: 'approved' });
        return result;
      } catch (err) {
        finished({ outcome: 'error' });
        span.recordException(err as Error);
        span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
        throw err;
      } finally {
        span.end();
      }
    });
  }

  /**
   * Initialises the three services and starts the chain in one round: transaction-verification caches its part and
   * runs A and B in the same call, while the other two are initialised beside it (an event call that overtakes
   * its service's InitOrder waits for it there). The chain's result, once every service has its part.
   */
  private async initialiseAndStart(order: Order): Promise<ChainResult> {
    const [chain] = await Promise.all([
      this.call('transaction-verification', () => this.verification.initAndStartChecks({ order: projections['transaction-verification'](order) })),
      this.call('fraud-detection', () => this.fraud.initOrder({ order: projections['fraud-detection'](order) })),
      this.call('suggestions', () => this.suggestions.initOrder({ order: projections.suggestions(order) })),
    ]);
    return chain;
  }

  /** Resolves once every final-clock broadcast already started has finished: main waits for it before closing the clients. */
  drain(): Promise<void> {
    return this.finalClock.drain();
  }

  /**
   * Asks payment for the card's token and prices the books, without waiting. The order is only paid for if it is
   * approved: then settled() gives the figures or the dependency's error. A rejected order's token is dropped
   * unread (Tokenize keeps nothing), and its failure, if any, is neither thrown nor logged: the checks have already
   * said why the order is refused.
   */
  private paymentFor(order: Order): { settled(): Promise<{ token: string; amountCents: number }> } {
    const card = order.creditCard ?? NO_CARD;
    const token = this.payment.tokenize(card.number, card.expirationDate);
    const amountCents = this.prices.amountCents(order.items);
    token.catch(() => undefined);
    amountCents.catch(() => undefined);
    return {
      settled: async () => {
        const [{ token: paymentToken }, amount] = await Promise.all([
          this.call('payment', () => token),
          this.call('books-database', () => amountCents),
        ]);
        return { token: paymentToken, amountCents: amount };
      },
    };
  }

  /**
   * Hands an approved order to the queue; the answer waits until it is durable
   * there, so an approval the customer sees is never lost. Under load it shares
   * its call with other checkouts' orders (EnqueueBatcher). A few quick retries
   * ride out a queue restart; enqueue is idempotent by order id.
   *
   * The order carries the card's token (the token seals the masked card and
   * whether it is declined) and the price of its books, never the card.
   */
  private async enqueue(order: Order, spanContext: SpanContext, paid: { token: string; amountCents: number }): Promise<void> {
    const queued = toQueuedOrder(order, traceparentOf(spanContext), Date.now(), { paymentToken: paid.token, amountCents: paid.amountCents });
    for (let attempt = 1; ; attempt++) {
      try {
        await this.queue.enqueue(queued);
        return;
      } catch (err) {
        if (attempt >= 4) return this.call('order-queue', () => Promise.reject(err));
        await new Promise((r) => setTimeout(r, 50 * 2 ** attempt));
      }
    }
  }

  private toResult(orderId: string, chain: ChainResult, traceId: string): CheckoutResult {
    const events = chain.events.map((e) => ({
      event: e.event,
      service: e.service,
      vectorClock: clockRecord(clockFromWire(e.clock)),
      passed: !e.failed,
    }));
    const validTrace = /^[0-9a-f]{32}$/.test(traceId) && !/^0+$/.test(traceId) ? traceId : null;
    if (chain.rejection) {
      return { orderId, status: 'Order Rejected', state: 'rejected', suggestedBooks: [], traceId: validTrace, events, rejection: chain.rejection };
    }
    return { orderId, status: 'Order Approved', state: 'queued', suggestedBooks: chain.suggestedBooks, traceId: validTrace, events };
  }

  /** Maps a failed call to a dependency error that names the service. */
  private async call<T>(service: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof ClientError) {
        const timedOut = err.code === Status.DEADLINE_EXCEEDED;
        this.logger.warn(`call to ${service} failed: ${Status[err.code]}: ${err.details}`);
        throw new DependencyError(`${service} ${timedOut ? 'timed out' : 'is unavailable'} (${Status[err.code]}: ${err.details})`, timedOut);
      }
      throw err;
    }
  }
}
