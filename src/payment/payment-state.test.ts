import { seededRandom } from '../raft/random';
import { TokenSeal } from './token-seal';
import { DecisionConflict, PaymentState, type Change, type PaymentSnapshot, type PrepareAnswer, type TokenRecord, type TxRecord } from './payment-state';

const good: TokenRecord = { token: 'tok_good', maskedCard: '**** 4242', declined: false, createdAtMs: 1 };
const bad: TokenRecord = { token: 'tok_bad', maskedCard: '**** 0002', declined: true, createdAtMs: 1 };

/** A state holding two tokens stored before tokens were sealed, as PaymentStore.load() gives them back. */
function withTokens(): PaymentState {
  return new PaymentState({ tokens: [good, bad], txs: [], fence: 0 });
}

const prepare = (state: PaymentState, txId: string, token = good.token, amountCents = 2500, term = 1, now = 100) =>
  state.prepareBatch([{ txId, token, amountCents, term }], now);
const vote = (state: PaymentState, txId: string, token = good.token, amountCents = 2500, term = 1) => prepare(state, txId, token, amountCents, term).answers[0].vote;
const finish = (state: PaymentState, txId: string, commit: boolean, now = 200) => state.finishBatch([{ txId, commit }], now);

/** A store's view: its stored tokens, and the changes applied to maps, as PaymentStore applies them to its tables. */
class ChangeLog {
  readonly tokens: ReadonlyMap<string, TokenRecord>;
  txs = new Map<string, TxRecord>();
  fence = 0;
  constructor(tokens: readonly TokenRecord[] = []) {
    this.tokens = new Map(tokens.map((t) => [t.token, { ...t }]));
  }
  apply(changes: readonly Change[]): void {
    for (const c of changes) {
      if (c.kind === 'tx') this.txs.set(c.tx.txId, { ...c.tx });
      else this.fence = c.term;
    }
  }
  snapshot(): PaymentSnapshot {
    return { tokens: [...this.tokens.values()], txs: [...this.txs.values()], fence: this.fence };
  }
}

