/**
 * The payment service for real: its process (src/dev/harness/payment.ts, on this jest worker's own port and a fresh
 * data directory), over gRPC. Tokenize checks the card and keeps only a token; Prepare holds, Finish captures or
 * voids, every call idempotent by transaction id; the decline list votes NO; a hold survives SIGKILL and is captured
 * after the restart; a hold left waiting asks the executors (two fake ones here, one redirecting to the other) and
 * applies their decision. The card number is in no byte of the data directory and no line of output. Then the whole
 * system: a checkout's queued order carries a token and the books' price, never the card.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ClientError, createChannel, createClient, createServer, ServerError, Status, type Server } from 'nice-grpc';
import { PaymentDefinition } from '../src/gen/causeway/v1/payment';
import { OrderExecutorDefinition, type GetDecisionRequest } from '../src/gen/causeway/v1/order_executor';
import type { JournalRecord } from '../src/order-queue/journal';
import { JOURNAL_FILE } from '../src/order-queue/journal';
import { startPayment, type PaymentProcess } from '../src/dev/harness/payment';
import { LOG_HEADER } from '../src/storage/record-log';
import { scanFrames } from '../src/storage/frames';
import { coursePageOrder, postCheckout, startSystem, waitFor, type RunningSystem } from './support/system';

jest.setTimeout(60_000);

/** Cards these tests send; none may be found anywhere afterwards (in any of these spellings). */
const CARD = '4242424242424242';
const CARD_GROUPED = '4242 4242 4242 4242';
const DECLINED = '4000000000000002';

/** Every file under `dir`, as bytes: what a copy of the data directory would give away. */
function bytesUnder(dir: string): Buffer[] {
  return fs.readdirSync(dir, { withFileTypes: true, recursive: true }).flatMap((e) => (e.isFile() ? [fs.readFileSync(path.join(e.parentPath, e.name))] : []));
}

const spellings = (card: string) => [card, card.replace(/(\d{4})(?=\d)/g, '$1 '), card.replace(/(\d{4})(?=\d)/g, '$1-')];

function expectNoCardIn(dir: string, lines: readonly string[], cards: readonly string[]): void {
  const files = bytesUnder(dir);
  expect(files.length).toBeGreaterThan(0);
  for (const card of cards) {
    for (const spelling of spellings(card)) {
      expect({ spelling, inFiles: files.filter((b) => b.includes(spelling)).length }).toEqual({ spelling, inFiles: 0 });
      expect({ spelling, inOutput: lines.filter((l) => l.includes(spelling)) }).toEqual({ spelling, inOutput: [] });
    }
  }
}

async function ready(payment: PaymentProcess): Promise<void> {
  await waitFor('payment to answer Status', async () => (await payment.client.status({})) && true);
}

async function grpcError(call: Promise<unknown>): Promise<ClientError> {
  const err = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof ClientError)) throw new Error(`expected a gRPC error, got ${String(err)}`);
  return err;
}

