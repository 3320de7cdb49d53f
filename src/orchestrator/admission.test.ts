import { CheckoutAdmission } from './admission';

/** A piece of work that finishes when the test says so. */
function gate<T = void>() {
  let open!: (v: T) => void;
  let fail!: (e: Error) => void;
  const promise = new Promise<T>((resolve, reject) => {
    open = resolve;
    fail = reject;
  });
  return { promise, open, fail };
}

const flush = () => new Promise((r) => setImmediate(r));

describe('CheckoutAdmission', () => {
  it('runs at most `concurrency` at once and starts the waiting ones in arrival order', async () => {
    const admission = new CheckoutAdmission(2, 10);
    const started: number[] = [];
    const gates = Array.from({ length: 5 }, () => gate());
    const done = gates.map((g, i) =>
      admission.run(async () => {
        started.push(i);
        await g.promise;
        return i;
      }),
    );
    await flush();
    expect(started).toEqual([0, 1]);
    expect({ inProgress: admission.inProgress, queued: admission.queued }).toEqual({ inProgress: 5, queued: 3 });
    gates[1].open();
    await flush();
    expect(started).toEqual([0, 1, 2]);
    gates[0].open();
    await flush();
    expect(started).toEqual([0, 1, 2, 3]);
    gates[2].open();
    gates[3].open();
    await flush();
    expect(started).toEqual([0, 1, 2, 3, 4]);
    gates[4].open();
    expect(await Promise.all(done)).toEqual([0, 1, 2, 3, 4]);
    expect(admission.inProgress).toBe(0);
  });

  it('turns a checkout away, without running it, when running and waiting fill the capacity', async () => {
    const admission = new CheckoutAdmission(1, 3);
    const g = gate();
    const ran: number[] = [];
    const accepted = [0, 1, 2].map((i) => admission.run(async () => (ran.push(i), g.promise)));
    expect(accepted.every((p) => p !== undefined)).toBe(true);
    expect(admission.run(async () => ran.push(99))).toBeUndefined();
    g.open();
    await Promise.all(accepted);
    expect(ran).toEqual([0, 1, 2]);
    // Room again once they are done.
    expect(await admission.run(async () => 'again')).toBe('again');
  });

  it('hands the turn on when a checkout throws, and passes the error to its caller', async () => {
    const admission = new CheckoutAdmission(1, 5);
    const failing = admission.run(async () => {
      throw new Error('downstream failed');
    });
    const next = admission.run(async () => 'next ran');
    await expect(failing).rejects.toThrow('downstream failed');
    expect(await next).toBe('next ran');
    expect(admission.inProgress).toBe(0);
  });

  it('reports each checkout joining the line and leaving it when its turn comes', async () => {
    let line = 0;
    const seen: number[] = [];
    const admission = new CheckoutAdmission(1, 5, (delta) => seen.push((line += delta)));
    const g = gate();
    const first = admission.run(() => g.promise);
    const second = admission.run(async () => 'second');
    const third = admission.run(async () => 'third');
    expect(seen).toEqual([1, 2]);
    g.open();
    await Promise.all([first, second, third]);
    expect(seen).toEqual([1, 2, 1, 0]);
  });

  it('refuses a capacity below the concurrency, or a concurrency below 1', () => {
    expect(() => new CheckoutAdmission(0, 10)).toThrow(/concurrency/);
    expect(() => new CheckoutAdmission(8, 4)).toThrow(/capacity/);
  });
});
