import { CallBatcher } from './call-batcher';

/** A batch call the test answers by hand, recording when each call went. */
function manualCalls() {
  const calls: { items: string[]; atMs: number; answer: () => void }[] = [];
  const send = (items: string[]) =>
    new Promise<string[]>((resolve) => calls.push({ items, atMs: Date.now(), answer: () => resolve(items.map((i) => `${i}!`)) }));
  return { calls, send };
}

const turn = () => new Promise((r) => setImmediate(r));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('CallBatcher with a linger', () => {
  it('fails the items of a send that throws instead of rejecting, and carries on', async () => {
    let throwNext = true;
    const batcher = new CallBatcher(
      (items: string[]) => {
        if (throwNext) throw new Error('no connection');
        return Promise.resolve(items.map((i) => `${i}!`));
      },
      { maxBatch: 10, maxInFlight: 1, lingerMs: 5 },
    );
    await expect(batcher.submit('a')).rejects.toThrow('no connection');
    throwNext = false;
    await expect(batcher.submit('b')).resolves.toBe('b!');
  });

  it('stopLingering() sends what lingers at once, and later items without a linger', async () => {
    const { calls, send } = manualCalls();
    const batcher = new CallBatcher(send, { maxBatch: 10, maxInFlight: 2, lingerMs: 60_000 });
    const a = batcher.submit('a');
    await turn();
    expect(calls).toEqual([]);
    batcher.stopLingering();
    await turn();
    expect(calls.map((c) => c.items)).toEqual([['a']]);
    const b = batcher.submit('b');
    await turn();
    expect(calls.map((c) => c.items)).toEqual([['a'], ['b']]);
    calls.forEach((c) => c.answer());
    await expect(Promise.all([a, b])).resolves.toEqual(['a!', 'b!']);
  });

  it('holds the first item for lingerMs, and sends everything that arrived meanwhile in one call', async () => {
    const { calls, send } = manualCalls();
    const batcher = new CallBatcher(send, { maxBatch: 10, maxInFlight: 1, lingerMs: 60 });
    const startedMs = Date.now();
    const first = batcher.submit('a');
    // Due before the linger's own timer, whatever the box's load: timers run in the order they fall due.
    const later = new Promise<string>((resolve, reject) => setTimeout(() => batcher.submit('b').then(resolve, reject), 20));
    await turn();
    expect(calls).toEqual([]);
    const sent = await (async () => {
      while (calls.length === 0) await sleep(5);
      return calls[0];
    })();
    expect(sent.items).toEqual(['a', 'b']);
    expect(sent.atMs - startedMs).toBeGreaterThanOrEqual(50);
    sent.answer();
    await expect(Promise.all([first, later])).resolves.toEqual(['a!', 'b!']);
  });

  it('sends a full batch at once instead of waiting out the linger', async () => {
    const { calls, send } = manualCalls();
    const batcher = new CallBatcher(send, { maxBatch: 3, maxInFlight: 1, lingerMs: 10_000 });
    const all = ['a', 'b', 'c'].map((i) => batcher.submit(i));
    await turn();
    await turn();
    expect(calls.map((c) => c.items)).toEqual([['a', 'b', 'c']]);
    calls[0].answer();
    await expect(Promise.all(all)).resolves.toEqual(['a!', 'b!', 'c!']);
  });

  it('lingers again for the items that arrived while its one call was out', async () => {
    const { calls, send } = manualCalls();
    const batcher = new CallBatcher(send, { maxBatch: 10, maxInFlight: 1, lingerMs: 30 });
    const a = batcher.submit('a');
    while (calls.length === 0) await sleep(5);
    const b = batcher.submit('b');
    const c = batcher.submit('c');
    await sleep(50);
    expect(calls).toHaveLength(1);
    calls[0].answer();
    await expect(a).resolves.toBe('a!');
    const answeredMs = Date.now();
    while (calls.length === 1) await sleep(5);
    expect(calls[1].items).toEqual(['b', 'c']);
    expect(calls[1].atMs - answeredMs).toBeGreaterThanOrEqual(20);
    calls[1].answer();
    await expect(Promise.all([b, c])).resolves.toEqual(['b!', 'c!']);
  });
});