describe('the payment service', () => {
  let payment: PaymentProcess;

  beforeAll(async () => {
    payment = await startPayment();
    await ready(payment);
  });

  afterAll(async () => {
    await payment?.stop();
  });

  const tokenize = async (cardNumber = CARD_GROUPED, expirationDate = '12/30') => (await payment.client.tokenize({ cardNumber, expirationDate })).token;
  const prepare = async (txId: string, token: string, amountCents: number, term = 1) =>
    (await payment.client.prepareBatch({ txs: [{ txId, token, amountCents, term }] })).votes[0].vote;
  const finish = async (txId: string, commit: boolean) => (await payment.client.finishBatch({ txs: [{ txId, commit }] })).records[0];

  it('tokenizes a valid card into an opaque token and its last four digits', async () => {
    const answer = await payment.client.tokenize({ cardNumber: CARD_GROUPED, expirationDate: '12/30' });
    expect(answer.token).toMatch(/^tok_[A-Za-z0-9_-]{20,}\.[A-Za-z0-9_-]{22}$/);
    expect(answer.maskedCard).toBe('**** 4242');
    expect(await tokenize()).not.toBe(answer.token);
  });

  it.each([
    ['a number failing Luhn', '4242424242424241', '12/30', /Luhn/],
    ['a malformed number', '4242-42x4', '12/30', /12 to 19 digits/],
    ['an expiry that is not MM/YY', CARD, '2030-12', /MM\/YY/],
  ])('refuses %s with INVALID_ARGUMENT, not echoing the card', async (_, cardNumber, expirationDate, message) => {
    const err = await grpcError(payment.client.tokenize({ cardNumber, expirationDate }));
    expect(err.code).toBe(Status.INVALID_ARGUMENT);
    expect(err.details).toMatch(message);
    expect(err.details).not.toContain(cardNumber);
  });

  it('holds on Prepare, captures on commit, and answers retries of both the same way', async () => {
    const token = await tokenize();
    expect(await prepare('ord_commit', token, 4000)).toBe('YES');
    expect(await prepare('ord_commit', token, 4000)).toBe('YES');
    expect(await payment.client.get({ txId: 'ord_commit' })).toMatchObject({ state: 'held', amountCents: 4000, maskedCard: '**** 4242' });
    expect(await finish('ord_commit', true)).toMatchObject({ txId: 'ord_commit', state: 'captured', amountCents: 4000 });
    expect(await finish('ord_commit', true)).toMatchObject({ state: 'captured', amountCents: 4000 });
    expect(await prepare('ord_commit', token, 4000)).toBe('YES');
    const status = await payment.client.status({});
    expect(status.inFlight.map((r) => r.txId)).not.toContain('ord_commit');
    expect(status.capturedCount).toBeGreaterThanOrEqual(1);
  });

  it('voids on abort; a late Prepare, or one after the abort of a transaction never prepared, is ABORTED', async () => {
    const token = await tokenize();
    expect(await prepare('ord_abort', token, 1500)).toBe('YES');
    expect(await finish('ord_abort', false)).toMatchObject({ state: 'voided', amountCents: 1500 });
    expect(await prepare('ord_abort', token, 1500)).toBe('ABORTED');
    expect(await finish('ord_presumed', false)).toMatchObject({ state: 'voided', amountCents: 0 });
    expect(await prepare('ord_presumed', token, 1500)).toBe('ABORTED');
    expect(await payment.client.get({ txId: 'ord_presumed' })).toMatchObject({ state: 'voided', amountCents: 0 });
  });

  it('refuses a decision that contradicts the recorded one with FAILED_PRECONDITION, applying nothing of the batch', async () => {
    const token = await tokenize();
    await prepare('ord_conflict', token, 100);
    await finish('ord_conflict', false);
    await prepare('ord_bystander', token, 100);
    const err = await grpcError(
      payment.client.finishBatch({
        txs: [
          { txId: 'ord_bystander', commit: true },
          { txId: 'ord_conflict', commit: true },
        ],
      }),
    );
    expect(err.code).toBe(Status.FAILED_PRECONDITION);
    expect(err.details).toMatch(/ord_conflict: a commit after an abort/);
    expect((await payment.client.get({ txId: 'ord_bystander' })).state).toBe('held');
    expect(payment.lines.some((l) => l.includes('"level":"error"') && l.includes('ord_conflict'))).toBe(true);
  });

  it('votes DECLINED for a card on the default decline list, UNKNOWN_TOKEN for a token never issued, STALE_TERM below the fence', async () => {
    const declined = await payment.client.tokenize({ cardNumber: DECLINED, expirationDate: '01/29' });
    expect(declined.maskedCard).toBe('**** 0002');
    expect(await prepare('ord_declined', declined.token, 700)).toBe('DECLINED');
    expect(await prepare('ord_declined', declined.token, 700)).toBe('DECLINED');
    expect((await payment.client.get({ txId: 'ord_declined' })).state).toBe('declined');
    expect(await prepare('ord_unknown', 'tok_never_issued', 700)).toBe('UNKNOWN_TOKEN');
    expect((await payment.client.get({ txId: 'ord_unknown' })).state).toBe('unknown');
    const token = await tokenize();
    expect(await prepare('ord_fenced_new', token, 1, 9)).toBe('YES');
    expect(await prepare('ord_fenced_old', token, 1, 8)).toBe('STALE_TERM');
    expect((await payment.client.get({ txId: 'ord_fenced_old' })).state).toBe('unknown');
  });

  it('keeps a hold through SIGKILL after its YES vote, and captures it after the restart', async () => {
    const token = await tokenize();
    expect(await prepare('ord_durable', token, 2500, 10)).toBe('YES');
    await payment.kill('SIGKILL');
    payment.start();
    await ready(payment);
    expect(await payment.client.get({ txId: 'ord_durable' })).toMatchObject({ state: 'held', amountCents: 2500 });
    expect((await payment.client.status({})).inFlight.map((r) => r.txId)).toContain('ord_durable');
    // The token's sealing key and the fence were durable too.
    expect(await prepare('ord_after_restart', token, 10, 9)).toBe('STALE_TERM');
    expect(await prepare('ord_after_restart', token, 10, 10)).toBe('YES');
    expect(await finish('ord_durable', true)).toMatchObject({ state: 'captured', amountCents: 2500 });
  });

  it('never writes or prints the card number: not in any byte of its data directory, not in its output', async () => {
    await payment.client.tokenize({ cardNumber: CARD, expirationDate: '12/30' });
    await payment.client.tokenize({ cardNumber: '4242-4242-4242-4242', expirationDate: '12/30' });
    await grpcError(payment.client.tokenize({ cardNumber: CARD, expirationDate: '13/30' }));
    // The check finds a card where there is one (so its silence below means something).
    const decoy = fs.mkdtempSync(path.join(os.tmpdir(), 'causeway-decoy-'));
    fs.writeFileSync(path.join(decoy, 'leak.bin'), Buffer.from(`\u0000${CARD_GROUPED}\u0000`));
    expect(() => expectNoCardIn(decoy, [], [CARD])).toThrow();
    expect(() => expectNoCardIn(payment.dataDir, [`{"message":"${CARD}"}`], [CARD])).toThrow();
    fs.rmSync(decoy, { recursive: true });
    // A SIGKILL leaves the WAL as it is: its bytes are read too.
    await payment.kill('SIGKILL');
    expectNoCardIn(payment.dataDir, payment.lines, [CARD, DECLINED]);
    payment.start();
    await ready(payment);
  });
});

