import type { Logger } from '../platform/logger';
import type { TimeSource } from '../platform/time';
import { PaymentState, type FinishRequest } from './payment-state';
import { CooperativeTermination, type Decision, type DecisionSource } from './termination';

class FakeClock implements TimeSource {
  constructor(public ms = 0) {}
  now(): number {
    return this.ms;
  }
}

/** Answers each question by hand: the test decides what the executors say and when. */
class FakeDecisions implements DecisionSource {
  readonly asked: string[] = [];
  answers = new Map<string, Decision | Error>();
  decision(txId: string, participant: string): Promise<{ decision: Decision }> {
    expect(participant).toBe('payment');
    this.asked.push(txId);
    const answer = this.answers.get(txId) ?? 'pending';
    return answer instanceof Error ? Promise.reject(answer) : Promise.resolve({ decision: answer });
  }
}

function recordingLogger(): Logger & { lines: { level: string; message: string }[] } {
  const lines: { level: string; message: string }[] = [];
  const at = (level: string) => (message: string) => void lines.push({ level, message });
  return { level: 'debug', isLevelEnabled: () => true, error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug'), lines };
}

function setup() {
  const clock = new FakeClock(1000);
  const state = new PaymentState({ tokens: [{ token: 'tok_1', maskedCard: '**** 4242', declined: false, createdAtMs: 0 }], txs: [], fence: 0 });
  const hold = (txId: string) => state.prepareBatch([{ txId, token: 'tok_1', amountCents: 500, term: 1 }], clock.now());
  const finished: FinishRequest[][] = [];
  const ledger = {
    state,
    finishBatch: (requests: readonly FinishRequest[]) => {
      finished.push([...requests]);
      return state.finishBatch(requests, clock.now()).records;
    },
  };
  const decisions = new FakeDecisions();
  const logger = recordingLogger();
  const termination = new CooperativeTermination(ledger, decisions, clock, logger, { timeoutMs: 10_000, retryMs: 1000 });
  return { clock, state, hold, decisions, logger, termination, finished };
}

describe('cooperative termination', () => {
  it('asks nothing before a hold has waited the decision timeout', async () => {
    const { clock, hold, decisions, termination } = setup();
    hold('ord_1');
    clock.ms += 9_999;
    expect(await termination.tick()).toEqual([]);
    expect(decisions.asked).toEqual([]);
  });

  it('captures a hold the executors say was committed, and voids one they say was aborted', async () => {
    const { clock, state, hold, decisions, termination } = setup();
    hold('ord_1');
    hold('ord_2');
    decisions.answers.set('ord_1', 'commit');
    decisions.answers.set('ord_2', 'abort');
    clock.ms += 10_000;
    const applied = await termination.tick();
    expect(applied.map((r) => [r.txId, r.state])).toEqual([
      ['ord_1', 'captured'],
      ['ord_2', 'voided'],
    ]);
    expect(state.tx('ord_1')?.state).toBe('captured');
    expect(state.held()).toEqual([]);
  });

  it('keeps holding on "pending" and asks again after the retry interval, not before', async () => {
    const { clock, state, hold, decisions, termination } = setup();
    hold('ord_1');
    clock.ms += 10_000;
    await termination.tick();
    expect(decisions.asked).toEqual(['ord_1']);
    expect(state.tx('ord_1')?.state).toBe('held');
    clock.ms += 999;
    await termination.tick();
    expect(decisions.asked).toEqual(['ord_1']);
    clock.ms += 1;
    decisions.answers.set('ord_1', 'commit');
    await termination.tick();
    expect(decisions.asked).toEqual(['ord_1', 'ord_1']);
    expect(state.tx('ord_1')?.state).toBe('captured');
  });

  it('treats an unreachable executor cluster as pending, and warns', async () => {
    const { clock, state, hold, decisions, logger, termination } = setup();
    hold('ord_1');
    decisions.answers.set('ord_1', new Error('UNAVAILABLE: no executor answered'));
    clock.ms += 10_000;
    expect(await termination.tick()).toEqual([]);
    expect(state.tx('ord_1')?.state).toBe('held');
    expect(logger.lines).toContainEqual({ level: 'warn', message: expect.stringContaining('could not ask the executors') });
  });

  it('stops asking once the coordinator itself finished the transaction', async () => {
    const { clock, state, hold, decisions, termination } = setup();
    hold('ord_1');
    clock.ms += 10_000;
    await termination.tick();
    state.finishBatch([{ txId: 'ord_1', commit: false }], clock.now());
    clock.ms += 5_000;
    await termination.tick();
    expect(decisions.asked).toEqual(['ord_1']);
  });

  it('refuses, and logs as an error, an answer that contradicts a decision applied here, without blocking the others', async () => {
    const { clock, state, hold, decisions, logger, termination } = setup();
    hold('ord_1');
    hold('ord_2');
    clock.ms += 10_000;
    // ord_1 is due, then committed by the coordinator while the question is in flight; the executors answer abort.
    const slow = new Promise<{ decision: Decision }>((resolve) => setTimeout(() => resolve({ decision: 'abort' }), 5));
    decisions.decision = (txId: string) => {
      decisions.asked.push(txId);
      return txId === 'ord_1' ? slow : Promise.resolve({ decision: 'commit' });
    };
    const round = termination.tick();
    state.finishBatch([{ txId: 'ord_1', commit: true }], clock.now());
    const applied = await round;
    expect(applied.map((r) => r.txId)).toEqual(['ord_2']);
    expect(state.tx('ord_1')?.state).toBe('captured');
    expect(logger.lines).toContainEqual({ level: 'error', message: expect.stringContaining('an abort after a commit') });
  });

  it('runs one round at a time', async () => {
    const { clock, hold, decisions, termination } = setup();
    hold('ord_1');
    clock.ms += 10_000;
    let release!: (d: { decision: Decision }) => void;
    decisions.decision = (txId: string) => {
      decisions.asked.push(txId);
      return new Promise((r) => (release = r));
    };
    const first = termination.tick();
    clock.ms += 5_000;
    expect(await termination.tick()).toEqual([]);
    release({ decision: 'commit' });
    expect((await first).map((r) => r.state)).toEqual(['captured']);
    expect(decisions.asked).toEqual(['ord_1']);
  });
});
