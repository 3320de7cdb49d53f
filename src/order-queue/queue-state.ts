import type { Lease, QueuedOrder } from '../gen/causeway/v1/order_queue';

/**
 * The order queue's core: which orders wait, which are leased to whom and until
 * when, and the highest consumer term seen. Pure and deterministic: time comes in
 * as `now` arguments, nothing here does I/O, so the journal can rebuild it by
 * replay and the unit tests can drive it with a fake clock.
 */

export const PRIORITIES = ['Next-Day', 'Express', 'Standard'] as const;
export type Priority = (typeof PRIORITIES)[number];

/**
 * Aging: an order competes as if it had been enqueued this much earlier. A
 * Standard order that has waited 10 s is as urgent as a fresh Next-Day one, so a
 * steady stream of Next-Day orders cannot starve the others.
 */
export const AGING_BONUS_MS: Readonly<Record<Priority, number>> = { 'Next-Day': 10_000, Express: 5_000, Standard: 0 };

/** How many acked order ids are remembered for duplicate detection. */
export const DEFAULT_ACKED_MEMORY = 100_000;

export function priorityOf(shippingMethod: string): Priority {
  return (PRIORITIES as readonly string[]).includes(shippingMethod) ? (shippingMethod as Priority) : 'Standard';
}

/** A consumer from an older leadership term: a newer leader has taken over, so it must stop. */
export class StaleTermError extends Error {
  constructor(
    readonly consumerId: string,
    readonly term: number,
    readonly highestTerm: number,
  ) {
    super(`consumer ${consumerId} has term ${term} but the queue has seen term ${highestTerm}: a newer leader took over`);
    this.name = 'StaleTermError';
  }
}

/** A set that remembers only its most recent `capacity` members (oldest evicted first). */
export class RecentIds {
  private readonly ids = new Set<string>();

  constructor(private readonly capacity: number) {}

  add(id: string): void {
    if (this.ids.has(id)) return;
    this.ids.add(id);
    // A Set iterates in insertion order, so its first member is the oldest.
    if (this.ids.size > this.capacity) this.ids.delete(this.ids.values().next().value as string);
  }

  has(id: string): boolean {
    return this.ids.has(id);
  }

  get size(): number {
    return this.ids.size;
  }

  values(): IterableIterator<string> {
    return this.ids.values();
  }
}

interface Entry {
  order: QueuedOrder;
  priority: Priority;
  /** Kept across redeliveries, so an expired order goes back to where it was and keeps aging. */
  enqueuedAt: number;
  /** Arrival number: breaks ties between equal enqueuedAt, FIFO. */
  seq: number;
  /** How many times it has been leased so far. */
  deliveries: number;
  lease?: { consumerId: string; term: number; expiresAt: number };
}

export interface ExpiredLease {
  orderId: string;
  consumerId: string;
  /** The delivery whose visibility timeout ran out; the next one is delivery + 1. */
  delivery: number;
}

export interface QueueStats {
  /** Orders not yet acked: ready + leased. */
  depth: number;
  ready: number;
  leased: number;
  highestTerm: number;
  readyByPriority: Record<Priority, number>;
  enqueuedTotal: number;
  ackedTotal: number;
  redeliveredTotal: number;
}

/** Orders in (enqueuedAt, seq) order: the FIFO of one priority. */
function before(a: Entry, b: Entry): boolean {
  return a.enqueuedAt < b.enqueuedAt || (a.enqueuedAt === b.enqueuedAt && a.seq < b.seq);
}

/** The urgency across priorities: aged arrival time first, then the one that waited longer. */
function moreUrgent(a: Entry, b: Entry): boolean {
  const ua = a.enqueuedAt - AGING_BONUS_MS[a.priority];
  const ub = b.enqueuedAt - AGING_BONUS_MS[b.priority];
  return ua < ub || (ua === ub && before(a, b));
}

export class OrderQueueState {
  /** Every order not yet acked, ready or leased. */
  private readonly entries = new Map<string, Entry>();
  /** Ready orders of each priority, sorted oldest first (sorted arrays: depths are modest, inserts mostly append). */
  private readonly ready: Record<Priority, Entry[]> = { 'Next-Day': [], Express: [], Standard: [] };
  private readonly leased = new Map<string, Entry>();
  private readonly acked: RecentIds;
  private highestTerm = 0;
  private nextSeq = 0;
  private counters = { enqueuedTotal: 0, ackedTotal: 0, redeliveredTotal: 0 };

  constructor(ackedMemory = DEFAULT_ACKED_MEMORY) {
    this.acked = new RecentIds(ackedMemory);
  }

  get term(): number {
    return this.highestTerm;
  }

  get depth(): number {
    return this.entries.size;
  }

  /** True if the order is queued now or was acked (as far as memory goes back). */
  knows(orderId: string): boolean {
    return this.entries.has(orderId) || this.acked.has(orderId);
  }

  /**
   * Adds an order, ready at once. `now` becomes its enqueuedAt (replay passes the
   * journaled one back in). An order id already queued or acked changes nothing.
   */
  enqueue(order: QueuedOrder, now: number): { duplicate: boolean; depth: number } {
    if (this.knows(order.orderId)) return { duplicate: true, depth: this.depth };
    const entry: Entry = {
      order: { ...order, enqueuedAtMs: now },
      priority: priorityOf(order.shippingMethod),
      enqueuedAt: now,
      seq: this.nextSeq++,
      deliveries: 0,
    };
    this.entries.set(order.orderId, entry);
    this.makeReady(entry);
    this.counters.enqueuedTotal++;
    return { duplicate: false, depth: this.depth };
  }

