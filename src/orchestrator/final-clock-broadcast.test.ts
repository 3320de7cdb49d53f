import { ClearRefusal, type ClearOrderOutcome, type ClearOrdersRequest, type ClearOrdersResponse } from '../gen/causeway/v1/checkout';
import type { Logger } from '../platform/logger';
import type { CallBatcherOptions } from '../platform/call-batcher';
import { FinalClockBroadcast, type OrderClearing } from './final-clock-broadcast';

const cleared: ClearOrderOutcome = { cleared: true, localClock: undefined, refusal: ClearRefusal.CLEAR_REFUSAL_UNSPECIFIED, reason: '' };
const finalClock = { entries: { 'transaction-verification': 3, 'fraud-detection': 2, suggestions: 1 } };

/** A service whose ClearOrders calls are recorded, answering with `answer` (each order cleared by default). */
function service(answer: (request: ClearOrdersRequest) => Promise<ClearOrdersResponse> = async ({ orders }) => ({ outcomes: orders.map(() => cleared) })) {
  const calls: string[][] = [];
  const clearing: OrderClearing = {
    clearOrders: (request) => (calls.push(request.orders.map((o) => o.orderId)), answer(request)),
  };
  return { calls, clearing };
}

function logger() {
  const warnings: string[] = [];
  const log = { warn: (message: string) => warnings.push(message), info() {}, debug() {}, error() {} } as unknown as Logger;
  return { warnings, log };
}

type Service = ReturnType<typeof service>;

/** The broadcast over transaction-verification, fraud-detection and suggestions, in that order. */
function broadcastOver([tv, fd, sg]: Service[], log: Logger, options: CallBatcherOptions): FinalClockBroadcast {
  return new FinalClockBroadcast({ 'transaction-verification': tv.clearing, 'fraud-detection': fd.clearing, suggestions: sg.clearing }, log, options);
}

describe('FinalClockBroadcast', () => {
  it('sends the final clocks of checkouts within the linger in one ClearOrders call per service', async () => {
    const [tv, fd, sg] = [service(), service(), service()];
    const { warnings, log } = logger();
    const broadcast = broadcastOver([tv, fd, sg], log, { maxBatch: 64, maxInFlight: 1, lingerMs: 30 });
    broadcast.broadcast('ord_1', finalClock);
    await new Promise((r) => setTimeout(r, 5));
    broadcast.broadcast('ord_2', finalClock);
    broadcast.broadcast('ord_3', finalClock);
    await broadcast.drain();
    for (const s of [tv, fd, sg]) expect(s.calls).toEqual([['ord_1', 'ord_2', 'ord_3']]);
    expect(warnings).toEqual([]);
  });

  it('warns of each order a service kept or could not be asked about, and still clears the rest', async () => {
    const tv = service(async ({ orders }) => ({
      outcomes: orders.map((o) =>
        o.orderId === 'ord_ahead' ? { cleared: false, localClock: undefined, refusal: ClearRefusal.CLEAR_REFUSAL_CLOCK_AHEAD, reason: 'local clock is ahead of the final clock' } : cleared,
      ),
    }));
    const fd = service(async () => {
      throw new Error('UNAVAILABLE: No connection established');
    });
    const sg = service();
    const { warnings, log } = logger();
    const broadcast = broadcastOver([tv, fd, sg], log, { maxBatch: 64, maxInFlight: 1 });
    broadcast.broadcast('ord_ahead', finalClock);
    broadcast.broadcast('ord_fine', finalClock);
    await broadcast.drain();
    expect(warnings.sort()).toEqual([
      'order ord_ahead: fraud-detection did not clear it (CALL_FAILED): UNAVAILABLE: No connection established',
      'order ord_ahead: transaction-verification did not clear it (CLEAR_REFUSAL_CLOCK_AHEAD): local clock is ahead of the final clock',
      'order ord_fine: fraud-detection did not clear it (CALL_FAILED): UNAVAILABLE: No connection established',
    ]);
    expect(sg.calls).toEqual([['ord_ahead', 'ord_fine']]);
  });

  it('takes an answer with the wrong number of outcomes as a failed call for every order it carried', async () => {
    const tv = service(async () => ({ outcomes: [cleared] }));
    const [fd, sg] = [service(), service()];
    const { warnings, log } = logger();
    const broadcast = broadcastOver([tv, fd, sg], log, { maxBatch: 64, maxInFlight: 1 });
    broadcast.broadcast('ord_1', finalClock);
    broadcast.broadcast('ord_2', finalClock);
    await broadcast.drain();
    expect(warnings.sort()).toEqual([
      'order ord_1: transaction-verification did not clear it (CALL_FAILED): transaction-verification answered 1 outcomes for 2 final clocks',
      'order ord_2: transaction-verification did not clear it (CALL_FAILED): transaction-verification answered 1 outcomes for 2 final clocks',
    ]);
  });

  it('drain() sends the final clocks still lingering at once, and lingers no more after it', async () => {
    const [tv, fd, sg] = [service(), service(), service()];
    const broadcast = broadcastOver([tv, fd, sg], logger().log, { maxBatch: 64, maxInFlight: 1, lingerMs: 60_000 });
    broadcast.broadcast('ord_1', finalClock);
    await new Promise((r) => setImmediate(r));
    expect(tv.calls).toEqual([]);
    await broadcast.drain();
    expect(tv.calls).toEqual([['ord_1']]);
    broadcast.broadcast('ord_2', finalClock);
    await broadcast.drain();
    for (const s of [tv, fd, sg]) expect(s.calls).toEqual([['ord_1'], ['ord_2']]);
  });

  it('drain() waits for broadcasts still lingering or out', async () => {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const tv = service(async ({ orders }) => (await held, { outcomes: orders.map(() => cleared) }));
    const [fd, sg] = [service(), service()];
    const broadcast = broadcastOver([tv, fd, sg], logger().log, { maxBatch: 64, maxInFlight: 1, lingerMs: 20 });
    broadcast.broadcast('ord_1', finalClock);
    let drained = false;
    const drain = broadcast.drain().then(() => (drained = true));
    await new Promise((r) => setTimeout(r, 60));
    expect(tv.calls).toEqual([['ord_1']]);
    expect(drained).toBe(false);
    release();
    await drain;
    expect(drained).toBe(true);
  });
});