describe('Prepare: the vote', () => {
  it('holds the amount of a good card and votes YES, recording the hold', () => {
    const state = withTokens();
    const { answers, changes } = prepare(state, 'ord_1');
    expect(answers).toEqual([{ vote: 'YES', message: 'held 2500 cents' }]);
    expect(state.tx('ord_1')).toMatchObject({ state: 'held', amountCents: 2500, maskedCard: '**** 4242', term: 1, preparedAtMs: 100 });
    expect(changes).toContainEqual({ kind: 'tx', tx: state.tx('ord_1') });
    expect(state.stats()).toMatchObject({ held: 1, heldCents: 2500 });
  });

  it('votes DECLINED for a card on the decline list, and records the transaction declined', () => {
    const state = withTokens();
    expect(vote(state, 'ord_1', bad.token)).toBe('DECLINED');
    expect(state.tx('ord_1')?.state).toBe('declined');
    expect(state.stats()).toMatchObject({ declined: 1, held: 0 });
  });

  it('answers UNKNOWN_TOKEN for a token never issued, recording nothing', () => {
    const state = withTokens();
    const { answers, changes } = prepare(state, 'ord_1', 'tok_nope');
    expect(answers[0].vote).toBe('UNKNOWN_TOKEN');
    expect(changes).toEqual([{ kind: 'fence', term: 1 }]);
    expect(state.tx('ord_1')).toBeUndefined();
  });

  it('reads sealed tokens: the hold takes the masked card from the token; another key\'s token is UNKNOWN_TOKEN', () => {
    const seal = new TokenSeal(Buffer.alloc(32, 1));
    const state = new PaymentState(undefined, seal);
    const goodToken = seal.seal({ maskedCard: '**** 4242', declined: false, createdAtMs: 1 });
    const badToken = seal.seal({ maskedCard: '**** 0002', declined: true, createdAtMs: 1 });
    const foreign = new TokenSeal(Buffer.alloc(32, 2)).seal({ maskedCard: '**** 4242', declined: false, createdAtMs: 1 });
    expect(vote(state, 'ord_1', goodToken)).toBe('YES');
    expect(state.tx('ord_1')).toMatchObject({ state: 'held', maskedCard: '**** 4242', token: goodToken });
    expect(vote(state, 'ord_2', badToken)).toBe('DECLINED');
    expect(vote(state, 'ord_3', foreign)).toBe('UNKNOWN_TOKEN');
    expect(state.tx('ord_3')).toBeUndefined();
    expect(state.snapshot().tokens).toEqual([]);
  });

  it('gives a retried Prepare the same vote, and changes nothing the second time', () => {
    const state = withTokens();
    expect(vote(state, 'ord_1')).toBe('YES');
    const again = prepare(state, 'ord_1');
    expect(again.answers[0].vote).toBe('YES');
    expect(again.changes).toEqual([]);
    expect(vote(state, 'ord_2', bad.token)).toBe('DECLINED');
    expect(vote(state, 'ord_2', bad.token)).toBe('DECLINED');
    expect(state.stats()).toMatchObject({ held: 1, heldCents: 2500, declined: 1 });
  });

  it('answers a Prepare of a committed transaction YES, and of an aborted one ABORTED', () => {
    const state = withTokens();
    vote(state, 'ord_1');
    finish(state, 'ord_1', true);
    expect(vote(state, 'ord_1')).toBe('YES');
    vote(state, 'ord_2');
    finish(state, 'ord_2', false);
    expect(vote(state, 'ord_2')).toBe('ABORTED');
  });

  it('refuses a Prepare with another amount or token than the recorded one, whole batch, nothing applied', () => {
    const state = withTokens();
    vote(state, 'ord_1');
    expect(() => prepare(state, 'ord_1', good.token, 9999)).toThrow(DecisionConflict);
    expect(() => state.prepareBatch([{ txId: 'ord_2', token: good.token, amountCents: 1, term: 1 }, { txId: 'ord_1', token: bad.token, amountCents: 2500, term: 1 }], 0)).toThrow(
      /ord_1/,
    );
    expect(state.tx('ord_2')).toBeUndefined();
    expect(() => state.prepareBatch([{ txId: 'ord_3', token: good.token, amountCents: 1, term: 1 }, { txId: 'ord_3', token: good.token, amountCents: 2, term: 1 }], 0)).toThrow(
      DecisionConflict,
    );
    expect(state.tx('ord_3')).toBeUndefined();
  });
});

describe('the fence: the highest coordinator term seen', () => {
  it('answers a Prepare with a lower term STALE_TERM and holds nothing', () => {
    const state = withTokens();
    expect(vote(state, 'ord_1', good.token, 100, 5)).toBe('YES');
    expect(state.fence).toBe(5);
    const stale = prepare(state, 'ord_2', good.token, 100, 4);
    expect(stale.answers[0]).toEqual({ vote: 'STALE_TERM', message: 'term 4 is below the highest coordinator term seen, 5' });
    expect(stale.changes).toEqual([]);
    expect(state.tx('ord_2')).toBeUndefined();
    // Even a retry of a transaction held earlier: that coordinator has been deposed.
    expect(vote(state, 'ord_1', good.token, 100, 4)).toBe('STALE_TERM');
  });

  it('raises the fence on a higher term, durably (a change), and lets term 0 through unfenced', () => {
    const state = withTokens();
    vote(state, 'ord_1', good.token, 100, 2);
    expect(prepare(state, 'ord_2', good.token, 100, 3).changes).toContainEqual({ kind: 'fence', term: 3 });
    expect(vote(state, 'ord_3', good.token, 100, 0)).toBe('YES');
    expect(state.fence).toBe(3);
  });
});

