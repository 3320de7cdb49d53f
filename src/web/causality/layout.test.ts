import { clockLabel, GEOMETRY, layout, type DiagramEvent } from './layout';

const TV = 'transaction-verification';
const FD = 'fraud-detection';
const SG = 'suggestions';
const ev = (event: string, service: string, tv: number, fd: number, sg: number, passed = true): DiagramEvent => ({
  event,
  service,
  vectorClock: { [TV]: tv, [FD]: fd, [SG]: sg },
  passed,
});

const approved = [
  ev('A', TV, 1, 0, 0),
  ev('B', TV, 2, 0, 0),
  ev('D', FD, 2, 1, 0),
  ev('C', TV, 3, 1, 0),
  ev('E', FD, 3, 2, 0),
  ev('F', SG, 3, 2, 1),
];

describe('causality layout', () => {
  it('labels the dots with the seed diagram’s clocks, in execution order', () => {
    expect(layout(approved).dots.map((d) => d.label)).toEqual(['A(1,0,0)', 'B(2,0,0)', 'D(2,1,0)', 'C(3,1,0)', 'E(3,2,0)', 'F(3,2,1)']);
  });

  it('puts each event on its service’s lane, left to right in time', () => {
    const { lanes, dots } = layout(approved);
    expect(lanes.map((l) => l.service)).toEqual([TV, FD, SG]);
    const laneOf = (y: number) => lanes.find((l) => l.y === y)!.service;
    expect(dots.map((d) => laneOf(d.y))).toEqual([TV, TV, FD, TV, FD, SG]);
    for (let i = 1; i < dots.length; i++) expect(dots[i].x - dots[i - 1].x).toBe(GEOMETRY.step);
  });

  it('draws an arrow for every message between services, none within a service', () => {
    const { arrows } = layout(approved);
    expect(arrows.map((a) => `${a.from}→${a.to}`)).toEqual(['B→D', 'D→C', 'C→E', 'E→F']);
    const [bd] = arrows;
    const { dots } = layout(approved);
    expect([bd.x1, bd.y1, bd.x2, bd.y2]).toEqual([dots[1].x, dots[1].y, dots[2].x, dots[2].y]);
  });

  it('marks a failed event and stops where the chain stopped', () => {
    const rejectedAtD = [...approved.slice(0, 2), ev('D', FD, 2, 1, 0, false)];
    const result = layout(rejectedAtD);
    expect(result.dots.map((d) => [d.event, d.failed])).toEqual([
      ['A', false],
      ['B', false],
      ['D', true],
    ]);
    expect(result.arrows.map((a) => `${a.from}→${a.to}`)).toEqual(['B→D']);
  });

  it('keeps a stable size for short chains and formats clocks with missing entries as 0', () => {
    expect(layout([]).width).toBe(layout(approved).width);
    expect(clockLabel({ event: 'A', service: TV, vectorClock: { [TV]: 1 }, passed: true })).toBe('A(1,0,0)');
  });
});
