import type { CallContext } from 'nice-grpc';
import { inject, injectable } from 'tsyringe';
import { EventChain } from '../checkout/event-chain';
import type { OrderCache } from '../checkout/order-cache';
import { participantHandlers, withKnownOrder } from '../checkout/participant';
import { checkCardFormat, checkItems, checkUserData } from '../checkout/rules/transaction-verification';
import type { OrderArrivals } from '../checkout/order-arrivals';
import { FRAUD_DETECTION_CLIENT, ORDER_ARRIVALS, ORDER_CACHE } from '../checkout/tokens';
import { clockToWire } from '../checkout/wire';
import type { ChainResult, Handoff, InitOrderRequest, Order } from '../gen/causeway/v1/checkout';
import type { FraudDetectionClient } from '../gen/causeway/v1/fraud_detection';
import type { TransactionVerificationServiceImplementation } from '../gen/causeway/v1/transaction_verification';
import { LOGGER, type Logger } from '../platform/logger';
import { TIME, type TimeSource } from '../platform/time';
import { VectorClock } from '../vector-clock/vector-clock';

/** Events A and B (then D at fraud-detection), and C (then E at fraud-detection). */
@injectable()
export class TransactionVerificationService implements TransactionVerificationServiceImplementation {
  private readonly chain: EventChain<Order>;
  readonly initOrder;
  readonly clearOrder;
  readonly clearOrders;

  constructor(
    @inject(ORDER_CACHE) orders: OrderCache<Order>,
    @inject(ORDER_ARRIVALS) arrivals: OrderArrivals,
    @inject(FRAUD_DETECTION_CLIENT) private readonly fraud: FraudDetectionClient,
    @inject(TIME) private readonly time: TimeSource,
    @inject(LOGGER) logger: Logger,
  ) {
    this.chain = new EventChain(orders, logger);
    ({ initOrder: this.initOrder, clearOrder: this.clearOrder, clearOrders: this.clearOrders } = participantHandlers(orders, arrivals, time, logger));
  }

  startChecks(request: Handoff, context: CallContext): Promise<ChainResult> {
    return withKnownOrder(() =>
      this.chain.run(
        request,
        [
          ['A', (order) => checkItems(order.items)],
          ['B', (order) => checkUserData(order)],
        ],
        (handoff) => this.fraud.checkUser(handoff, { signal: context.signal }),
      ),
    );
  }

  /** InitOrder, then StartChecks from the zero clock: the orchestrator's one call to start an order here. */
  async initAndStartChecks(request: InitOrderRequest, context: CallContext): Promise<ChainResult> {
    await this.initOrder(request);
    const orderId = request.order?.orderId ?? '';
    return this.startChecks({ orderId, clock: clockToWire(VectorClock.zero()), causeTraceparent: '' }, context);
  }

  verifyCard(request: Handoff, context: CallContext): Promise<ChainResult> {
    return withKnownOrder(() =>
      this.chain.run(
        request,
        [['C', (order) => checkCardFormat(order.creditCard, new Date(this.time.now()))]],
        (handoff) => this.fraud.checkCard(handoff, { signal: context.signal }),
      ),
    );
  }
}
