import { trace } from '@opentelemetry/api';
import { ServerError, Status, type CallContext } from 'nice-grpc';
import { inject, injectable } from 'tsyringe';
import type {
  AckRequest,
  AckResponse,
  DequeueRequest,
  DequeueResponse,
  EnqueueBatchRequest,
  EnqueueBatchResponse,
  EnqueueRequest,
  EnqueueResponse,
  NackRequest,
  NackResponse,
  OrderQueueServiceImplementation,
  QueuedOrder,
  StatsResponse,
} from '../gen/causeway/v1/order_queue';
import { LOGGER, type Logger } from '../platform/logger';
import { contextOf, linkToSpan } from '../platform/telemetry/traceparent';
import { TIME, type TimeSource } from '../platform/time';
import type { Journal } from './journal';
import { priorityOf, StaleTermError, type OrderQueueState } from './queue-state';

/** Injection tokens of the order queue's composition root. */
export const QUEUE_STATE = Symbol('OrderQueueState');
export const JOURNAL = Symbol('Journal');
/** The visibility timeout of a lease when a Dequeue asks for none (ORDER_QUEUE_LEASE_MS). */
export const DEFAULT_LEASE_MS = Symbol('DefaultLeaseMs');

/** One Dequeue leases at most this many orders, whatever `max` asks for. */
export const MAX_LEASES_PER_CALL = 1000;
/** One EnqueueBatch carries at most this many orders. */
export const MAX_ORDERS_PER_BATCH = 1000;
/** Longest a Dequeue long poll may wait. */
export const MAX_WAIT_MS = 5000;

const tracer = trace.getTracer('causeway.order-queue');

// Five digits in a row is more than any mask shows ("**** 1111"): it may be a card number.
const TOO_MANY_DIGITS = /\d{5,}/;

/**
 * The order queue over gRPC. Every change a caller is told about is on disk
 * first: an enqueue, an ack, a new consumer term. Leases live only in memory.
 */
@injectable()
export class OrderQueueService implements OrderQueueServiceImplementation {
  /** Enqueues waiting for their fsync, so a concurrent duplicate waits for the first one. */
  private readonly enqueuing = new Map<string, Promise<void>>();
  /** Highest term journaled or being journaled, and the write that carries it. */
  private journaledTerm: number;
  private termWrite: Promise<void> = Promise.resolve();
  /** Highest term known to be on disk. */
  private durableTerm: number;

  constructor(
    @inject(QUEUE_STATE) private readonly state: OrderQueueState,
    @inject(JOURNAL) private readonly journal: Journal,
    @inject(DEFAULT_LEASE_MS) private readonly defaultLeaseMs: number,
    @inject(TIME) private readonly time: TimeSource,
    @inject(LOGGER) private readonly logger: Logger,
  ) {
    this.journaledTerm = this.durableTerm = state.term;
  }

  async enqueue(request: EnqueueRequest): Promise<EnqueueResponse> {
    const duplicate = await this.enqueueOne(validOrder(request.order));
    return { duplicate, depth: this.state.depth };
  }

  /**
   * The orchestrator's coalesced enqueues. Each order gets its own span in its
   * checkout's trace (its traceparent is the parent), so a checkout's trace shows
   * when its order became durable however it travelled; the orders of one call
   * share one group-committed fsync.
   */
  async enqueueBatch(request: EnqueueBatchRequest): Promise<EnqueueBatchResponse> {
    if (request.orders.length > MAX_ORDERS_PER_BATCH) {
      throw new ServerError(Status.INVALID_ARGUMENT, `at most ${MAX_ORDERS_PER_BATCH} orders per EnqueueBatch, got ${request.orders.length}`);
    }
    const orders = request.orders.map((order) => validOrder(order));
    const batch = linkToSpan(trace.getActiveSpan()?.spanContext(), { 'causeway.link': 'enqueue-batch' });
    const duplicate = await Promise.all(
      orders.map((order) =>
        tracer.startActiveSpan(
          'order durable',
          {
            attributes: { 'order.id': order.orderId, 'queue.batch.size': orders.length },
            links: batch,
          },
          contextOf(order.traceparent),
          async (span) => {
            try {
              const dup = await this.enqueueOne(order);
              span.setAttribute('queue.duplicate', dup);
              return dup;
            } finally {
              span.end();
            }
          },
        ),
      ),
    );
    return { duplicate, depth: this.state.depth };
  }

  /** Journals one order (fsync) and only then lets consumers see it; true if it was already known. */
  private async enqueueOne(order: QueuedOrder): Promise<boolean> {
    const orderId = order.orderId;
    for (let first = this.enqueuing.get(orderId); first; first = this.enqueuing.get(orderId)) {
      await first.catch(() => undefined);
    }
    if (this.state.knows(orderId)) {
      this.logger.debug(`order ${orderId} already queued or acked`, { order_id: orderId });
      return true;
    }
    // Consumers only ever see durable orders: the state learns of it after the fsync.
    const now = this.time.now();
    const stamped: QueuedOrder = { ...order, enqueuedAtMs: now };
    const write = this.journal.append({ op: 'enqueue', order: stamped });
    this.enqueuing.set(orderId, write);
    try {
      await write;
    } finally {
      this.enqueuing.delete(orderId);
    }
    const { depth } = this.state.enqueue(stamped, now);
    this.wakeWaiters();
    this.logger.debug(`order ${orderId} enqueued`, { order_id: orderId, priority: priorityOf(order.shippingMethod), depth });
    return false;
  }

