import { inject, injectable } from 'tsyringe';
import { LOGGER, type Logger } from '../platform/logger';
import { ORDER_STORE, type Execution, type OrderStore, type QueuedCursor } from './order-store';

/** Where these orders were executed, as the cluster knows it; ids it has not executed are absent. */
export type ExecutionLookup = (orderIds: readonly string[]) => Promise<ReadonlyMap<string, Execution>>;

export const EXECUTION_LOOKUP = Symbol('ExecutionLookup');
export const ORDER_RECONCILER_OPTIONS = Symbol('OrderReconcilerOptions');

export interface OrderReconcilerOptions {
  /** Pause between passes (a pass that finds nothing queued asks the cluster nothing). */
  intervalMs: number;
  /** Order ids per lookup, i.e. per Executions request. */
  batch: number;
  /** Lookups per pass at most; a longer backlog is continued by the next pass, where this one stopped. */
  batchesPerPass: number;
}

/**
 * Moves queued orders to `executed` in the order store without waiting for
 * anyone to GET them: every pass pages through the queued orders, oldest first,
 * asks the cluster where each batch was executed, and records what it learns.
 * The cursor carries over between passes, so orders the cluster has not run
 * yet (a long queue, an election) do not keep newer ones from being looked at.
 */
@injectable()
export class OrderReconciler {
  private cursor: QueuedCursor | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running = false;

  constructor(
    @inject(ORDER_STORE) private readonly store: OrderStore,
    @inject(EXECUTION_LOOKUP) private readonly lookup: ExecutionLookup,
    @inject(LOGGER) private readonly logger: Logger,
    @inject(ORDER_RECONCILER_OPTIONS) private readonly options: OrderReconcilerOptions,
  ) {}

  /** One pass; returns how many orders it marked executed. A failed lookup ends the pass (the next retries). */
  async reconcile(): Promise<number> {
    let marked = 0;
    for (let b = 0; b < this.options.batchesPerPass; b++) {
      const page = this.store.queued(this.options.batch, this.cursor);
      if (page.length === 0) {
        // Past the newest queued order: start again from the oldest next time.
        this.cursor = undefined;
        break;
      }
      let executions: ReadonlyMap<string, Execution>;
      try {
        executions = await this.lookup(page.map((o) => o.orderId));
      } catch (err) {
        this.logger.warn(`could not ask the cluster about ${page.length} queued orders: ${(err as Error).message}`);
        break;
      }
      marked += await this.store.markExecuted(executions);
      this.cursor = page.length < this.options.batch ? undefined : page.at(-1);
      if (!this.cursor) break;
    }
    if (marked > 0) this.logger.debug(`recorded ${marked} orders as executed`, { orders: marked });
    return marked;
  }

  /** Runs a pass every intervalMs (never two at once) until stop(). */
  start(): void {
    if (this.running) return;
    this.running = true;
    const next = () => {
      this.timer = setTimeout(() => {
        void this.reconcile()
          .catch((err: Error) => this.logger.warn(`order reconciliation failed: ${err.message}`))
          .finally(() => this.running && next());
      }, this.options.intervalMs);
    };
    next();
  }

  stop(): void {
    this.running = false;
    clearTimeout(this.timer);
  }
}
