export interface CallBatcherOptions {
  /** Most items in one call. */
  maxBatch: number;
  /** Most calls in flight at once; items arriving meanwhile wait for the next call. */
  maxInFlight: number;
  /**
   * How long the first waiting item waits for others before its call goes (unless maxBatch fill first). 0, the
   * default, sends at the end of the event-loop turn: right for a caller that waits for the answer; work no caller
   * waits for can linger to share its calls at any load.
   */
  lingerMs?: number;
}

interface Waiting<Item, Outcome> {
  item: Item;
  resolve: (outcome: Outcome) => void;
  reject: (err: unknown) => void;
}

/**
 * Coalesces concurrent requests into batch calls, the way a group commit coalesces fsyncs: items that arrive in
 * the same event-loop turn (or within `lingerMs` of the first), or while `maxInFlight` calls are out, travel
 * together. Without a linger an idle caller sends each item at once, alone; a busy one sends one call per batch
 * instead of one per item. Each caller's promise settles with
 * its own item's outcome (the call answers one per item, in order); a failed call fails every item it carried, so
 * the batch calls this serves must be safe to retry (idempotent per item).
 */
export class CallBatcher<Item, Outcome> {
  private waiting: Waiting<Item, Outcome>[] = [];
  private inFlight = 0;
  private scheduled = false;
  private linger: NodeJS.Timeout | undefined;
  /** options.lingerMs, until stopLingering. */
  private lingerMs: number;

  constructor(
    private readonly send: (items: Item[]) => Promise<Outcome[]>,
    private readonly options: CallBatcherOptions,
    /** Who answers and what the items are, for the error when a call answers the wrong number of outcomes. */
    private readonly names = { callee: 'the call', items: 'items' },
  ) {
    this.lingerMs = options.lingerMs ?? 0;
  }

  /** Resolves with this item's outcome once its batch call has answered. */
  submit(item: Item): Promise<Outcome> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ item, resolve, reject });
      this.schedule();
      // A full batch does not wait out its linger.
      if (this.waiting.length >= this.options.maxBatch) this.cutLinger();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight >= this.options.maxInFlight || this.waiting.length === 0) return;
    this.scheduled = true;
    if (this.lingerMs > 0 && this.waiting.length < this.options.maxBatch) {
      this.linger = setTimeout(() => this.go(), this.lingerMs);
    } else {
      // Let every request made in this turn join the batch.
      setImmediate(() => this.go());
    }
  }

  /** From now on items go without lingering, and any lingering now go at once (a caller shutting down). */
  stopLingering(): void {
    this.lingerMs = 0;
    this.cutLinger();
  }

  /** The items lingering now go at the end of this turn instead. */
  private cutLinger(): void {
    if (this.linger === undefined) return;
    clearTimeout(this.linger);
    this.linger = undefined;
    setImmediate(() => this.go());
  }

  private go(): void {
    this.linger = undefined;
    this.scheduled = false;
    this.flush();
  }

  private flush(): void {
    while (this.inFlight < this.options.maxInFlight && this.waiting.length > 0) {
      const batch = this.waiting.splice(0, this.options.maxBatch);
      this.inFlight++;
      // A send that throws instead of rejecting fails its items as a rejection would.
      new Promise<Outcome[]>((resolve) => resolve(this.send(batch.map((w) => w.item))))
        .then(
          (outcomes) => {
            if (outcomes.length !== batch.length) {
              const err = new Error(`${this.names.callee} answered ${outcomes.length} outcomes for ${batch.length} ${this.names.items}`);
              return batch.forEach((w) => w.reject(err));
            }
            batch.forEach((w, i) => w.resolve(outcomes[i]));
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
