import { describeIncidents, incidentsIn } from './stalls';

const line = (record: object) => JSON.stringify({ level: 'info', timestamp: '2026-11-27T11:00:00.000Z', ...record });

describe('incidentsIn', () => {
  it('finds the stalls the processes reported, named by executor or replica where they have one', () => {
    const lines = [
      line({ service: 'orchestrator', message: 'order ord_1: Order Approved' }),
      line({ service: 'orchestrator', level: 'warn', message: 'the event loop was blocked for 230 ms', event_loop_blocked_ms: 230 }),
      line({ service: 'order-executor', executor: 'executor-2', level: 'warn', message: 'the event loop was blocked for 120 ms', event_loop_blocked_ms: 120 }),
      line({ service: 'books-database', replica: 'books-3', level: 'warn', message: 'the event loop was blocked for 101 ms', event_loop_blocked_ms: 101 }),
      'not json "event_loop_blocked_ms"',
    ];
    expect(incidentsIn(lines)).toEqual({
      stalls: [
        { process: 'orchestrator', ms: 230 },
        { process: 'executor-2', ms: 120 },
        { process: 'books-3', ms: 101 },
      ],
      elections: 0,
      snapshots: [],
    });
  });

  it('counts elections won, not campaigns started or lost', () => {
    const lines = [
      line({ service: 'order-executor', executor: 'executor-1', message: 'starting election for term 3', term: 3 }),
      line({ service: 'order-executor', executor: 'executor-1', message: 'became leader for term 3 (votes from executor-1, executor-2)', term: 3 }),
      line({ service: 'books-database', replica: 'books-2', message: 'lost the election for term 5', term: 5 }),
      line({ service: 'books-database', replica: 'books-1', message: 'became leader for term 5 (votes from books-1, books-3)', term: 5 }),
      line({ service: 'order-executor', executor: 'executor-2', message: 'leader is executor-1 (term 3)', term: 3 }),
    ];
    expect(incidentsIn(lines)).toEqual({ stalls: [], elections: 2, snapshots: [] });
  });

  it('lists the snapshots taken, with how long each capture held its process', () => {
    const lines = [
      line({ service: 'order-executor', executor: 'executor-3', message: 'snapshot at index 10000 (812 KiB; captured in 14 ms, on disk 40 ms after the capture began); log before it dropped', snapshot_index: 10000, snapshot_capture_ms: 14 }),
      line({ service: 'books-database', replica: 'books-1', message: 'snapshot at index 20000 (3 KiB; captured in 1 ms, on disk 9 ms after the capture began); log before it dropped', snapshot_index: 20000, snapshot_capture_ms: 1 }),
    ];
    expect(incidentsIn(lines).snapshots).toEqual([
      { process: 'executor-3', captureMs: 14 },
      { process: 'books-1', captureMs: 1 },
    ]);
    expect(describeIncidents(incidentsIn(lines))).toBe('no stall reported; no election; 2 snapshots (executor-3, books-1; longest capture 14 ms)');
  });

  it('leaves out what was logged outside the run, by its timestamp', () => {
    const at = (iso: string, ms: number) =>
      JSON.stringify({ service: 'payment', level: 'warn', message: `the event loop was blocked for ${ms} ms`, event_loop_blocked_ms: ms, timestamp: iso });
    const lines = [at('2026-11-27T11:00:00.000Z', 12000), at('2026-11-27T11:00:30.000Z', 150), at('2026-11-27T11:02:00.000Z', 300)];
    const window = { fromMs: Date.parse('2026-11-27T11:00:10.000Z'), toMs: Date.parse('2026-11-27T11:01:10.000Z') };
    expect(incidentsIn(lines, window).stalls).toEqual([{ process: 'payment', ms: 150 }]);
  });
});

describe('describeIncidents', () => {
  it('says when nothing happened', () => {
    expect(describeIncidents({ stalls: [], elections: 0, snapshots: [] })).toBe('no stall reported; no election; no snapshot');
  });

  it('lists the longest stalls first, at most four, and counts the rest', () => {
    const stalls = [110, 700, 150, 130, 400, 105].map((ms, i) => ({ process: `p${i}`, ms }));
    expect(describeIncidents({ stalls, elections: 1, snapshots: [] })).toBe('stalls: p1 700 ms, p4 400 ms, p2 150 ms, p3 130 ms, 2 more; 1 election; no snapshot');
  });
});
