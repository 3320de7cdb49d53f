import { summarizeSale, type Buyer, type SaleObservations } from './flash-sale';

const T0 = 1_000_000;

/** A buyer sent at T0 + `sentMs`, answered 100 ms later, whose order ended as `end` (decided at T0 + `decidedMs`). */
function buyer(end: 'executed' | 'OUT_OF_STOCK' | 'PAYMENT_DECLINED' | 'undecided' | 'rejected', sentMs = 0, decidedMs = 500): Buyer {
  if (end === 'rejected') return { outcome: 'rejected: CARD_INVALID', sentAt: T0 + sentMs, answeredAt: T0 + sentMs + 100 };
  const b: Buyer = { outcome: 'approved', sentAt: T0 + sentMs, answeredAt: T0 + sentMs + 100, orderId: `o-${Math.random()}` };
  if (end === 'undecided') return b;
  const timeline = [{ step: 'decision', at: T0 + decidedMs }];
  b.final = end === 'executed' ? { state: 'executed', commit: { timeline } } : { state: 'failed', failure: { code: end }, commit: { timeline } };
  return b;
}

function sale(buyers: Buyer[], stockBefore: number, stockAfter: number, extra: Partial<SaleObservations> = {}): SaleObservations {
  return { book: { bookId: 'bk-001', title: 'The Hobbit' }, quantity: 1, stockBefore, stockAfter, startedAt: T0, endedAt: T0 + 2000, buyers, cores: 2, ...extra };
}

describe('summarizeSale', () => {
  it('passes a sale that sold exactly its stock and refused the rest', () => {
    const r = summarizeSale(
      sale([buyer('executed', 0, 300), buyer('executed', 0, 900), buyer('OUT_OF_STOCK', 0, 1000), buyer('rejected')], 2, 0, {
        cpuMs: { orchestrator: 1000, 'executor-1': 300 },
      }),
    );
    expect(r).toMatchObject({
      copiesSold: 2,
      oversold: 0,
      stockAccounted: true,
      refusedWhileLeft: 0,
      undecided: 0,
      lastCopyMs: 900,
      allDecidedMs: 1000,
      decisionsPerSecond: 3,
      ok: true,
    });
    expect(r.answers).toEqual([
      ['approved', 3],
      ['rejected: CARD_INVALID', 1],
    ]);
    expect(r.endings).toEqual([
      ['executed', 2],
      ['failed: OUT_OF_STOCK', 1],
    ]);
    expect(r.checkoutMs).toEqual({ p50: 100, p99: 100, max: 100 });
    expect(r.decidedMs).toEqual({ p50: 900, p99: 1000, max: 1000 });
    // 1,000 ms of CPU over a 2,000 ms sale is half a core; 1,300 ms over 2 cores × 2,000 ms is a third of the box.
    expect(r.cpu).toEqual([
      { process: 'orchestrator', ms: 1000, coreShare: 50 },
      { process: 'executor-1', ms: 300, coreShare: 15 },
    ]);
    expect(r.boxShare).toBe(33);
  });

  it('fails an oversold sale, and one whose stock does not add up', () => {
    const oversold = summarizeSale(sale([buyer('executed'), buyer('executed'), buyer('executed')], 2, 0));
    expect({ copiesSold: oversold.copiesSold, oversold: oversold.oversold, stockAccounted: oversold.stockAccounted, ok: oversold.ok }).toEqual({
      copiesSold: 3,
      oversold: 1,
      stockAccounted: false,
      ok: false,
    });
    const lostCopy = summarizeSale(sale([buyer('executed')], 3, 1));
    expect({ stockAccounted: lostCopy.stockAccounted, ok: lostCopy.ok }).toEqual({ stockAccounted: false, ok: false });
  });

  it('fails a refusal while copies were left, unless another order held them until it failed', () => {
    const wrong = summarizeSale(sale([buyer('executed'), buyer('OUT_OF_STOCK')], 3, 2));
    expect({ refusedWhileLeft: wrong.refusedWhileLeft, ok: wrong.ok }).toEqual({ refusedWhileLeft: 1, ok: false });
    const held = summarizeSale(sale([buyer('executed'), buyer('PAYMENT_DECLINED'), buyer('OUT_OF_STOCK')], 2, 1));
    expect({ refusedWhileLeft: held.refusedWhileLeft, otherFailures: held.otherFailures, ok: held.ok }).toEqual({ refusedWhileLeft: 1, otherFailures: 1, ok: true });
  });

  it('counts all-or-nothing orders: one copy left is no refusal of a two-copy order', () => {
    const r = summarizeSale(sale([buyer('executed'), buyer('executed'), buyer('OUT_OF_STOCK')], 5, 1, { quantity: 2 }));
    expect({ copiesSold: r.copiesSold, stockAccounted: r.stockAccounted, refusedWhileLeft: r.refusedWhileLeft, ok: r.ok }).toEqual({
      copiesSold: 4,
      stockAccounted: true,
      refusedWhileLeft: 0,
      ok: true,
    });
  });

  it('fails a sale with an order left undecided or a buyer left unanswered', () => {
    expect(summarizeSale(sale([buyer('executed'), buyer('undecided')], 1, 0)).ok).toBe(false);
    const unanswered: Buyer = { outcome: 'no answer', sentAt: T0, answeredAt: T0 + 60_000 };
    expect(summarizeSale(sale([buyer('executed'), unanswered], 1, 0)).ok).toBe(false);
  });
});
