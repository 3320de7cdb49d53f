import { ClearRefusal, type ChainResult, type ClearOrdersRequest, type ClearOrdersResponse, type Order } from '../gen/causeway/v1/checkout';
import { ClientError, Status } from 'nice-grpc';
import type { QueuedOrder } from '../gen/causeway/v1/order_queue';
import type { EnqueueBatcher } from '../order-queue-client/enqueue-batcher';
import { CheckoutFlow, DependencyError, projections, toQueuedOrder, type CardTokenizer } from './checkout';
import type { CheckoutRequest } from './schema';
import { FinalClockBroadcast } from './final-clock-broadcast';

/** Who sees the card: each service only what its events need, the queue and the executors only its last four digits. */
const order: Order = {
  orderId: 'ord_1',
  user: { name: 'John Doe', contact: 'john.doe@example.com' },
  creditCard: { number: '5555 5555 5555 4444', expirationDate: '12/30', cvv: '9071' },
  items: [{ name: 'Dune', quantity: 2 }],
  billingAddress: { street: '123 Main St', city: 'Springfield', state: 'IL', zip: '62701', country: 'USA' },
  shippingMethod: 'Standard',
  termsAccepted: true,
  giftWrapping: false,
};
const CARD_DATA = ['5555 5555 5555 4444', '5555555555554444', '12/30', '9071'];
const noPayment = { paymentToken: '', amountCents: 0 };
const leaks = (value: unknown) => CARD_DATA.filter((secret) => JSON.stringify(value).includes(secret));

describe('projections of an order for each checkout service', () => {
  it('gives transaction-verification the whole card (events B and C check it)', () => {
    expect(projections['transaction-verification'](order)).toEqual(order);
  });

  it('gives fraud-detection the card number only: no expiry, no CVV, no billing address', () => {
    const seen = projections['fraud-detection'](order);
    expect(seen.creditCard).toEqual({ number: '5555 5555 5555 4444', expirationDate: '', cvv: '' });
    expect(seen.billingAddress).toBeUndefined();
    expect(seen.user).toEqual(order.user);
    expect(leaks(seen)).toEqual(['5555 5555 5555 4444']);
  });

  it('gives suggestions no card, no user and no address, only what event F needs', () => {
    const seen = projections.suggestions(order);
    expect(seen.creditCard).toBeUndefined();
    expect(seen.user).toBeUndefined();
    expect(seen.billingAddress).toBeUndefined();
    expect(seen.items).toEqual(order.items);
    expect(leaks(seen)).toEqual([]);
  });

  it('does not change the order it projects', () => {
    const before = structuredClone(order);
    for (const project of Object.values(projections)) project(order);
    expect(order).toEqual(before);
  });
});

describe('the order as queued (and replicated by the executors)', () => {
  it('keeps only the last four digits of the card and its payment token, and nothing else of it', () => {
    const queued = toQueuedOrder(order, '00-trace-span-01', 1234, { paymentToken: 'tok_abc', amountCents: 3000 });
    expect(queued).toEqual({
      orderId: 'ord_1',
      shippingMethod: 'Standard',
      items: [{ name: 'Dune', quantity: 2 }],
      customerName: 'John Doe',
      maskedCard: '**** 4444',
      traceparent: '00-trace-span-01',
      enqueuedAtMs: 1234,
      paymentToken: 'tok_abc',
      amountCents: 3000,
    });
    expect(leaks(queued)).toEqual([]);
  });

  it('masks a number too short to show four digits, or a missing card, whole', () => {
    expect(toQueuedOrder({ ...order, creditCard: { number: '123', expirationDate: '', cvv: '' } }, '', 0, noPayment).maskedCard).toBe('****');
    expect(toQueuedOrder({ ...order, creditCard: undefined }, '', 0, noPayment).maskedCard).toBe('****');
  });
});