describe('cooperative termination against the executors', () => {
  let payment: PaymentProcess | undefined;
  const servers: Server[] = [];

  afterAll(async () => {
    await payment?.stop();
    for (const s of servers) await s.shutdown();
  });

  /** A stand-in executor: answers GetDecision with `answer`, everything else UNIMPLEMENTED. */
  async function fakeExecutor(answer: (request: GetDecisionRequest) => { decision: string } | ServerError): Promise<number> {
    const server = createServer();
    const unimplemented = async () => {
      throw new ServerError(Status.UNIMPLEMENTED, 'fake executor');
    };
    server.add(OrderExecutorDefinition, {
      stream: unimplemented,
      status: unimplemented,
      executions: unimplemented,
      async getDecision(request) {
        const a = answer(request);
        if (a instanceof ServerError) throw a;
        return { decision: a.decision, reason: '', term: 3 };
      },
    });
    servers.push(server);
    return server.listen('127.0.0.1:0');
  }

  it('asks the leader (following a follower to it) about a hold left waiting, and applies its decision', async () => {
    const asked: GetDecisionRequest[] = [];
    let decided = false;
    const follower = await fakeExecutor(() => new ServerError(Status.FAILED_PRECONDITION, 'NOT_LEADER leader=executor-2'));
    const leader = await fakeExecutor((request) => {
      asked.push(request);
      // "pending" first: the participant must ask again later, not decide alone.
      return { decision: decided ? 'commit' : 'pending' };
    });
    payment = await startPayment({
      EXECUTOR_PEERS: `executor-1=127.0.0.1:${follower},executor-2=127.0.0.1:${leader}`,
      PAYMENT_DECISION_TIMEOUT_MS: '500',
      PAYMENT_DECISION_RETRY_MS: '300',
    });
    await ready(payment);
    const { token } = await payment.client.tokenize({ cardNumber: CARD, expirationDate: '12/30' });
    expect((await payment.client.prepareBatch({ txs: [{ txId: 'ord_waiting', token, amountCents: 999, term: 3 }] })).votes[0].vote).toBe('YES');
    await waitFor('payment to ask the leader about ord_waiting', async () => (asked.length > 0 ? true : undefined));
    expect(asked[0]).toEqual({ txId: 'ord_waiting', participant: 'payment' });
    expect((await payment.client.get({ txId: 'ord_waiting' })).state).toBe('held');
    decided = true;
    const record = await waitFor('the hold to be captured', async () => {
      const r = await payment!.client.get({ txId: 'ord_waiting' });
      return r.state === 'captured' ? r : undefined;
    });
    expect(record.amountCents).toBe(999);
    expect(asked.length).toBeGreaterThanOrEqual(2);
  });
});

