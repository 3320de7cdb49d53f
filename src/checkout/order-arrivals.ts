/**
 * Lets an event's call wait for its order to be initialised here. The orchestrator initialises fraud-detection
 * and suggestions beside the one call that initialises transaction-verification and starts the chain, so the call
 * carrying event D (or F) can, now and then, arrive before this service's own InitOrder. It waits for it, at most
 * `waitMs`, instead of failing the checkout.
 */
export class OrderArrivals {
  private readonly waiting = new Map<string, Set<() => void>>();

  constructor(
    private readonly orders: { has(orderId: string): boolean },
    private readonly waitMs: number,
  ) {}

  /** How many calls are waiting for their order now. */
  get waiters(): number {
    let n = 0;
    for (const w of this.waiting.values()) n += w.size;
    return n;
  }

  /** InitOrder has cached the order: the calls waiting for it go on. */
  arrived(orderId: string): void {
    const waiters = this.waiting.get(orderId);
    if (!waiters) return;
    this.waiting.delete(orderId);
    for (const wake of waiters) wake();
  }

  /**
   * Resolves at once if the order is here (or the id is empty: no InitOrder will bring it), else when it arrives
   * or `waitMs` has passed, whichever comes first. The caller then finds the order, or answers NOT_FOUND.
   */
  whenKnown(orderId: string): Promise<void> {
    if (orderId === '' || this.orders.has(orderId) || this.waitMs <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const waiters = this.waiting.get(orderId) ?? new Set<() => void>();
      this.waiting.set(orderId, waiters);
      const wake = () => {
        clearTimeout(timer);
        waiters.delete(wake);
        if (waiters.size === 0 && this.waiting.get(orderId) === waiters) this.waiting.delete(orderId);
        resolve();
      };
      const timer = setTimeout(wake, this.waitMs);
      waiters.add(wake);
    });
  }
}