describe('Finish: the decision', () => {
  it('captures a hold on commit, for the amount held', () => {
    const state = withTokens();
    vote(state, 'ord_1');
    const { records } = finish(state, 'ord_1', true, 300);
    expect(records[0]).toMatchObject({ txId: 'ord_1', state: 'captured', amountCents: 2500, updatedAtMs: 300 });
    expect(state.stats()).toMatchObject({ captured: 1, capturedCents: 2500, held: 0, heldCents: 0 });
  });

  it('voids a hold on abort', () => {
    const state = withTokens();
    vote(state, 'ord_1');
    expect(finish(state, 'ord_1', false).records[0].state).toBe('voided');
    expect(state.stats()).toMatchObject({ voided: 1, captured: 0, held: 0 });
  });

  it('records the abort of a transaction never prepared, so a late Prepare holds nothing', () => {
    const state = withTokens();
    expect(finish(state, 'ord_1', false).records[0]).toMatchObject({ state: 'aborted', amountCents: 0 });
    const late = prepare(state, 'ord_1');
    expect(late.answers[0].vote).toBe('ABORTED');
    expect(state.tx('ord_1')?.state).toBe('aborted');
    expect(state.stats().held).toBe(0);
  });

  it('keeps a declined transaction declined on abort', () => {
    const state = withTokens();
    vote(state, 'ord_1', bad.token);
    expect(finish(state, 'ord_1', false).records[0].state).toBe('declined');
  });

  it('is idempotent: a retried decision changes nothing', () => {
    const state = withTokens();
    vote(state, 'ord_1');
    finish(state, 'ord_1', true, 300);
    const again = finish(state, 'ord_1', true, 400);
    expect(again.changes).toEqual([]);
    expect(again.records[0]).toMatchObject({ state: 'captured', updatedAtMs: 300 });
    expect(state.stats()).toMatchObject({ captured: 1, capturedCents: 2500 });
  });

  it.each([
    ['a commit after an abort', (s: PaymentState) => (vote(s, 'ord_1'), finish(s, 'ord_1', false)), true, 'voided'],
    ['an abort after a commit', (s: PaymentState) => (vote(s, 'ord_1'), finish(s, 'ord_1', true)), false, 'captured'],
    ['a commit of a transaction never prepared', () => undefined, true, undefined],
    ['a commit of a declined transaction', (s: PaymentState) => vote(s, 'ord_1', bad.token), true, 'declined'],
    ['a commit after a presumed abort', (s: PaymentState) => finish(s, 'ord_1', false), true, 'aborted'],
  ])('refuses %s, changing nothing', (_, setup, commit, stateAfter) => {
    const state = withTokens();
    setup(state);
    expect(() => finish(state, 'ord_1', commit)).toThrow(DecisionConflict);
    expect(state.tx('ord_1')?.state).toBe(stateAfter);
  });

  it('refuses a batch that commits and aborts one transaction, or holds a conflict anywhere, before applying any of it', () => {
    const state = withTokens();
    vote(state, 'ord_1');
    vote(state, 'ord_2');
    expect(() => state.finishBatch([{ txId: 'ord_1', commit: true }, { txId: 'ord_1', commit: false }], 0)).toThrow(/both committed and aborted/);
    expect(() => state.finishBatch([{ txId: 'ord_1', commit: true }, { txId: 'ord_9', commit: true }], 0)).toThrow(/ord_9/);
    expect(state.tx('ord_1')?.state).toBe('held');
  });
});

describe('cooperative termination: who is due to ask', () => {
  it('names held transactions once they have waited the timeout, then again only after the retry interval', () => {
    const state = withTokens();
    prepare(state, 'ord_1', good.token, 1, 1, 1000);
    prepare(state, 'ord_2', good.token, 1, 1, 3000);
    expect(state.dueForDecision(10_999, 10_000, 2000)).toEqual([]);
    expect(state.dueForDecision(11_000, 10_000, 2000)).toEqual(['ord_1']);
    expect(state.dueForDecision(12_999, 10_000, 2000)).toEqual([]);
    expect(state.dueForDecision(13_000, 10_000, 2000)).toEqual(['ord_1', 'ord_2']);
    finish(state, 'ord_1', true);
    expect(state.dueForDecision(20_000, 10_000, 2000)).toEqual(['ord_2']);
  });
});