describe('checkout through the whole system', () => {
  let system: RunningSystem;

  beforeAll(async () => {
    system = await startSystem();
  }, 90_000);

  afterAll(async () => {
    await system?.stop();
  });

  it("enqueues an approved order with payment's token and its books' price, and the card is nowhere on disk or in the output", async () => {
    const card = '5555555555554444';
    const { status, body } = await postCheckout(system.baseUrl, coursePageOrder({ creditCard: { number: '5555 5555 5555 4444', expirationDate: '12/30', cvv: '123' } }));
    expect({ status, body }).toMatchObject({ status: 200, body: { state: 'queued' } });
    // The queue's journal (JSON records, src/order-queue/journal.ts) holds the order as it was enqueued.
    const data = fs.readFileSync(path.join(system.dataDir, 'order-queue', JOURNAL_FILE));
    const scan = scanFrames(data, LOG_HEADER.length);
    const records = scan.records.map((r) => JSON.parse(r.payload.toString('utf8')) as JournalRecord);
    const enqueued = records.find((r) => r.op === 'enqueue' && r.order.orderId === body.orderId);
    expect(enqueued).toBeDefined();
    if (enqueued?.op !== 'enqueue') return;
    // The course page's order: 1 × Book A ($10.00) and 2 × Book B ($15.00).
    expect(enqueued.order).toMatchObject({ maskedCard: '**** 4444', amountCents: 4000, paymentToken: expect.stringMatching(/^tok_/) });
    // The token is payment's own: a Prepare with it holds the amount (then the probe is voided).
    const channel = createChannel(system.addresses.payment);
    try {
      const payment = createClient(PaymentDefinition, channel);
      const txId = `probe_${body.orderId}`;
      const { votes } = await payment.prepareBatch({ txs: [{ txId, token: enqueued.order.paymentToken, amountCents: enqueued.order.amountCents, term: 0 }] });
      expect(votes.map((v) => v.vote)).toEqual(['YES']);
      expect((await payment.get({ txId })).maskedCard).toBe('**** 4444');
      await payment.finishBatch({ txs: [{ txId, commit: false }] });
    } finally {
      channel.close();
    }
    expectNoCardIn(system.dataDir, system.lines, [card]);
  });
});
