import { encodeCommand, ExecutionLedger, outcomeOfDecision, type FinishedCommand, type OrderCommand } from './execution-ledger';

const command = (orderId: string, leader = 'executor-1'): OrderCommand => ({
  orderId,
  leader,
  shippingMethod: 'Standard',
  customerName: 'John Doe',
  maskedCard: '**** 1111',
  items: [{ name: 'Dune', quantity: 1 }],
  traceparent: '',
});

describe('ExecutionLedger', () => {
  it('executes each order once, at its first committed position', () => {
    const ledger = new ExecutionLedger();
    expect(ledger.apply({ term: 1, index: 1, type: 'noop' }).kind).toBe('noop');
    expect(ledger.apply({ term: 1, index: 2, type: 'command', data: encodeCommand(command('o1')) })).toMatchObject({
      kind: 'executed',
      execution: { orderId: 'o1', executor: 'executor-1', term: 1, index: 2 },
    });
    // Redelivered to the next leader before the first copy was acked: proposed again, not executed again.
    expect(ledger.apply({ term: 2, index: 3, type: 'command', data: encodeCommand(command('o1', 'executor-2')) })).toMatchObject({
      kind: 'duplicate',
      execution: { index: 2, executor: 'executor-1' },
    });
    expect(ledger.size).toBe(1);
    expect(ledger.get('o1')).toEqual({ orderId: 'o1', executor: 'executor-1', term: 1, index: 2 });
  });

  it('refuses to apply out of order', () => {
    const ledger = new ExecutionLedger();
    ledger.apply({ term: 1, index: 1, type: 'noop' });
    expect(() => ledger.apply({ term: 1, index: 1, type: 'noop' })).toThrow(/out of order/);
  });

  it('is deterministic: replicas applying the same log agree', () => {
    const log = ['a', 'b', 'a', 'c'].map((id, i) => ({ term: 1, index: i + 1, type: 'command' as const, data: encodeCommand(command(id)) }));
    const [x, y] = [new ExecutionLedger(), new ExecutionLedger()];
    for (const e of log) {
      x.apply(e);
      y.apply(e);
    }
    expect(x.all()).toEqual(y.all());
    expect(x.all().map((e) => e.orderId)).toEqual(['a', 'b', 'c']);
  });
});

describe('ExecutionLedger snapshots and its horizon', () => {
  const entries = (ids: string[], from = 1) =>
    ids.map((id, i) => ({ term: 1, index: from + i, type: 'command' as const, data: encodeCommand(command(id)) }));

  it('refuses a gap in the applied log', () => {
    const ledger = new ExecutionLedger();
    ledger.apply({ term: 1, index: 1, type: 'noop' });
    expect(() => ledger.apply({ term: 1, index: 3, type: 'noop' })).toThrow(/out of order/);
  });

  it('remembers only the latest executions, but counts them all', () => {
    const ledger = new ExecutionLedger(2);
    for (const e of entries(['a', 'b', 'c'])) ledger.apply(e);
    expect(ledger.all().map((e) => e.orderId)).toEqual(['b', 'c']);
    expect(ledger.executedTotal).toBe(3);
  });

  it('restores from its snapshot to the same state, and carries on from the next entry', () => {
    const ledger = new ExecutionLedger(3);
    for (const e of entries(['a', 'b', 'c', 'd'])) ledger.apply(e);
    const copy = new ExecutionLedger(3);
    copy.restore(ledger.snapshot());
    expect(copy.all()).toEqual(ledger.all());
    expect(copy.executedTotal).toBe(4);
    expect(copy.apply(entries(['d'], 5)[0]).kind).toBe('duplicate');
    expect(() => copy.apply(entries(['e'], 5)[0])).toThrow(/out of order/);
    expect(copy.apply(entries(['e'], 6)[0]).kind).toBe('executed');
  });

  it('refuses data that is not a ledger snapshot', () => {
    expect(() => new ExecutionLedger().restore('{"executions":5}')).toThrow(/not a ledger snapshot/);
  });
});