describe('restoring from the recorded changes', () => {
  it('rebuilds the same records, fence and counts', () => {
    const state = withTokens();
    const log = new ChangeLog([good, bad]);
    log.apply(prepare(state, 'ord_1', good.token, 100, 3).changes);
    log.apply(prepare(state, 'ord_2', bad.token, 200, 3).changes);
    log.apply(prepare(state, 'ord_3', good.token, 300, 4).changes);
    log.apply(finish(state, 'ord_1', true).changes);
    log.apply(finish(state, 'ord_4', false).changes);
    const restored = new PaymentState(log.snapshot());
    expect(sortSnapshot(restored.snapshot())).toEqual(sortSnapshot(state.snapshot()));
    expect(restored.stats()).toEqual(state.stats());
  });
});

function sortSnapshot(s: PaymentSnapshot): PaymentSnapshot {
  return { fence: s.fence, tokens: [...s.tokens].sort((a, b) => a.token.localeCompare(b.token)), txs: [...s.txs].sort((a, b) => a.txId.localeCompare(b.txId)) };
}

/**
 * A correct coordinator and a faulty network: every message may be delayed, reordered, duplicated or lost (and
 * resent), the coordinator fails over to a higher term, and the participant restarts from what it recorded. At
 * every step the participant's records must stay consistent with the decisions and with each other.
 */
