import { createLogger } from '../platform/logger';
import type { CheckoutResult } from './api-types';
import { OrderReconciler, type ExecutionLookup } from './order-reconciler';
import { OrderStore, type Execution } from './order-store';

const logger = createLogger('test', 'error');

const approved = (orderId: string): CheckoutResult => ({
  orderId,
  status: 'Order Approved',
  state: 'queued',
  suggestedBooks: [],
  traceId: null,
  events: [],
});

const executedAt = (index: number): Execution => ({ executor: 'executor-1', term: 2, index });

/** A store holding queued orders ord_00… answered one millisecond apart, so their age order is their id order. */
async function storeWith(count: number): Promise<OrderStore> {
  const time = { at: 1000, now: () => time.at };
  const store = OrderStore.open(':memory:', { retentionMs: 1e12, time });
  for (let i = 0; i < count; i++) {
    await store.put(approved(`ord_${String(i).padStart(2, '0')}`));
    time.at++;
  }
  return store;
}

/** A cluster that has executed the given ids, recording every lookup it is asked. */
function cluster(executed: Map<string, Execution>) {
  const calls: string[][] = [];
  const lookup: ExecutionLookup = async (ids) => {
    calls.push([...ids]);
    return new Map(ids.flatMap((id) => (executed.has(id) ? [[id, executed.get(id)!] as const] : [])));
  };
  return { calls, lookup };
}

const ids = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => `ord_${String(from + i).padStart(2, '0')}`);

describe('OrderReconciler', () => {
  it('asks for the oldest queued orders, one lookup per batch, and records the executed ones', async () => {
    const store = await storeWith(5);
    const executed = new Map([['ord_00', executedAt(7)], ['ord_03', executedAt(9)]]);
    const { calls, lookup } = cluster(executed);
    const reconciler = new OrderReconciler(store, lookup, logger, { intervalMs: 1000, batch: 2, batchesPerPass: 10 });

    expect(await reconciler.reconcile()).toBe(2);
    expect(calls).toEqual([ids(0, 2), ids(2, 4), ids(4, 5)]);
    expect(store.get('ord_00')).toMatchObject({ state: 'executed', execution: executedAt(7) });
    expect(store.get('ord_03')).toMatchObject({ state: 'executed', execution: executedAt(9) });
    expect(store.get('ord_01')!.state).toBe('queued');

    // Executed ones are no longer asked about.
    calls.length = 0;
    executed.set('ord_01', executedAt(8));
    expect(await reconciler.reconcile()).toBe(1);
    expect(calls).toEqual([['ord_01', 'ord_02'], ['ord_04']]);
    await store.close();
  });

  it('asks nothing when nothing is queued', async () => {
    const store = await storeWith(0);
    const { calls, lookup } = cluster(new Map());
    const reconciler = new OrderReconciler(store, lookup, logger, { intervalMs: 1000, batch: 2, batchesPerPass: 10 });
    expect(await reconciler.reconcile()).toBe(0);
    expect(calls).toEqual([]);
    await store.close();
  });

  it('continues a long backlog where the last pass stopped, so unexecuted old orders do not starve newer ones', async () => {
    const store = await storeWith(6);
    const { calls, lookup } = cluster(new Map([['ord_05', executedAt(12)]]));
    const reconciler = new OrderReconciler(store, lookup, logger, { intervalMs: 1000, batch: 2, batchesPerPass: 2 });

    expect(await reconciler.reconcile()).toBe(0);
    expect(await reconciler.reconcile()).toBe(1);
    // Then from the oldest again.
    expect(await reconciler.reconcile()).toBe(0);
    expect(calls).toEqual([ids(0, 2), ids(2, 4), ids(4, 6), ids(0, 2), ids(2, 4)]);
    expect(store.get('ord_05')!.state).toBe('executed');
    await store.close();
  });

  it('ends a pass when the cluster cannot be asked, and tries the same orders next time', async () => {
    const store = await storeWith(3);
    let down = true;
    const calls: string[][] = [];
    const lookup: ExecutionLookup = async (asked) => {
      calls.push([...asked]);
      if (down) throw new Error('no replica answered');
      return new Map(asked.map((id, i) => [id, executedAt(i + 1)]));
    };
    const reconciler = new OrderReconciler(store, lookup, logger, { intervalMs: 1000, batch: 2, batchesPerPass: 10 });
    expect(await reconciler.reconcile()).toBe(0);
    down = false;
    expect(await reconciler.reconcile()).toBe(3);
    expect(calls).toEqual([ids(0, 2), ids(0, 2), ids(2, 3)]);
    await store.close();
  });

  it('runs a pass every interval once started, never two at once, and no more after stop', async () => {
    const store = await storeWith(1);
    jest.useFakeTimers();
    try {
      let release!: () => void;
      const passes: string[][] = [];
      const lookup: ExecutionLookup = async (asked) => {
        passes.push([...asked]);
        await new Promise<void>((r) => (release = r));
        return new Map();
      };
      const reconciler = new OrderReconciler(store, lookup, logger, { intervalMs: 1000, batch: 10, batchesPerPass: 1 });
      reconciler.start();
      await jest.advanceTimersByTimeAsync(999);
      expect(passes).toHaveLength(0);
      await jest.advanceTimersByTimeAsync(1);
      expect(passes).toHaveLength(1);
      // A slow lookup holds the next pass back.
      await jest.advanceTimersByTimeAsync(5000);
      expect(passes).toHaveLength(1);
      release();
      await jest.advanceTimersByTimeAsync(1000);
      expect(passes).toHaveLength(2);
      release();
      reconciler.stop();
      await jest.advanceTimersByTimeAsync(5000);
      expect(passes).toHaveLength(2);
    } finally {
      jest.useRealTimers();
      await store.close();
    }
  });
});
