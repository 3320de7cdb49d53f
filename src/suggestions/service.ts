import { inject, injectable } from 'tsyringe';
import { EventChain } from '../checkout/event-chain';
import type { OrderCache } from '../checkout/order-cache';
import { participantHandlers, withKnownOrder } from '../checkout/participant';
import { passWith } from '../checkout/rules/outcome';
import type { OrderArrivals } from '../checkout/order-arrivals';
import { ORDER_ARRIVALS, ORDER_CACHE } from '../checkout/tokens';
import type { Book, ChainResult, Handoff, Order } from '../gen/causeway/v1/checkout';
import type { SuggestionsServiceImplementation } from '../gen/causeway/v1/suggestions';
import { LOGGER, type Logger } from '../platform/logger';
import { TIME, type TimeSource } from '../platform/time';
import { Recommender } from './recommender';

/** Injection token: how many books event F suggests (SUGGESTIONS_COUNT). */
export const SUGGESTION_COUNT = Symbol('SuggestionCount');

/** Event F, the end of the chain: the suggested books travel back to the orchestrator. */
@injectable()
export class SuggestionsService implements SuggestionsServiceImplementation {
  private readonly chain: EventChain<Order>;
  readonly initOrder;
  readonly clearOrder;
  readonly clearOrders;

  constructor(
    @inject(ORDER_CACHE) orders: OrderCache<Order>,
    @inject(ORDER_ARRIVALS) private readonly arrivals: OrderArrivals,
    @inject(Recommender) private readonly recommender: Recommender,
    @inject(SUGGESTION_COUNT) private readonly suggestionCount: number,
    @inject(TIME) time: TimeSource,
    @inject(LOGGER) logger: Logger,
  ) {
    this.chain = new EventChain(orders, logger);
    ({ initOrder: this.initOrder, clearOrder: this.clearOrder, clearOrders: this.clearOrders } = participantHandlers(orders, arrivals, time, logger));
  }

  /** The only event here: its call may overtake this service's InitOrder (order-arrivals.ts), so it waits for it. */
  suggest(request: Handoff): Promise<ChainResult> {
    return withKnownOrder(async () => {
      await this.arrivals.whenKnown(request.orderId);
      return this.chain.run(request, [['F', (order) => passWith(this.suggestFor(order))]], async (_handoff, suggestedBooks) => ({
        suggestedBooks,
      }));
    });
  }

  private suggestFor(order: Order): Book[] {
    return this.recommender
      .suggest(
        order.items.map((item) => item.name),
        this.suggestionCount,
      )
      .map(({ bookId, title, author }) => ({ bookId, title, author }));
  }
}