  /**
   * Fencing: refuses a term below the highest seen (StaleTermError), raises the
   * highest to a newer one. Returns true when the term rose (worth persisting).
   */
  observeTerm(term: number, consumerId = '(journal)'): boolean {
    if (term < this.highestTerm) throw new StaleTermError(consumerId, term, this.highestTerm);
    if (term === this.highestTerm) return false;
    this.highestTerm = term;
    // A newer leader took over: leases held under older terms are void (their acks
    // would be refused), so their orders are ready for the new leader at once
    // instead of after the visibility timeout.
    for (const entry of [...this.leased.values()]) {
      if (entry.lease!.term < term) this.release(entry);
    }
    return true;
  }

  /**
   * Leases up to `max` ready orders to the consumer for `leaseMs`: the most urgent
   * first (see AGING_BONUS_MS). Expired leases are released first, so they count.
   */
  lease(consumerId: string, term: number, max: number, leaseMs: number, now: number): Lease[] {
    this.observeTerm(term, consumerId);
    this.expireLeases(now);
    const leases: Lease[] = [];
    while (leases.length < Math.max(1, max)) {
      const entry = this.mostUrgentReady();
      if (!entry) break;
      this.ready[entry.priority].shift();
      entry.deliveries++;
      entry.lease = { consumerId, term, expiresAt: now + leaseMs };
      this.leased.set(entry.order.orderId, entry);
      if (entry.deliveries > 1) this.counters.redeliveredTotal++;
      leases.push({ order: entry.order, expiresAtMs: entry.lease.expiresAt, delivery: entry.deliveries });
    }
    return leases;
  }

  /**
   * Removes the orders for good, whoever holds their lease (a late ack from a
   * consumer whose lease expired still means the work is done). Returns the ids
   * that were queued; unknown or already acked ids are ignored.
   */
  ack(consumerId: string, term: number, orderIds: readonly string[]): string[] {
    this.observeTerm(term, consumerId);
    return this.markAcked(orderIds);
  }

  /**
   * The effect of an ack without fencing, for journal replay: removes what is
   * queued and remembers every id as acked.
   */
  markAcked(orderIds: readonly string[]): string[] {
    const removed: string[] = [];
    for (const id of orderIds) {
      const entry = this.entries.get(id);
      this.acked.add(id);
      if (!entry) continue;
      this.entries.delete(id);
      if (entry.lease) this.leased.delete(id);
      else this.removeReady(entry);
      removed.push(id);
    }
    this.counters.ackedTotal += removed.length;
    return removed;
  }

  /** Gives up this consumer's leases on the orders: ready again at once, at their old place. */
  nack(consumerId: string, term: number, orderIds: readonly string[]): number {
    this.observeTerm(term, consumerId);
    let released = 0;
    for (const id of orderIds) {
      const entry = this.leased.get(id);
      if (!entry || entry.lease?.consumerId !== consumerId) continue;
      this.release(entry);
      released++;
    }
    return released;
  }

  /** Visibility timeout: leases due by `now` end, and their orders are ready again. */
  expireLeases(now: number): ExpiredLease[] {
    const expired: ExpiredLease[] = [];
    for (const entry of this.leased.values()) {
      if (entry.lease!.expiresAt > now) continue;
      expired.push({ orderId: entry.order.orderId, consumerId: entry.lease!.consumerId, delivery: entry.deliveries });
      this.release(entry);
    }
    return expired;
  }

  stats(): QueueStats {
    return {
      depth: this.depth,
      ready: this.depth - this.leased.size,
      leased: this.leased.size,
      highestTerm: this.highestTerm,
      readyByPriority: {
        'Next-Day': this.ready['Next-Day'].length,
        Express: this.ready.Express.length,
        Standard: this.ready.Standard.length,
      },
      ...this.counters,
    };
  }

  /** Counters are per process: replaying the journal on start-up must not count as traffic. */
  resetCounters(): void {
    this.counters = { enqueuedTotal: 0, ackedTotal: 0, redeliveredTotal: 0 };
  }

  private mostUrgentReady(): Entry | undefined {
    let best: Entry | undefined;
    for (const priority of PRIORITIES) {
      const head = this.ready[priority][0];
      if (head && (!best || moreUrgent(head, best))) best = head;
    }
    return best;
  }

  private release(entry: Entry): void {
    this.leased.delete(entry.order.orderId);
    entry.lease = undefined;
    this.makeReady(entry);
  }

  /** Inserts in (enqueuedAt, seq) order: new orders append, released ones go back to their old place. */
  private makeReady(entry: Entry): void {
    const queue = this.ready[entry.priority];
    queue.splice(this.position(queue, entry), 0, entry);
  }

  private removeReady(entry: Entry): void {
    const queue = this.ready[entry.priority];
    const at = this.position(queue, entry);
    if (queue[at] === entry) queue.splice(at, 1);
  }

  /** Index of the first queued entry not before `entry` (binary search). */
  private position(queue: Entry[], entry: Entry): number {
    let lo = 0;
    let hi = queue.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (before(queue[mid], entry)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
