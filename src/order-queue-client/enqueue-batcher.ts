import { context, ROOT_CONTEXT } from '@opentelemetry/api';
import type { OrderQueueClient, QueuedOrder } from '../gen/causeway/v1/order_queue';

export interface EnqueueBatcherOptions {
  /** Most orders in one call. */
  maxBatch: number;
  /** Most calls in flight at once; orders arriving meanwhile wait for the next call. */
  maxInFlight: number;
}

interface Waiting {
  order: QueuedOrder;
  resolve: (duplicate: boolean) => void;
  reject: (err: unknown) => void;
}

/**
 * Coalesces the enqueues of concurrent checkouts into EnqueueBatch calls, the way
 * a group commit coalesces fsyncs: orders that arrive in the same event-loop
 * turn, or while `maxInFlight` calls are out, travel together. An idle system
 * sends each order at once, alone; a busy one sends one call per batch instead
 * of one per order. Each caller's promise settles with its own order's outcome,
 * after the queue has it on disk; a failed call fails every order it carried
 * (enqueue is idempotent by order id, so callers may simply retry).
 */
export class EnqueueBatcher {
  private waiting: Waiting[] = [];
  private inFlight = 0;
  private scheduled = false;

  constructor(
    private readonly send: (orders: QueuedOrder[]) => Promise<boolean[]>,
    private readonly options: EnqueueBatcherOptions,
  ) {}

  /** A batcher over a queue client. Batches are their own traces: each order's span in the queue links back. */
  static over(queue: OrderQueueClient, options: EnqueueBatcherOptions): EnqueueBatcher {
    return new EnqueueBatcher(
      (orders) => context.with(ROOT_CONTEXT, async () => (await queue.enqueueBatch({ orders })).duplicate),
      options,
    );
  }

  /** Resolves once the order is durable in the queue: true if the queue already had it. */
  enqueue(order: QueuedOrder): Promise<boolean> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ order, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight >= this.options.maxInFlight || this.waiting.length === 0) return;
    this.scheduled = true;
    // Let every checkout that finishes in this turn join the batch.
    setImmediate(() => {
      this.scheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    while (this.inFlight < this.options.maxInFlight && this.waiting.length > 0) {
      const batch = this.waiting.splice(0, this.options.maxBatch);
      this.inFlight++;
      this.send(batch.map((w) => w.order))
        .then(
          (duplicate) => {
            if (duplicate.length !== batch.length) {
              const err = new Error(`the queue answered ${duplicate.length} outcomes for ${batch.length} orders`);
              return batch.forEach((w) => w.reject(err));
            }
            batch.forEach((w, i) => w.resolve(duplicate[i]));
          },
          (err: unknown) => batch.forEach((w) => w.reject(err)),
        )
        .finally(() => {
          this.inFlight--;
          this.schedule();
        });
    }
  }
}
