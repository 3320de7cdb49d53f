/**
 * A vector clock (Fidge/Mattern): one counter per process. Immutable; every
 * operation returns a new clock. Pure: no I/O, no time.
 *
 * - `tick(p)`   — process p had a local event: its counter goes up by one.
 * - `merge(o)`  — on receiving a message: the entrywise maximum.
 * - `compare`   — happened-before (<), after (>), equal, or concurrent (||).
 */

export type ClockOrdering = 'before' | 'after' | 'equal' | 'concurrent';

export class InvalidClockError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidClockError';
  }
}

export class VectorClock {
  private constructor(private readonly counters: ReadonlyMap<string, number>) {}

  static zero(): VectorClock {
    return new VectorClock(new Map());
  }

  /** Builds a clock from `{process: counter}`; counters must be non-negative integers. */
  static from(entries: Readonly<Record<string, number>>): VectorClock {
    const counters = new Map<string, number>();
    for (const [process, counter] of Object.entries(entries)) {
      if (!Number.isSafeInteger(counter) || counter < 0) {
        throw new InvalidClockError(`clock entry ${process}=${counter} is not a non-negative integer`);
      }
      if (counter > 0) counters.set(process, counter);
    }
    return new VectorClock(counters);
  }

  get(process: string): number {
    return this.counters.get(process) ?? 0;
  }

  tick(process: string): VectorClock {
    const next = new Map(this.counters);
    next.set(process, this.get(process) + 1);
    return new VectorClock(next);
  }

  merge(other: VectorClock): VectorClock {
    const next = new Map(this.counters);
    for (const [process, counter] of other.counters) {
      if (counter > (next.get(process) ?? 0)) next.set(process, counter);
    }
    return new VectorClock(next);
  }

  compare(other: VectorClock): ClockOrdering {
    let less = false;
    let greater = false;
    for (const process of new Set([...this.counters.keys(), ...other.counters.keys()])) {
      const a = this.get(process);
      const b = other.get(process);
      if (a < b) less = true;
      if (a > b) greater = true;
    }
    if (less && greater) return 'concurrent';
    if (less) return 'before';
    if (greater) return 'after';
    return 'equal';
  }

  /** this ≤ other: every entry of this is at most the other's. */
  lessOrEqual(other: VectorClock): boolean {
    const order = this.compare(other);
    return order === 'before' || order === 'equal';
  }

  /** this → other: this happened before other (strictly). */
  happenedBefore(other: VectorClock): boolean {
    return this.compare(other) === 'before';
  }

  concurrentWith(other: VectorClock): boolean {
    return this.compare(other) === 'concurrent';
  }

  equals(other: VectorClock): boolean {
    return this.compare(other) === 'equal';
  }

  /** `{process: counter}` with every listed process present (0 when absent), in that order. */
  toRecord(processes: readonly string[] = [...this.counters.keys()].sort()): Record<string, number> {
    const record: Record<string, number> = {};
    for (const process of processes) record[process] = this.get(process);
    for (const [process, counter] of this.counters) {
      if (!(process in record)) record[process] = counter;
    }
    return record;
  }

  /** The seed's notation, e.g. `(3,1,0)`, over the given process order. */
  format(processes: readonly string[]): string {
    return `(${processes.map((p) => this.get(p)).join(',')})`;
  }
}
