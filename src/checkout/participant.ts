import { ServerError, Status } from 'nice-grpc';
import {
  ClearRefusal,
  type ClearOrderOutcome,
  type ClearOrderRequest,
  type ClearOrderResponse,
  type ClearOrdersRequest,
  type ClearOrdersResponse,
  type InitOrderRequest,
  type InitOrderResponse,
  type Order,
} from '../gen/causeway/v1/checkout';
import type { Logger } from '../platform/logger';
import type { TimeSource } from '../platform/time';
import type { OrderArrivals } from './order-arrivals';
import { DuplicateOrderError, OrderCache, UnknownOrderError } from './order-cache';
import { clockFromWire, clockRecord, clockToWire } from './wire';

/** The status ClearOrder answers for each refusal (ClearOrders answers the refusal itself, order by order). */
const REFUSAL_STATUS: Partial<Record<ClearRefusal, Status>> = {
  [ClearRefusal.CLEAR_REFUSAL_UNKNOWN_ORDER]: Status.NOT_FOUND,
  [ClearRefusal.CLEAR_REFUSAL_CLOCK_AHEAD]: Status.FAILED_PRECONDITION,
  [ClearRefusal.CLEAR_REFUSAL_INVALID_CLOCK]: Status.INVALID_ARGUMENT,
};

/**
 * The InitOrder and ClearOrder handlers every checkout service shares: cache the
 * order with a zero clock (and wake the calls waiting for it); forget it on the
 * final broadcast if local ≤ final.
 */
export function participantHandlers(orders: OrderCache<Order>, arrivals: OrderArrivals, time: TimeSource, logger: Logger) {
  const handlers = {
    async initOrder(request: InitOrderRequest): Promise<InitOrderResponse> {
      const order = request.order;
      if (!order?.orderId) throw new ServerError(Status.INVALID_ARGUMENT, 'order.orderId is required');
      try {
        const clock = orders.init(order.orderId, order, time.now());
        arrivals.arrived(order.orderId);
        return { clock: clockToWire(clock) };
      } catch (err) {
        if (err instanceof DuplicateOrderError) throw new ServerError(Status.ALREADY_EXISTS, err.message);
        throw err;
      }
    },

    async clearOrder(request: ClearOrderRequest): Promise<ClearOrderResponse> {
      const outcome = clear(request);
      if (outcome.cleared) return { cleared: true, localClock: outcome.localClock };
      throw new ServerError(REFUSAL_STATUS[outcome.refusal] ?? Status.FAILED_PRECONDITION, outcome.reason);
    },

    /** Many orders' final clocks at once: each is cleared or refused on its own, as ClearOrder would. */
    async clearOrders(request: ClearOrdersRequest): Promise<ClearOrdersResponse> {
      return { outcomes: request.orders.map(clear) };
    },
  };

  return handlers;

  /** One order's final clock: cleared, or refused with the reason ClearOrder would answer. Never throws for one bad order. */
  function clear(request: ClearOrderRequest): ClearOrderOutcome {
    let finalClock;
    let outcome;
    try {
      finalClock = clockFromWire(request.finalClock);
      outcome = orders.clear(request.orderId, finalClock);
    } catch (err) {
      if (err instanceof UnknownOrderError) return { cleared: false, localClock: undefined, refusal: ClearRefusal.CLEAR_REFUSAL_UNKNOWN_ORDER, reason: err.message };
      if (err instanceof ServerError && err.code === Status.INVALID_ARGUMENT) {
        return { cleared: false, localClock: undefined, refusal: ClearRefusal.CLEAR_REFUSAL_INVALID_CLOCK, reason: `order ${request.orderId}: ${err.details}` };
      }
      throw err;
    }
    if (!outcome.cleared) {
      logger.warn(`order ${request.orderId} not cleared: ${outcome.reason}`, {
        order_id: request.orderId,
        vector_clock: clockRecord(outcome.localClock),
        final_clock: clockRecord(finalClock),
      });
      return {
        cleared: false,
        localClock: clockToWire(outcome.localClock),
        refusal: ClearRefusal.CLEAR_REFUSAL_CLOCK_AHEAD,
        reason:
          `order ${request.orderId}: ${outcome.reason} ` +
          `(local ${JSON.stringify(clockRecord(outcome.localClock))}, final ${JSON.stringify(clockRecord(finalClock))})`,
      };
    }
    logger.debug(`order ${request.orderId} cleared`, { order_id: request.orderId });
    return { cleared: true, localClock: clockToWire(outcome.localClock), refusal: ClearRefusal.CLEAR_REFUSAL_UNSPECIFIED, reason: '' };
  }
}

/** Maps an unknown order inside an event handler to NOT_FOUND. */
export async function withKnownOrder<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof UnknownOrderError) throw new ServerError(Status.NOT_FOUND, err.message);
    throw err;
  }
}
