/**
 * Counts events per key inside a sliding time window (e.g. orders per contact
 * per minute). Pure: the caller passes the time. Memory stays bounded: old
 * timestamps are pruned, and past `maxKeys` the least recently seen key goes.
 */
export class VelocityWindow {
  private readonly hits = new Map<string, number[]>();

  constructor(
    private readonly windowMs: number,
    private readonly maxKeys = 100_000,
  ) {}

  /** Records one event for `key` at `now`; returns how many fall inside the window, this one included. */
  record(key: string, now: number): number {
    const recent = (this.hits.get(key) ?? []).filter((t) => t > now - this.windowMs);
    recent.push(now);
    this.hits.delete(key); // re-insert: Map order becomes recency order
    this.hits.set(key, recent);
    if (this.hits.size > this.maxKeys) this.hits.delete(this.hits.keys().next().value as string);
    return recent.length;
  }

  get keyCount(): number {
    return this.hits.size;
  }
}
