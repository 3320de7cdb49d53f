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
      if (outcome.refusal === ClearRefusal.CLEAR_REFUSAL_UNKNOWN_ORDER) throw new ServerError(Status.NOT_FOUND, outcome.reason);
      if (!outcome.cleared) throw new ServerError(Status.FAILED_PRECONDITION, outcome.reason);
      return { cleared: true, localClock: outcome.localClock };
    },

    /** Many orders' final clocks at once: each is cleared or refused on its own, as ClearOrder would. */
    async clearOrders(request: ClearOrdersRequest): Promise<ClearOrdersResponse> {
      return { outcomes: request.orders.map(clear) };
    },
  };

  return handlers;

  function clear(request: ClearOrderRequest): ClearOrderOutcome {
    const finalClock = clockFromWire(request.finalClock);
    let outcome;
    try {
      outcome = orders.clear(request.orderId, finalClock);
    } catch (err) {
      if (err instanceof UnknownOrderError) return { cleared: false, localClock: undefined, refusal: ClearRefusal.CLEAR_REFUSAL_UNKNOWN_ORDER, reason: err.message };
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
