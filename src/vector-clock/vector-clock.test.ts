import { InvalidClockError, VectorClock } from './vector-clock';

const P = ['p', 'q', 'r'];
const clock = (p: number, q: number, r: number) => VectorClock.from({ p, q, r });

describe('VectorClock', () => {
  it('starts at zero and ticks only its own entry', () => {
    const c = VectorClock.zero().tick('p').tick('p').tick('q');
    expect(c.toRecord(P)).toEqual({ p: 2, q: 1, r: 0 });
    expect(VectorClock.zero().toRecord(P)).toEqual({ p: 0, q: 0, r: 0 });
  });

  it('is immutable', () => {
    const a = clock(1, 0, 0);
    a.tick('p');
    a.merge(clock(5, 5, 5));
    expect(a.toRecord(P)).toEqual({ p: 1, q: 0, r: 0 });
  });

  it('merges by entrywise maximum, commutatively and idempotently', () => {
    const a = clock(3, 0, 2);
    const b = clock(1, 4, 2);
    expect(a.merge(b).toRecord(P)).toEqual({ p: 3, q: 4, r: 2 });
    expect(b.merge(a).equals(a.merge(b))).toBe(true);
    expect(a.merge(a).equals(a)).toBe(true);
    expect(a.merge(VectorClock.zero()).equals(a)).toBe(true);
  });

  it('orders clocks by happened-before', () => {
    expect(clock(1, 0, 0).compare(clock(2, 0, 0))).toBe('before');
    expect(clock(2, 1, 0).compare(clock(2, 0, 0))).toBe('after');
    expect(clock(2, 1, 0).compare(clock(2, 1, 0))).toBe('equal');
    expect(clock(1, 0, 0).happenedBefore(clock(1, 1, 0))).toBe(true);
    expect(clock(1, 1, 0).happenedBefore(clock(1, 1, 0))).toBe(false);
  });

  it('detects concurrency', () => {
    expect(clock(2, 0, 0).compare(clock(1, 1, 0))).toBe('concurrent');
    expect(clock(2, 0, 0).concurrentWith(clock(0, 0, 1))).toBe(true);
    expect(clock(2, 0, 0).lessOrEqual(clock(1, 1, 0))).toBe(false);
    expect(clock(1, 1, 0).lessOrEqual(clock(2, 0, 0))).toBe(false);
  });

  it('implements ≤ including equality, and treats missing entries as 0', () => {
    expect(clock(2, 0, 0).lessOrEqual(clock(2, 0, 0))).toBe(true);
    expect(clock(2, 0, 0).lessOrEqual(clock(3, 2, 1))).toBe(true);
    expect(clock(3, 2, 2).lessOrEqual(clock(3, 2, 1))).toBe(false);
    expect(VectorClock.from({ p: 1 }).lessOrEqual(VectorClock.from({ p: 1, q: 0 }))).toBe(true);
    expect(VectorClock.from({ p: 1, q: 0 }).equals(VectorClock.from({ p: 1 }))).toBe(true);
  });

  it('reproduces the seed diagram: A→B→D→C→E→F over [tv, fd, sg]', () => {
    const [tv, fd, sg] = ['tv', 'fd', 'sg'];
    const order = [tv, fd, sg];
    const a = VectorClock.zero().tick(tv);
    const b = a.tick(tv);
    const d = VectorClock.zero().merge(b).tick(fd);
    const c = b.merge(d).tick(tv);
    const e = d.merge(c).tick(fd);
    const f = VectorClock.zero().merge(e).tick(sg);
    expect([a, b, d, c, e, f].map((x) => x.format(order))).toEqual([
      '(1,0,0)',
      '(2,0,0)',
      '(2,1,0)',
      '(3,1,0)',
      '(3,2,0)',
      '(3,2,1)',
    ]);
    // Each event happened before the next, so the chain is a total order.
    for (const [x, y] of [[a, b], [b, d], [d, c], [c, e], [e, f]] as const) expect(x.happenedBefore(y)).toBe(true);
  });

  it('rejects negative or fractional entries', () => {
    expect(() => VectorClock.from({ p: -1 })).toThrow(InvalidClockError);
    expect(() => VectorClock.from({ p: 1.5 })).toThrow(InvalidClockError);
  });
});