describe('seeded simulation: retried, duplicated and reordered Prepare and Finish', () => {
  type Message = { kind: 'prepare'; txId: string; term: number } | { kind: 'finish'; txId: string; commit: boolean };

  function run(seed: number, steps: number): void {
    const random = seededRandom(seed);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)];
    const log = new ChangeLog([good, bad]);
    let state = new PaymentState(log.snapshot());

    const txIds = Array.from({ length: 12 }, (_, i) => `ord_${i}`);
    const plan = new Map(txIds.map((id, i) => [id, { token: i % 5 === 4 ? bad.token : i % 7 === 6 ? 'tok_unknown' : good.token, amountCents: 100 * (i + 1) }]));
    const decisions = new Map<string, boolean>();
    const yesVotes = new Set<string>();
    const firstVote = new Map<string, PrepareAnswer['vote']>();
    const firstHeld = new Map<string, number>();
    const terminal = new Map<string, TxRecord['state']>();
    let term = 1;
    let now = 0;
    const network: Message[] = [];

    const check = (where: string, rebuildCheck = true) => {
      // Plain checks inside the loop (thousands of them); a broken one names the seed and the step to replay.
      const broken = (what: string) => {
        throw new Error(`seed ${seed}, ${where}: ${what}`);
      };
      let held = 0;
      let capturedCents = 0;
      for (const id of txIds) {
        const tx = state.tx(id);
        if (!tx) continue;
        const decision = decisions.get(id);
        if (tx.state === 'captured') {
          if (decision !== true) broken(`${id} captured without a commit decision`);
          if (tx.amountCents !== firstHeld.get(id)) broken(`${id} captured ${tx.amountCents}, held ${firstHeld.get(id)}`);
          capturedCents += tx.amountCents;
        }
        if ((tx.state === 'voided' || tx.state === 'aborted') && decision !== false) broken(`${id} ${tx.state} without an abort decision`);
        if (tx.state === 'held') {
          held++;
          if (tx.amountCents !== firstHeld.get(id)) broken(`${id} holds ${tx.amountCents}, first held ${firstHeld.get(id)}`);
        }
        // A final state never changes (never both captured and voided).
        const was = terminal.get(id);
        if (was && tx.state !== was) broken(`${id} went from ${was} to ${tx.state}`);
        if (!was && tx.state !== 'held') terminal.set(id, tx.state);
      }
      const stats = state.stats();
      if (held !== stats.held || capturedCents !== stats.capturedCents) broken(`counts ${JSON.stringify(stats)} disagree with the records`);
      // What was recorded is enough to rebuild exactly this state.
      if (rebuildCheck && JSON.stringify(sortSnapshot(new PaymentState(log.snapshot()).snapshot())) !== JSON.stringify(sortSnapshot(state.snapshot()))) {
        broken('the recorded changes rebuild another state');
      }
    };

    const deliver = (m: Message) => {
      now += 1;
      if (m.kind === 'prepare') {
        const p = plan.get(m.txId)!;
        const { answers, changes } = state.prepareBatch([{ txId: m.txId, token: p.token, amountCents: p.amountCents, term: m.term }], now);
        log.apply(changes);
        const v = answers[0].vote;
        if (v === 'STALE_TERM') {
          if (m.term >= state.fence) throw new Error(`seed ${seed}: STALE_TERM for term ${m.term}, fence ${state.fence}`);
          return;
        }
        if (v === 'YES' || v === 'DECLINED' || v === 'ABORTED') {
          const first = firstVote.get(m.txId);
          // The same vote on every retry, until an abort voids the hold: a Prepare after it is answered ABORTED.
          const voidedSince = first === 'YES' && v === 'ABORTED' && decisions.get(m.txId) === false;
          if (first && first !== v && !voidedSince) throw new Error(`seed ${seed}: ${m.txId} voted ${first} then ${v}`);
          if (!first) firstVote.set(m.txId, v);
        }
        if (v === 'YES') {
          if (!firstHeld.has(m.txId)) firstHeld.set(m.txId, p.amountCents);
          // The vote reaches the coordinator, or is lost.
          if (random() < 0.8) yesVotes.add(m.txId);
        }
      } else {
        const { changes } = state.finishBatch([{ txId: m.txId, commit: m.commit }], now);
        log.apply(changes);
      }
    };

    for (let step = 0; step < steps; step++) {
      const r = random();
      const undecided = txIds.filter((id) => !decisions.has(id));
      if (r < 0.25 && undecided.length > 0) {
        network.push({ kind: 'prepare', txId: pick(undecided), term });
      } else if (r < 0.55 && network.length > 0) {
        // Any message in flight, not necessarily the oldest; sometimes it stays in flight to be delivered again.
        const i = Math.floor(random() * network.length);
        const m = network[i];
        if (random() < 0.7) network.splice(i, 1);
        deliver(m);
      } else if (r < 0.65 && undecided.length > 0) {
        // The coordinator decides: commit only on a YES vote it received; abort any time (presumed abort).
        const id = pick(undecided);
        const commit = yesVotes.has(id) && random() < 0.8;
        decisions.set(id, commit);
        network.push({ kind: 'finish', txId: id, commit });
      } else if (r < 0.8 && decisions.size > 0) {
        // A Finish resent (the coordinator did not hear back).
        const id = pick([...decisions.keys()]);
        network.push({ kind: 'finish', txId: id, commit: decisions.get(id)! });
      } else if (r < 0.85) {
        term += 1;
      } else if (r < 0.9) {
        // The participant restarts on what it recorded.
        state = new PaymentState(log.snapshot());
      } else if (r < 0.93 && network.length > 0) {
        network.splice(Math.floor(random() * network.length), 1);
      }
      check(`step ${step}`);
    }
    // Healing: every undecided transaction is aborted, every decision delivered; then nothing stays held.
    for (const id of txIds) if (!decisions.has(id)) decisions.set(id, false);
    for (const [id, commit] of decisions) deliver({ kind: 'finish', txId: id, commit });
    check('after healing');
    expect({ seed, held: state.held().map((t) => t.txId) }).toEqual({ seed, held: [] });
    for (const [id, commit] of decisions) {
      const s = state.tx(id)?.state;
      if (commit) expect({ seed, id, s }).toEqual({ seed, id, s: 'captured' });
      else expect({ seed, id, ok: s === 'voided' || s === 'aborted' || s === 'declined' }).toEqual({ seed, id, ok: true });
    }
  }

  it.each(Array.from({ length: 40 }, (_, i) => i + 1))('seed %i keeps every invariant', (seed) => run(seed, 400));
});
