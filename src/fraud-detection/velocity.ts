/**
 * Counts events per key inside a sliding time window (e.g. orders per contact
 * per minute). Pure: the caller passes the time. Memory stays bounded: old
 * timestamps are pruned, and past `maxKeys` the least recently seen key goes.
 *
 * Each key's times are a queue in arrival order: recording prunes expired times
 * from its front and appends, so a busy key (a bench sends thousands of orders
 * a minute from one contact) costs O(1) amortised per event, not a scan of its
 * whole window. Times are expected in order; one that goes backwards (a clock
 * step) is counted as if it came at the latest time recorded before it.
 */
interface Times {
  at: number[];
  /** Index of the oldest time still inside the window. */
  head: number;
}

export class VelocityWindow {
  private readonly hits = new Map<string, Times>();

  constructor(
    private readonly windowMs: number,
    private readonly maxKeys = 100_000,
  ) {}

  /** Records one event for `key` at `now`; returns how many fall inside the window, this one included. */
  record(key: string, now: number): number {
    const times = this.hits.get(key) ?? { at: [], head: 0 };
    const { at } = times;
    while (times.head < at.length && at[times.head] <= now - this.windowMs) times.head++;
    // Drop the expired prefix once it is most of the array, so the array stays within twice the window's count.
    if (times.head > 64 && times.head * 2 > at.length) {
      at.splice(0, times.head);
      times.head = 0;
    }
    at.push(Math.max(now, at.at(-1) ?? now));
    this.hits.delete(key); // re-insert: Map order becomes recency order
    this.hits.set(key, times);
    if (this.hits.size > this.maxKeys) this.hits.delete(this.hits.keys().next().value as string);
    return at.length - times.head;
  }

  get keyCount(): number {
    return this.hits.size;
  }
}
