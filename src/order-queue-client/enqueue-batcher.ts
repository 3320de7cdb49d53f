import { context, ROOT_CONTEXT } from '@opentelemetry/api';
import type { OrderQueueClient, QueuedOrder } from '../gen/causeway/v1/order_queue';
import { CallBatcher, type CallBatcherOptions } from '../platform/call-batcher';

export type EnqueueBatcherOptions = CallBatcherOptions;

/**
 * Coalesces the enqueues of concurrent checkouts into EnqueueBatch calls (see CallBatcher). Each caller's
 * promise settles with its own order's outcome, after the queue has it on disk; a failed call fails every order
 * it carried (enqueue is idempotent by order id, so callers may simply retry).
 */
export class EnqueueBatcher {
  private readonly batcher: CallBatcher<QueuedOrder, boolean>;

  constructor(send: (orders: QueuedOrder[]) => Promise<boolean[]>, options: EnqueueBatcherOptions) {
    this.batcher = new CallBatcher(send, options, { callee: 'the queue', items: 'orders' });
  }

  /** A batcher over a queue client. Batches are their own traces: each order's span in the queue links back. */
  static over(queue: OrderQueueClient, options: EnqueueBatcherOptions): EnqueueBatcher {
    return new EnqueueBatcher(
      (orders) => context.with(ROOT_CONTEXT, async () => (await queue.enqueueBatch({ orders })).duplicate),
      options,
    );
  }

  /** Resolves once the order is durable in the queue: true if the queue already had it. */
  enqueue(order: QueuedOrder): Promise<boolean> {
    return this.batcher.submit(order);
  }
}