describe('ExecutionLedger outcomes', () => {
  const failed = (orderId: string): OrderCommand => ({
    ...command(orderId),
    outcome: { state: 'failed', failure: { code: 'OUT_OF_STOCK', message: '"Dune" is out of stock' } },
  });

  it('records a failed order with its failure, and keeps the first outcome when the order is proposed again', () => {
    const ledger = new ExecutionLedger();
    ledger.apply({ term: 1, index: 1, type: 'command', data: encodeCommand(failed('o1')) });
    ledger.apply({ term: 1, index: 2, type: 'command', data: encodeCommand({ ...command('o2'), outcome: { state: 'executed' } }) });
    // A second copy cannot change the decision, whatever it carries.
    expect(ledger.apply({ term: 2, index: 3, type: 'command', data: encodeCommand(command('o1', 'executor-2')) }).kind).toBe('duplicate');
    expect(ledger.get('o1')).toEqual({ orderId: 'o1', executor: 'executor-1', term: 1, index: 1, failure: { code: 'OUT_OF_STOCK', message: '"Dune" is out of stock' } });
    expect(ledger.get('o2')).toEqual({ orderId: 'o2', executor: 'executor-1', term: 1, index: 2 });
  });

  it('carries failures through a snapshot', () => {
    const ledger = new ExecutionLedger();
    ledger.apply({ term: 1, index: 1, type: 'command', data: encodeCommand(failed('o1')) });
    ledger.apply({ term: 1, index: 2, type: 'command', data: encodeCommand(command('o2')) });
    const copy = new ExecutionLedger();
    copy.restore(ledger.snapshot());
    expect(copy.all()).toEqual(ledger.all());
    expect(copy.get('o1')?.failure?.code).toBe('OUT_OF_STOCK');
  });

  it('refuses a committed command whose outcome is malformed (a broken invariant, not a guess)', () => {
    const bad = JSON.stringify({ ...command('o1'), outcome: { state: 'failed' } });
    expect(() => new ExecutionLedger().apply({ term: 1, index: 1, type: 'command', data: bad })).toThrow(/malformed outcome/);
  });
});