describe('a checkout: its token, its answer and its final clock broadcast', () => {
  const logger = { level: 'info', isLevelEnabled: () => true, error() {}, warn() {}, info() {}, debug() {} };
  const allCleared = async ({ orders }: ClearOrdersRequest): Promise<ClearOrdersResponse> => ({
    outcomes: orders.map(() => ({ cleared: true, localClock: undefined, refusal: ClearRefusal.CLEAR_REFUSAL_UNSPECIFIED, reason: '' })),
  });
  const participant = { initOrder: async () => ({}), clearOrders: allCleared };
  const approved = { events: [], suggestedBooks: [] };

  function flow(
    tokenize: CardTokenizer['tokenize'],
    options: {
      chain?: () => Promise<ChainResult>;
      clearOrders?: (request: ClearOrdersRequest) => Promise<ClearOrdersResponse>;
      initFraudDetection?: () => Promise<object>;
      warnings?: string[];
    } = {},
  ) {
    const queued: QueuedOrder[] = [];
    const tokenized: string[][] = [];
    const clearing = { ...participant, clearOrders: options.clearOrders ?? participant.clearOrders };
    const verification = { ...clearing, initAndStartChecks: options.chain ?? (async () => approved) };
    const fraud = { ...clearing, initOrder: options.initFraudDetection ?? participant.initOrder };
    const checkout = new CheckoutFlow(
      verification as never,
      fraud as never,
      clearing as never,
      { enqueue: async (o: QueuedOrder) => (queued.push(o), true) } as unknown as EnqueueBatcher,
      { tokenize: (n: string, e: string) => (tokenized.push([n, e]), tokenize(n, e)) },
      { amountCents: async (items) => items.reduce((sum, i) => sum + 1000 * i.quantity, 0) },
      new FinalClockBroadcast({ 'transaction-verification': clearing, 'fraud-detection': clearing, suggestions: clearing }, logger as never, { maxBatch: 16, maxInFlight: 1 }),
      { ...logger, warn: (message: string) => options.warnings?.push(message) },
    );
    return { checkout, queued, tokenized };
  }

  const request = {
    user: { name: 'John Doe', contact: 'john.doe@example.com' },
    creditCard: { number: '4111111111111111', expirationDate: '12/30', cvv: '123' },
    items: [{ name: 'Book A', quantity: 3 }],
    termsAccepted: true,
  } as unknown as CheckoutRequest;

  it('enqueues the token and the amount, and nothing of the card but its last four digits', async () => {
    const { checkout, queued, tokenized } = flow(async () => ({ token: 'tok_xyz', maskedCard: '**** 1111' }));
    const result = await checkout.checkout(request);
    expect(result.status).toBe('Order Approved');
    expect(tokenized).toEqual([['4111111111111111', '12/30']]);
    expect(queued).toHaveLength(1);
    expect(queued[0]).toMatchObject({ paymentToken: 'tok_xyz', amountCents: 3000, maskedCard: '**** 1111' });
    expect(JSON.stringify(queued[0])).not.toContain('4111111111111111');
    expect(JSON.stringify(queued[0])).not.toContain('12/30');
  });

  it('starts the chain beside the other services\' InitOrder, and answers once both are done', async () => {
    let release!: () => void;
    const initialised = new Promise<object>((r) => (release = () => r({})));
    let chainStarted = false;
    const { checkout } = flow(async () => ({ token: 'tok_xyz', maskedCard: '**** 1111' }), {
      initFraudDetection: () => initialised,
      chain: async () => ((chainStarted = true), approved),
    });
    let answered = false;
    const answer = checkout.checkout(request).then((r) => ((answered = true), r));
    await new Promise((r) => setImmediate(r));
    expect(chainStarted).toBe(true);
    expect(answered).toBe(false);
    release();
    expect((await answer).status).toBe('Order Approved');
  });

  it('fails as a dependency, naming it, when a service cannot be initialised', async () => {
    const { checkout, queued } = flow(async () => ({ token: 'tok_xyz', maskedCard: '**** 1111' }), {
      initFraudDetection: async () => {
        throw new ClientError('/causeway.v1.FraudDetection/InitOrder', Status.UNAVAILABLE, 'No connection established');
      },
    });
    await expect(checkout.checkout(request)).rejects.toMatchObject({ message: expect.stringMatching(/^fraud-detection is unavailable/) });
    expect(queued).toEqual([]);
  });

  it('asks for the token while the checks run, not after them', async () => {
    let tokensAskedBeforeTheChain = -1;
    const { checkout, tokenized } = flow(async () => ({ token: 'tok_xyz', maskedCard: '**** 1111' }), {
      chain: async () => ((tokensAskedBeforeTheChain = tokenized.length), approved),
    });
    expect((await checkout.checkout(request)).status).toBe('Order Approved');
    expect(tokensAskedBeforeTheChain).toBe(1);
  });

  it('drops a rejected order\'s token, and a payment failure neither fails nor logs it', async () => {
    const warnings: string[] = [];
    const rejected: ChainResult = { events: [], suggestedBooks: [], rejection: { event: 'E', code: 'CARD_BLOCKED', message: 'blocked' } };
    const { checkout, queued, tokenized } = flow(
      async () => {
        throw new ClientError('/causeway.v1.Payment/Tokenize', Status.INVALID_ARGUMENT, 'card number fails its check digit');
      },
      { chain: async () => rejected, warnings },
    );
    const result = await checkout.checkout(request);
    expect(result.status).toBe('Order Rejected');
    expect(result.rejection).toEqual(rejected.rejection);
    expect(tokenized).toHaveLength(1);
    expect(queued).toEqual([]);
    expect(warnings).toEqual([]);
  });

  it('answers without waiting for the final clock broadcast; drain() waits for it', async () => {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let cleared = 0;
    const { checkout, queued } = flow(async () => ({ token: 'tok_xyz', maskedCard: '**** 1111' }), {
      clearOrders: async (request) => (await held, (cleared += request.orders.length), allCleared(request)),
    });
    expect((await checkout.checkout(request)).status).toBe('Order Approved');
    expect(queued).toHaveLength(1);
    expect(cleared).toBe(0);

    let drained = false;
    const drain = checkout.drain().then(() => (drained = true));
    await new Promise((r) => setImmediate(r));
    expect(drained).toBe(false);
    release();
    await drain;
    expect(cleared).toBe(3);
  });

  it('fails as a dependency (503) and enqueues nothing when payment cannot be reached', async () => {
    const { checkout, queued } = flow(async () => {
      throw new ClientError('/causeway.v1.Payment/Tokenize', Status.UNAVAILABLE, 'No connection established');
    });
    const failure = checkout.checkout(request);
    await expect(failure).rejects.toBeInstanceOf(DependencyError);
    await expect(failure).rejects.toMatchObject({ timedOut: false, message: expect.stringMatching(/^payment is unavailable/) });
    expect(queued).toEqual([]);
  });
});
