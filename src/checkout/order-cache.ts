import { VectorClock } from '../vector-clock/vector-clock';

/**
 * One service's cache of in-flight orders and their vector clocks. Pure: time
 * comes in as an argument, nothing here does I/O.
 */

export class UnknownOrderError extends Error {
  constructor(readonly orderId: string) {
    super(`order ${orderId} is not cached here (never initialised, cleared, or expired)`);
    this.name = 'UnknownOrderError';
  }
}

export class DuplicateOrderError extends Error {
  constructor(readonly orderId: string) {
    super(`order ${orderId} is already initialised`);
    this.name = 'DuplicateOrderError';
  }
}

export type ClearOutcome =
  | { cleared: true; localClock: VectorClock }
  | { cleared: false; localClock: VectorClock; reason: 'local clock is ahead of the final clock' };

interface Entry<Order> {
  order: Order;
  clock: VectorClock;
  expiresAt: number;
}

export class OrderCache<Order> {
  private readonly entries = new Map<string, Entry<Order>>();

  /**
   * @param process this service's entry in the vector clock
   * @param ttlMs   an order not cleared within this time is dropped by sweep()
   */
  constructor(
    readonly process: string,
    private readonly ttlMs: number,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  has(orderId: string): boolean {
    return this.entries.has(orderId);
  }

  /** Caches the order with an all-zero clock. */
  init(orderId: string, order: Order, now: number): VectorClock {
    if (this.entries.has(orderId)) throw new DuplicateOrderError(orderId);
    const clock = VectorClock.zero();
    this.entries.set(orderId, { order, clock, expiresAt: now + this.ttlMs });
    return clock;
  }

  /** An event of this process on the order: merge the clock it received, then tick. */
  recordEvent(orderId: string, received: VectorClock): { order: Order; clock: VectorClock } {
    const entry = this.entries.get(orderId);
    if (!entry) throw new UnknownOrderError(orderId);
    entry.clock = entry.clock.merge(received).tick(this.process);
    return { order: entry.order, clock: entry.clock };
  }

  clockOf(orderId: string): VectorClock | undefined {
    return this.entries.get(orderId)?.clock;
  }

  /**
   * The orchestrator's final broadcast. The order is forgotten only if every event
   * this service saw happened before (or is) the final one: local ≤ final.
   */
  clear(orderId: string, finalClock: VectorClock): ClearOutcome {
    const entry = this.entries.get(orderId);
    if (!entry) throw new UnknownOrderError(orderId);
    if (!entry.clock.lessOrEqual(finalClock)) {
      return { cleared: false, localClock: entry.clock, reason: 'local clock is ahead of the final clock' };
    }
    this.entries.delete(orderId);
    return { cleared: true, localClock: entry.clock };
  }

  /** Drops orders past their time to live; returns how many. */
  sweep(now: number): number {
    let dropped = 0;
    for (const [orderId, entry] of this.entries) {
      if (entry.expiresAt <= now) {
        this.entries.delete(orderId);
        dropped++;
      }
    }
    return dropped;
  }
}