describe('ExecutionLedger two-phase commit decisions', () => {
  const decided = (orderId: string, decision: 'commit' | 'abort', leader = 'executor-1'): OrderCommand => ({
    ...command(orderId, leader),
    outcome: outcomeOfDecision(decision, decision === 'abort' ? 'PAYMENT_DECLINED' : undefined, 'the card was declined'),
    commit: {
      decision,
      ...(decision === 'abort' ? { reason: 'PAYMENT_DECLINED' as const } : {}),
      participants: { 'books-database': 'YES', payment: decision === 'commit' ? 'YES' : 'DECLINED' },
      term: 3,
    },
  });
  const at = (index: number, data: string, term = 3) => ({ term, index, type: 'command' as const, data });

  it('records the decision as the order outcome with its commit details, unfinished until both participants acknowledge', () => {
    const ledger = new ExecutionLedger();
    ledger.apply(at(1, encodeCommand(decided('o1', 'commit'))));
    ledger.apply(at(2, encodeCommand(decided('o2', 'abort'))));
    expect(ledger.get('o1')).toEqual({
      orderId: 'o1',
      executor: 'executor-1',
      term: 3,
      index: 1,
      commit: { decision: 'commit', participants: { 'books-database': 'YES', payment: 'YES' }, coordinator: 'executor-1', term: 3, finished: false },
    });
    expect(ledger.get('o2')?.failure).toEqual({ code: 'PAYMENT_DECLINED', message: 'the card was declined' });
    expect(ledger.unfinished().map((e) => e.orderId)).toEqual(['o1', 'o2']);

    const finished: FinishedCommand = { finished: 'o1', leader: 'executor-2', participants: { 'books-database': 'committed', payment: 'captured' } };
    expect(ledger.apply(at(3, encodeCommand(finished)))).toMatchObject({ kind: 'finished', orderId: 'o1', first: true });
    expect(ledger.get('o1')?.commit).toMatchObject({
      finished: true,
      participants: { 'books-database': 'committed', payment: 'captured' },
      votes: { 'books-database': 'YES', payment: 'YES' },
    });
    // A repeated completion (re-proposed after a lost proposal) changes nothing.
    expect(ledger.apply(at(4, encodeCommand(finished)))).toMatchObject({ kind: 'finished', first: false });
    expect(ledger.unfinished().map((e) => e.orderId)).toEqual(['o2']);
  });

  it('keeps the first decision: a later one for the same transaction is a duplicate and changes nothing', () => {
    const ledger = new ExecutionLedger();
    ledger.apply(at(1, encodeCommand(decided('o1', 'abort'))));
    expect(ledger.apply(at(2, encodeCommand(decided('o1', 'commit', 'executor-2')))).kind).toBe('duplicate');
    expect(ledger.get('o1')?.commit?.decision).toBe('abort');
  });

  it('never forgets an unfinished transaction past its horizon, and carries decisions through a snapshot', () => {
    const ledger = new ExecutionLedger(1);
    ledger.apply(at(1, encodeCommand(decided('o1', 'commit'))));
    ledger.apply(at(2, encodeCommand(decided('o2', 'abort'))));
    ledger.apply(at(3, encodeCommand(command('o3'))));
    expect(ledger.all().map((e) => e.orderId)).toEqual(['o3']);
    expect(ledger.get('o1')?.commit?.decision).toBe('commit');
    // A redelivered copy of a decided, forgotten-by-horizon but unfinished order is still a duplicate.
    expect(ledger.apply(at(4, encodeCommand(decided('o1', 'abort')))).kind).toBe('duplicate');
    const copy = new ExecutionLedger(1);
    copy.restore(ledger.snapshot());
    expect(copy.unfinished()).toEqual(ledger.unfinished());
    expect(copy.all()).toEqual(ledger.all());
    expect(copy.snapshot()).toBe(ledger.snapshot());
    copy.apply(at(5, encodeCommand({ finished: 'o2', leader: 'executor-1', participants: { 'books-database': 'aborted', payment: 'declined' } })));
    expect(copy.unfinished().map((e) => e.orderId)).toEqual(['o1']);
  });

  it('encodes ahead only what can no longer change: a snapshot after it is the snapshot without it', () => {
    const entries = [
      at(1, encodeCommand(command('o1'))),
      at(2, encodeCommand(decided('o2', 'commit'))),
      at(3, encodeCommand({ finished: 'o2', leader: 'executor-1', participants: { 'books-database': 'committed', payment: 'captured' } })),
      at(4, encodeCommand(decided('o3', 'abort'))),
    ];
    const ahead = new ExecutionLedger();
    const plain = new ExecutionLedger();
    // Each entry is encoded ahead as it is applied, the decided-but-unfinished o2 and o3 included (they are not yet
    // final, so nothing of theirs may be kept); a snapshot between entries must match the plain ledger's too.
    for (const entry of entries) {
      ahead.encodeAhead(ahead.apply(entry));
      plain.apply(entry);
      expect(ahead.snapshot()).toBe(plain.snapshot());
    }
    // o3 finishes without being encoded ahead (the executor skips it in a replay): the snapshot has its final state,
    // not anything encoded while it was unfinished.
    const finish = at(5, encodeCommand({ finished: 'o3', leader: 'executor-1', participants: { 'books-database': 'aborted', payment: 'declined' } }));
    ahead.apply(finish);
    plain.apply(finish);
    expect(ahead.snapshot()).toBe(plain.snapshot());
    expect(JSON.parse(ahead.snapshot()).unfinished).toEqual([]);
  });

  it('still restores a snapshot written before two-phase commit (version 1)', () => {
    const old = JSON.stringify({ version: 1, lastApplied: 2, executedTotal: 2, executions: [['a', 'executor-1', 1, 1], ['b', 'executor-1', 1, 2, 'OUT_OF_STOCK', 'no']] });
    const ledger = new ExecutionLedger();
    ledger.restore(old);
    expect(ledger.get('b')?.failure?.code).toBe('OUT_OF_STOCK');
    expect(ledger.unfinished()).toEqual([]);
  });

  it('records the times the entries carry (every replica the same), merging the acknowledgements in at completion', () => {
    const timed = decided('o1', 'commit');
    timed.commit!.times = { prepareStartedAt: 1_000, votedAt: { 'books-database': 1_020, payment: 1_015 }, decidedAt: 1_020 };
    timed.commit!.amountCents = 2_599;
    const ledger = new ExecutionLedger();
    ledger.apply(at(1, encodeCommand(timed)));
    expect(ledger.get('o1')?.commit?.amountCents).toBe(2_599);
    expect(ledger.get('o1')?.commit?.times).toEqual({ prepareStartedAt: 1_000, votedAt: { 'books-database': 1_020, payment: 1_015 }, decidedAt: 1_020 });
    const finished: FinishedCommand = {
      finished: 'o1',
      leader: 'executor-2',
      participants: { 'books-database': 'committed', payment: 'captured' },
      finishedAt: { 'books-database': 1_040, payment: 1_050 },
    };
    ledger.apply(at(2, encodeCommand(finished)));
    const times = { prepareStartedAt: 1_000, votedAt: { 'books-database': 1_020, payment: 1_015 }, decidedAt: 1_020, finishedAt: { 'books-database': 1_040, payment: 1_050 } };
    expect(ledger.get('o1')?.commit?.times).toEqual(times);
    const copy = new ExecutionLedger();
    copy.restore(ledger.snapshot());
    expect(copy.get('o1')?.commit?.times).toEqual(times);
    // An entry logged before times were recorded still decodes, and its completion adds only what it carries.
    ledger.apply(at(3, encodeCommand(decided('o2', 'abort'))));
    ledger.apply(at(4, encodeCommand({ finished: 'o2', leader: 'executor-1', participants: { 'books-database': 'aborted', payment: 'declined' } })));
    expect(ledger.get('o2')?.commit).not.toHaveProperty('times');
  });

  it('refuses malformed times (a broken invariant, not a guess)', () => {
    const timed = decided('o1', 'commit');
    (timed.commit as { times: unknown }).times = { decidedAt: 'soon' };
    expect(() => new ExecutionLedger().apply(at(1, JSON.stringify(timed)))).toThrow(/malformed commit decision/);
    const finished = { finished: 'o1', leader: 'executor-1', participants: {}, finishedAt: { payment: -1 } };
    expect(() => new ExecutionLedger().apply(at(1, JSON.stringify(finished)))).toThrow(/malformed finished command/);
  });

  it('refuses a decision that contradicts its outcome, or an abort without a known reason', () => {
    const commitThatFailed = { ...decided('o1', 'commit'), outcome: { state: 'failed', failure: { code: 'OUT_OF_STOCK', message: '' } } };
    expect(() => new ExecutionLedger().apply(at(1, JSON.stringify(commitThatFailed)))).toThrow(/malformed commit decision/);
    const unknownReason = decided('o1', 'abort');
    (unknownReason.commit as { reason: string }).reason = 'BECAUSE';
    expect(() => new ExecutionLedger().apply(at(1, JSON.stringify(unknownReason)))).toThrow(/malformed commit decision/);
  });
  describe('snapshot encoding (version 3: positions, not keys)', () => {
    /** A ledger with every shape a commit record takes: timed and finished, partly voted, a presumed abort, unfinished. */
    function varied() {
      const ledger = new ExecutionLedger();
      const timed = decided('o1', 'commit');
      timed.commit!.times = { prepareStartedAt: 1_000, votedAt: { 'books-database': 1_020, payment: 1_015 }, decidedAt: 1_020 };
      timed.commit!.amountCents = 2_599;
      ledger.apply(at(1, encodeCommand(timed)));
      ledger.apply(at(2, encodeCommand({ finished: 'o1', leader: 'executor-2', participants: { 'books-database': 'committed', payment: 'captured' }, finishedAt: { payment: 1_050 } })));
      const partly = decided('o2', 'abort');
      partly.commit!.participants = { payment: 'UNAVAILABLE' };
      partly.commit!.times = { prepareStartedAt: 2_000, votedAt: {}, decidedAt: 2_300 };
      ledger.apply(at(3, encodeCommand(partly)));
      const presumed = decided('o3', 'abort');
      presumed.commit!.times = { decidedAt: 3_000 };
      ledger.apply(at(4, encodeCommand(presumed)));
      ledger.apply(at(5, encodeCommand(command('o4'))));
      return ledger;
    }

    it('restores exactly what it captured, with no key names repeated per order', () => {
      const ledger = varied();
      const data = ledger.snapshot();
      expect(JSON.parse(data).version).toBe(3);
      expect(data).not.toMatch(/prepareStartedAt|votedAt|participants|coordinator/);
      const copy = new ExecutionLedger();
      copy.restore(data);
      expect(copy.all()).toEqual(ledger.all());
      expect(copy.unfinished()).toEqual(ledger.unfinished());
      expect(copy.get('o2')?.commit?.times).toEqual({ prepareStartedAt: 2_000, votedAt: {}, decidedAt: 2_300 });
      expect(copy.get('o1')?.commit?.times?.finishedAt).toEqual({ payment: 1_050 });
      expect(copy.snapshot()).toBe(data);
    });

    it('encodes a record again while it can still change: a Finish after one snapshot shows in the next', () => {
      const ledger = new ExecutionLedger();
      ledger.apply(at(1, encodeCommand(decided('o1', 'commit'))));
      ledger.apply(at(2, encodeCommand(command('o2'))));
      const before = ledger.snapshot();
      ledger.apply(at(3, encodeCommand({ finished: 'o1', leader: 'executor-1', participants: { 'books-database': 'committed', payment: 'captured' } })));
      const after = ledger.snapshot();
      expect(ledger.snapshot()).toBe(after);
      const [then, now] = [new ExecutionLedger(), new ExecutionLedger()];
      then.restore(before);
      now.restore(after);
      expect(then.get('o1')?.commit?.finished).toBe(false);
      expect(now.get('o1')?.commit).toMatchObject({ finished: true, participants: { 'books-database': 'committed', payment: 'captured' } });
      expect(now.all()).toEqual(ledger.all());
      expect(now.unfinished()).toEqual([]);
    });

    it('still restores version 2, whose commit records are keyed objects', () => {
      const ledger = varied();
      const v3 = JSON.parse(ledger.snapshot());
      const keyed = (tuple: unknown[]) => (tuple.length > 6 ? [...tuple.slice(0, 6), ledger.get(tuple[0] as string)!.commit] : tuple);
      const v2 = JSON.stringify({ ...v3, version: 2, executions: v3.executions.map(keyed), unfinished: v3.unfinished.map(keyed) });
      const copy = new ExecutionLedger();
      copy.restore(v2);
      expect(copy.all()).toEqual(ledger.all());
      expect(copy.unfinished()).toEqual(ledger.unfinished());
    });

    it('refuses to capture a commit record naming a participant it does not know (a broken invariant)', () => {
      const ledger = varied();
      (ledger.get('o1')!.commit!.participants as Record<string, string>).shipping = 'YES';
      expect(() => ledger.snapshot()).toThrow('a commit record names an unknown participant "shipping"');
    });
  });
});
