import type { CallContext } from 'nice-grpc';
import { inject, injectable } from 'tsyringe';
import { EventChain } from '../checkout/event-chain';
import type { OrderCache } from '../checkout/order-cache';
import { participantHandlers, withKnownOrder } from '../checkout/participant';
import { checkCardFormat, checkItems, checkUserData } from '../checkout/rules/transaction-verification';
import { FRAUD_DETECTION_CLIENT, ORDER_CACHE } from '../checkout/tokens';
import type { ChainResult, Handoff, Order } from '../gen/causeway/v1/checkout';
import type { FraudDetectionClient } from '../gen/causeway/v1/fraud_detection';
import type { TransactionVerificationServiceImplementation } from '../gen/causeway/v1/transaction_verification';
import { LOGGER, type Logger } from '../platform/logger';
import { TIME, type TimeSource } from '../platform/time';

/** Events A and B (then D at fraud-detection), and C (then E at fraud-detection). */
@injectable()
export class TransactionVerificationService implements TransactionVerificationServiceImplementation {
  private readonly chain: EventChain<Order>;
  readonly initOrder;
  readonly clearOrder;

  constructor(
    @inject(ORDER_CACHE) orders: OrderCache<Order>,
    @inject(FRAUD_DETECTION_CLIENT) private readonly fraud: FraudDetectionClient,
    @inject(TIME) private readonly time: TimeSource,
    @inject(LOGGER) logger: Logger,
  ) {
    this.chain = new EventChain(orders, logger);
    ({ initOrder: this.initOrder, clearOrder: this.clearOrder } = participantHandlers(orders, time, logger));
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
