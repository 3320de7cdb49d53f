import type { CallContext } from 'nice-grpc';
import { inject, injectable } from 'tsyringe';
import { EventChain } from '../checkout/event-chain';
import type { OrderCache } from '../checkout/order-cache';
import { participantHandlers, withKnownOrder } from '../checkout/participant';
import type { OrderArrivals } from '../checkout/order-arrivals';
import { ORDER_ARRIVALS, ORDER_CACHE, SUGGESTIONS_CLIENT, TRANSACTION_VERIFICATION_CLIENT } from '../checkout/tokens';
import type { ChainResult, Handoff, Order } from '../gen/causeway/v1/checkout';
import type { FraudDetectionServiceImplementation } from '../gen/causeway/v1/fraud_detection';
import type { SuggestionsClient } from '../gen/causeway/v1/suggestions';
import type { TransactionVerificationClient } from '../gen/causeway/v1/transaction_verification';
import { LOGGER, type Logger } from '../platform/logger';
import { TIME, type TimeSource } from '../platform/time';
import { FraudRules } from './rules';

/** Event D (then C at transaction-verification) and event E (then F at suggestions). */
@injectable()
export class FraudDetectionService implements FraudDetectionServiceImplementation {
  private readonly chain: EventChain<Order>;
  readonly initOrder;
  readonly clearOrder;
  readonly clearOrders;

  constructor(
    @inject(ORDER_CACHE) orders: OrderCache<Order>,
    @inject(ORDER_ARRIVALS) private readonly arrivals: OrderArrivals,
    @inject(FraudRules) private readonly rules: FraudRules,
    @inject(TRANSACTION_VERIFICATION_CLIENT) private readonly verification: TransactionVerificationClient,
    @inject(SUGGESTIONS_CLIENT) private readonly suggestions: SuggestionsClient,
    @inject(TIME) private readonly time: TimeSource,
    @inject(LOGGER) logger: Logger,
  ) {
    this.chain = new EventChain(orders, logger);
    ({ initOrder: this.initOrder, clearOrder: this.clearOrder, clearOrders: this.clearOrders } = participantHandlers(orders, arrivals, time, logger));
  }

  /** The first event here: its call may overtake this service's InitOrder (order-arrivals.ts), so it waits for it. */
  checkUser(request: Handoff, context: CallContext): Promise<ChainResult> {
    return withKnownOrder(async () => {
      await this.arrivals.whenKnown(request.orderId);
      return this.chain.run(request, [['D', (order) => this.rules.checkUser(order, this.time.now())]], (handoff) =>
        this.verification.verifyCard(handoff, { signal: context.signal }),
      );
    });
  }

  checkCard(request: Handoff, context: CallContext): Promise<ChainResult> {
    return withKnownOrder(() =>
      this.chain.run(request, [['E', (order) => this.rules.checkCard(order, this.time.now())]], (handoff) =>
        this.suggestions.suggest(handoff, { signal: context.signal }),
      ),
    );
  }
}