  async dequeue(request: DequeueRequest, context?: CallContext): Promise<DequeueResponse> {
    const { consumerId, term } = request;
    return this.fenced('dequeue', consumerId, term, [], async () => {
      const max = Math.min(request.max || 1, MAX_LEASES_PER_CALL);
      const leaseMs = request.leaseMs || this.defaultLeaseMs;
      const leaseNow = () => {
        const now = this.time.now();
        this.expireLeases(now);
        return this.state.lease(consumerId, term, max, leaseMs, now);
      };
      let leases = leaseNow();
      if (leases.length === 0 && request.waitMs > 0) {
        // Long poll: an idle leader costs one call per wait, not one per poll interval.
        await this.waitForReady(Math.min(request.waitMs, MAX_WAIT_MS), context?.signal);
        leases = leaseNow();
      }
      for (const lease of leases) {
        this.logger.debug(`order ${lease.order!.orderId} leased to ${consumerId}`, {
          order_id: lease.order!.orderId,
          consumer_id: consumerId,
          term,
          delivery: lease.delivery,
          expires_at_ms: lease.expiresAtMs,
        });
      }
      return { leases };
    });
  }

  async ack(request: AckRequest): Promise<AckResponse> {
    const { consumerId, term, orderIds } = request;
    return this.fenced('ack', consumerId, term, orderIds, async () => {
      const acked = this.state.ack(consumerId, term, orderIds);
      // Answered after the fsync, so an acked order never comes back after a crash.
      if (acked.length > 0) await this.journal.append({ op: 'ack', ids: acked });
      for (const orderId of acked) {
        this.logger.debug(`order ${orderId} acked by ${consumerId}`, { order_id: orderId, consumer_id: consumerId, term });
      }
      return { acked: acked.length };
    });
  }

  async nack(request: NackRequest): Promise<NackResponse> {
    const { consumerId, term, orderIds } = request;
    return this.fenced('nack', consumerId, term, orderIds, async () => {
      const released = this.state.nack(consumerId, term, orderIds);
      if (released > 0) this.wakeWaiters();
      this.logger.debug(`${consumerId} released ${released} of ${orderIds.length} leases`, {
        order_ids: orderIds,
        consumer_id: consumerId,
        term,
      });
      return { released };
    });
  }

  async stats(): Promise<StatsResponse> {
    const stats = this.state.stats();
    return {
      depth: stats.depth,
      ready: stats.ready,
      leased: stats.leased,
      highestTerm: stats.highestTerm,
      readyByPriority: { ...stats.readyByPriority },
      enqueuedTotal: stats.enqueuedTotal,
      ackedTotal: stats.ackedTotal,
      redeliveredTotal: stats.redeliveredTotal,
    };
  }

  private waiters = new Set<() => void>();

  /** Resolves when an order may have become ready, after `ms`, or on abort, whichever is first. */
  private waitForReady(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        this.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal?.addEventListener('abort', done);
      this.waiters.add(done);
    });
  }

  private wakeWaiters(): void {
    for (const wake of [...this.waiters]) wake();
  }

  /** Visibility timeouts: run by a timer and before every lease. Returns how many leases ended. */
  expireLeases(now = this.time.now()): number {
    const expired = this.state.expireLeases(now);
    if (expired.length > 0) this.wakeWaiters();
    for (const lease of expired) {
      this.logger.debug(`lease of order ${lease.orderId} by ${lease.consumerId} expired; it will be delivered again`, {
        order_id: lease.orderId,
        consumer_id: lease.consumerId,
        delivery: lease.delivery,
      });
    }
    return expired.length;
  }

  /**
   * Runs a consumer request behind the term fence: a stale term is refused with
   * FAILED_PRECONDITION (also if a newer term arrives while this one waits), and
   * a new term is on disk before the request goes on, so a restart cannot
   * forget it and let a deposed leader back in.
   */
  private async fenced<T>(
    what: string,
    consumerId: string,
    term: number,
    orderIds: string[],
    work: () => Promise<T>,
  ): Promise<T> {
    if (!consumerId) throw new ServerError(Status.INVALID_ARGUMENT, 'consumer_id is required');
    try {
      this.state.observeTerm(term, consumerId);
      if (term > this.journaledTerm) {
        this.journaledTerm = term;
        this.termWrite = this.journal.append({ op: 'term', term }).then(() => {
          this.durableTerm = Math.max(this.durableTerm, term);
          this.logger.info(`consumer term rose to ${term}`, { term, consumer_id: consumerId });
        });
      }
      // Appends complete in order, so the latest term write covers this term too.
      if (term > this.durableTerm) await this.termWrite;
      return await work();
    } catch (err) {
      if (!(err instanceof StaleTermError)) throw err;
      this.logger.warn(`${what} refused: ${err.message}`, {
        consumer_id: consumerId,
        term,
        highest_term: err.highestTerm,
        order_ids: orderIds,
      });
      throw new ServerError(Status.FAILED_PRECONDITION, err.message);
    }
  }
}

/** The order as it will be stored, or INVALID_ARGUMENT. Error messages never echo card data. */
function validOrder(order: QueuedOrder | undefined): QueuedOrder {
  if (!order?.orderId?.trim()) throw new ServerError(Status.INVALID_ARGUMENT, 'order.order_id is required');
  if (TOO_MANY_DIGITS.test(order.maskedCard)) {
    throw new ServerError(
      Status.INVALID_ARGUMENT,
      'order.masked_card must not show more than 4 digits in a row (only a mask like "**** 1111" may be stored)',
    );
  }
  return order;
}
