import type { QueuedOrder } from '../gen/causeway/v1/order_queue';
import { EnqueueBatcher } from './enqueue-batcher';

const order = (orderId: string): QueuedOrder => ({
  orderId,
  shippingMethod: 'Standard',
  items: [],
  customerName: 'Ada',
  maskedCard: '**** 1111',
  traceparent: '',
  enqueuedAtMs: 0,
  paymentToken: '',
  amountCents: 0,
});

/** A queue whose calls the test answers by hand. */
function manualQueue() {
  const calls: { ids: string[]; answer: (duplicate: boolean[]) => void; fail: (err: Error) => void }[] = [];
  const send = (orders: QueuedOrder[]) =>
    new Promise<boolean[]>((resolve, reject) => calls.push({ ids: orders.map((o) => o.orderId), answer: resolve, fail: reject }));
  return { calls, send };
}

const turn = () => new Promise((r) => setImmediate(r));

describe('EnqueueBatcher', () => {
  it('sends an order alone and at once when nothing else is waiting', async () => {
    const { calls, send } = manualQueue();
    const batcher = new EnqueueBatcher(send, { maxBatch: 10, maxInFlight: 1 });
    const done = batcher.enqueue(order('a'));
    await turn();
    expect(calls.map((c) => c.ids)).toEqual([['a']]);
    calls[0].answer([false]);
    await expect(done).resolves.toBe(false);
  });

  it('coalesces orders of the same turn, and those arriving while calls are out, into one call each', async () => {
    const { calls, send } = manualQueue();
    const batcher = new EnqueueBatcher(send, { maxBatch: 10, maxInFlight: 1 });
    const first = ['a', 'b', 'c'].map((id) => batcher.enqueue(order(id)));
    await turn();
    const second = ['d', 'e'].map((id) => batcher.enqueue(order(id)));
    await turn();
    // One call is out: d and e wait for it.
    expect(calls.map((c) => c.ids)).toEqual([['a', 'b', 'c']]);
    calls[0].answer([false, true, false]);
    await expect(Promise.all(first)).resolves.toEqual([false, true, false]);
    await turn();
    expect(calls.map((c) => c.ids)).toEqual([['a', 'b', 'c'], ['d', 'e']]);
    calls[1].answer([false, false]);
    await expect(Promise.all(second)).resolves.toEqual([false, false]);
  });

  it('splits at maxBatch and keeps up to maxInFlight calls out', async () => {
    const { calls, send } = manualQueue();
    const batcher = new EnqueueBatcher(send, { maxBatch: 2, maxInFlight: 2 });
    const all = ['a', 'b', 'c', 'd', 'e'].map((id) => batcher.enqueue(order(id)));
    await turn();
    expect(calls.map((c) => c.ids)).toEqual([['a', 'b'], ['c', 'd']]);
    calls[1].answer([false, false]);
    await turn();
    await turn();
    expect(calls.map((c) => c.ids)).toEqual([['a', 'b'], ['c', 'd'], ['e']]);
    calls[0].answer([false, false]);
    calls[2].answer([true]);
    await expect(Promise.all(all)).resolves.toEqual([false, false, false, false, true]);
  });

  it('fails every order of a failed call, and carries on with the next', async () => {
    const { calls, send } = manualQueue();
    const batcher = new EnqueueBatcher(send, { maxBatch: 10, maxInFlight: 1 });
    const failed = ['a', 'b'].map((id) => batcher.enqueue(order(id)));
    await turn();
    calls[0].fail(new Error('queue unavailable'));
    for (const p of failed) await expect(p).rejects.toThrow('queue unavailable');
    const retried = batcher.enqueue(order('a'));
    await turn();
    expect(calls[1].ids).toEqual(['a']);
    calls[1].answer([false]);
    await expect(retried).resolves.toBe(false);
  });

  it('refuses an answer that does not match the orders it carried', async () => {
    const { calls, send } = manualQueue();
    const batcher = new EnqueueBatcher(send, { maxBatch: 10, maxInFlight: 1 });
    const both = ['a', 'b'].map((id) => batcher.enqueue(order(id)));
    await turn();
    calls[0].answer([false]);
    for (const p of both) await expect(p).rejects.toThrow('1 outcomes for 2 orders');
  });
});
