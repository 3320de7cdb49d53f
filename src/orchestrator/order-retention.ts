import { setImmediate as nextTurn } from 'node:timers/promises';
import { inject, injectable } from 'tsyringe';
import { LOGGER, type Logger } from '../platform/logger';
import { ORDER_STORE, type OrderStore } from './order-store';

export const ORDER_RETENTION_OPTIONS = Symbol('OrderRetentionOptions');

export interface OrderRetentionOptions {
  /** Pause between sweeps (the first runs at start). */
  intervalMs: number;
  /** Orders deleted per transaction; the event loop gets a turn between chunks, so checkouts are not held up. */
  chunk: number;
}

/** Deletes orders older than the store's retention: at start, then periodically. */
@injectable()
export class OrderRetention {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    @inject(ORDER_STORE) private readonly store: OrderStore,
    @inject(LOGGER) private readonly logger: Logger,
    @inject(ORDER_RETENTION_OPTIONS) private readonly options: OrderRetentionOptions,
  ) {}

  /** Deletes every expired order, a chunk at a time; returns how many. */
  async sweep(): Promise<number> {
    let deleted = 0;
    for (;;) {
      const n = await this.store.sweep(this.options.chunk);
      deleted += n;
      if (n < this.options.chunk) break;
      await nextTurn();
    }
    if (deleted > 0) this.logger.info(`deleted ${deleted} orders past their retention`, { orders: deleted });
    return deleted;
  }

  start(): void {
    const run = () =>
      void this.sweep().catch((err: Error) => this.logger.warn(`order retention sweep failed: ${err.message}`));
    run();
    this.timer = setInterval(run, this.options.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
