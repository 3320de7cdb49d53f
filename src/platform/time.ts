/** Wall-clock time, injected so cores and tests can use a fake one. */
export interface TimeSource {
  now(): number;
}

export const TIME = Symbol('TimeSource');

export const systemTime: TimeSource = { now: () => Date.now() };
