/**
 * First come, first served for checkouts: at most `concurrency` run at once, the rest wait in arrival order, and
 * beyond `capacity` (running and waiting together) a checkout is turned away at once (the HTTP layer answers 503
 * with Retry-After).
 *
 * Why a line rather than letting every checkout start: the checks are CPU-bound, and a burst of checkouts that all
 * start together share the cores evenly, so all of them finish together at the end of the burst (in a flash sale
 * of 200 buyers, the first waited as long as the last, and the copies went to whichever orders happened to reach
 * the queue first). In a line, the first arrivals finish first and the orders reach the queue in arrival order;
 * the burst takes as long as before (the cores do the same work).
 */
export class CheckoutAdmission {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  /** `onWaiting` hears +1 when a checkout joins the line and -1 when its turn comes (a metric's UpDownCounter). */
  constructor(
    private readonly concurrency: number,
    private readonly capacity: number,
    private readonly onWaiting: (delta: 1 | -1) => void = () => undefined,
  ) {
    if (!(Number.isInteger(concurrency) && concurrency >= 1)) throw new Error(`concurrency must be a whole number ≥ 1, not ${concurrency}`);
    if (!(Number.isInteger(capacity) && capacity >= concurrency)) throw new Error(`capacity (${capacity}) must be a whole number ≥ concurrency (${concurrency})`);
  }

  /** Checkouts running and waiting. */
  get inProgress(): number {
    return this.running + this.waiting.length;
  }

  get queued(): number {
    return this.waiting.length;
  }

  /**
   * Runs `work` when its turn comes; undefined, without running it, when the line is full. A checkout's turn is
   * given to the next in line when it settles, whether it succeeded or threw.
   */
  run<T>(work: () => Promise<T>): Promise<T> | undefined {
    if (this.inProgress >= this.capacity) return undefined;
    const turn =
      this.running < this.concurrency
        ? (this.running++, Promise.resolve())
        : new Promise<void>((resolve) => {
            // The slot is handed over by `leave`, so `running` already counts this checkout when it resolves.
            this.onWaiting(1);
            this.waiting.push(() => {
              this.onWaiting(-1);
              resolve();
            });
          });
    return turn.then(async () => {
      try {
        return await work();
      } finally {
        this.leave();
      }
    });
  }

  private leave(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.running--;
  }
}
