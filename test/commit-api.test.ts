/**
 * What the API says of an order's two-phase commit (issue 14), over real processes (`npm start`'s launcher): an
 * order that commits shows the decision, both participants' final states, the payment captured for price ×
 * quantity and a timeline in time order; an order paid with the declined test card ends `failed` PAYMENT_DECLINED
 * with nothing charged and the stock untouched; GET /cluster counts the transactions in flight.
 */
import type { CheckoutResult, CommitStep } from '../src/orchestrator/api-types';
import { booksById, coursePageOrder, getJson, postCheckout, startSystem, waitFor, type RunningSystem } from './support/system';

jest.setTimeout(90_000);

/** The decline list's default: a Luhn-valid test number that passes every checkout check. */
const DECLINED_CARD = '4000000000000002';

let system: RunningSystem;

beforeAll(async () => {
  system = await startSystem({
    FRAUD_CONTACT_VELOCITY_LIMIT: '1000000',
    FRAUD_CARD_VELOCITY_LIMIT: '1000000',
    CAUSEWAY_RPC_DEADLINE_MS: '15000',
  });
}, 90_000);
afterAll(async () => {
  await system?.stop();
});

const books = () => booksById(system.baseUrl);

async function order(title: string, quantity: number, card?: string): Promise<string> {
  const overrides: Record<string, unknown> = { items: [{ name: title, quantity }] };
  if (card) overrides.creditCard = { number: card, expirationDate: '12/30', cvv: '123' };
  const { status, body } = await postCheckout(system.baseUrl, coursePageOrder(overrides));
  expect(status).toBe(200);
  expect(body).toMatchObject({ status: 'Order Approved', state: 'queued' });
  return body.orderId as string;
}

/** The order once its commit is finished: both participants acknowledged the decision. */
const finished = (orderId: string) =>
  waitFor(
    `order ${orderId}'s commit to finish`,
    async () => {
      const o = (await getJson(`${system.baseUrl}/orders/${orderId}`)) as CheckoutResult;
      return o.commit?.finished ? o : undefined;
    },
    40_000,
  );

function expectTimeOrder(timeline: CommitStep[]): void {
  expect(timeline.length).toBeGreaterThan(0);
  expect(timeline[0]).toMatchObject({ step: 'prepare', sinceStartMs: 0 });
  for (let i = 1; i < timeline.length; i++) {
    expect(timeline[i].at).toBeGreaterThanOrEqual(timeline[i - 1].at);
    expect(timeline[i].sinceStartMs).toBe(timeline[i].at - timeline[0].at);
  }
}

describe('the two-phase commit in GET /orders/:id', () => {
  it('shows a committed order: decision, final states, finished, payment captured for price × quantity, a timeline in time order', async () => {
    const before = await books();
    const book = [...before.values()].find((b) => b.stock >= 2 && b.priceCents > 0)!;
    const orderId = await order(book.title, 2);
    const o = await finished(orderId);
    expect(o.state).toBe('executed');
    expect(o.commit).toMatchObject({
      decision: 'commit',
      participants: { 'books-database': 'committed', payment: 'captured' },
      coordinator: o.execution!.executor,
      finished: true,
    });
    expect(o.commit!.term).toBeGreaterThan(0);
    expect(o.commit).not.toHaveProperty('reason');
    expect(o.payment).toEqual({ status: 'captured', amountCents: book.priceCents * 2 });
    const { timeline } = o.commit!;
    expectTimeOrder(timeline);
    const steps = timeline.map((s) => `${s.step}${s.participant ? ` ${s.participant}` : ''} ${s.outcome}`);
    expect([...steps].sort()).toEqual(
      [
        'prepare sent',
        'vote books-database YES',
        'vote payment YES',
        'decision commit',
        'commit books-database committed',
        'commit payment captured',
      ].sort(),
    );
    // The decision comes after both votes, and both commits after the decision.
    const indexOf = (step: string) => steps.indexOf(step);
    expect(indexOf('decision commit')).toBeGreaterThan(Math.max(indexOf('vote books-database YES'), indexOf('vote payment YES')));
    expect(Math.min(indexOf('commit books-database committed'), indexOf('commit payment captured'))).toBeGreaterThan(indexOf('decision commit'));
    expect((await books()).get(book.bookId)!.stock).toBe(book.stock - 2);
  });

  it('fails an order paid with the declined card PAYMENT_DECLINED: nothing charged, stock unchanged', async () => {
    const before = await books();
    const book = [...before.values()].find((b) => b.stock >= 1 && b.priceCents > 0)!;
    const orderId = await order(book.title, 1, DECLINED_CARD);
    const o = await finished(orderId);
    expect(o.state).toBe('failed');
    expect(o.failure?.code).toBe('PAYMENT_DECLINED');
    expect(o.commit).toMatchObject({ decision: 'abort', reason: 'PAYMENT_DECLINED', finished: true });
    expect(o.commit!.participants['books-database']).toBe('aborted');
    expect(['declined', 'voided']).toContain(o.commit!.participants.payment);
    expect(['declined', 'voided']).toContain(o.payment?.status);
    expect(o.payment?.amountCents).toBe(book.priceCents);
    expectTimeOrder(o.commit!.timeline);
    expect(o.commit!.timeline.map((s) => s.step)).toContain('decision');
    expect(o.commit!.timeline.find((s) => s.step === 'vote' && s.participant === 'payment')?.outcome).toBe('PAYMENT_DECLINED');
    expect((await books()).get(book.bookId)!.stock).toBe(book.stock);
  });

  it('counts transactions in flight on GET /cluster, none once every commit is finished', async () => {
    const snapshot = await waitFor('GET /cluster to show no transaction in flight', async () => {
      const s = await getJson(`${system.baseUrl}/cluster`);
      return s.transactions?.coordinating === 0 && s.transactions?.prepared === 0 ? s : undefined;
    });
    const leader = snapshot.executors.find((e: { role: string }) => e.role === 'leader');
    expect(leader.transactionsInFlight).toBe(0);
  });
});
