/**
 * The whole checkout over real processes: HTTP into the orchestrator, gRPC between
 * the services, the services driving the events A→B→D→C→E→F themselves.
 */
import fs from 'node:fs';
import path from 'node:path';
import { createChannel, createClient, ClientError, Status } from 'nice-grpc';
import { SuggestionsDefinition } from '../src/gen/causeway/v1/suggestions';
import { FraudDetectionDefinition } from '../src/gen/causeway/v1/fraud_detection';
import { TransactionVerificationDefinition } from '../src/gen/causeway/v1/transaction_verification';
import { ClearRefusal } from '../src/gen/causeway/v1/checkout';
import { OtlpReceiver } from './support/otlp-receiver';
import { coursePageOrder, postCheckout, startSystem, waitFor, type RunningSystem, getJson } from './support/system';

const TV = 'transaction-verification';
const FD = 'fraud-detection';
const SG = 'suggestions';
const clock = (tv: number, fd: number, sg: number) => ({ [TV]: tv, [FD]: fd, [SG]: sg });
const ORDER = ['A', 'B', 'D', 'C', 'E', 'F'];

let system: RunningSystem;

/** A collector that takes every export and fails it, so the services' failed exports can be counted. */
const collector = new OtlpReceiver();

beforeAll(async () => {
  const endpoint = await collector.start();
  collector.refuseAll();
  system = await startSystem({ FRAUD_BLOCKED_USERS: 'mallory@example.com', OTEL_EXPORTER_OTLP_ENDPOINT: endpoint });
});
afterAll(async () => {
  await system?.stop();
  await collector.stop();
});

function grpc() {
  const channel = (service: string) => createChannel(system.addresses[service]);
  return {
    [TV]: createClient(TransactionVerificationDefinition, channel(TV)),
    [FD]: createClient(FraudDetectionDefinition, channel(FD)),
    [SG]: createClient(SuggestionsDefinition, channel(SG)),
  };
}

const eventLines = (orderId: string) =>
  system.records().filter((r) => r.order_id === orderId && typeof r.event === 'string' && /^event [A-F] /.test(r.message));

let probes = 0;
/**
 * Resolves once every line the checkout services wrote so far has reached us. Each service writes its lines in
 * order, so they have once the events of a new approved order have arrived from all three services. (The probe has
 * its own contact and card, so it counts against no test's velocity limits.)
 */
async function servicesLogsCaughtUp(): Promise<void> {
  const n = ++probes;
  const { body } = await postCheckout(
    system.baseUrl,
    coursePageOrder({ user: { name: 'Probe', contact: `probe-${n}@example.com` }, creditCard: { number: '5105105105105100', expirationDate: '12/30', cvv: '123' } }),
  );
  expect(body.status).toBe('Order Approved');
  await waitFor(`probe order ${n}'s events from all three services`, async () => (new Set(eventLines(body.orderId).map((l) => l.service)).size === 3 ? true : undefined));
}

describe('an approved order', () => {
  it('runs A→B→D→C→E→F with exactly the seed diagram’s clocks', async () => {
    const { status, body } = await postCheckout(system.baseUrl, coursePageOrder({ items: [{ name: 'Dune', quantity: 1 }] }));
    expect(status).toBe(200);
    expect(body.status).toBe('Order Approved');
    expect(body.orderId).toMatch(/^ord_/);
    expect(body.events).toEqual([
      { event: 'A', service: TV, vectorClock: clock(1, 0, 0), passed: true },
      { event: 'B', service: TV, vectorClock: clock(2, 0, 0), passed: true },
      { event: 'D', service: FD, vectorClock: clock(2, 1, 0), passed: true },
      { event: 'C', service: TV, vectorClock: clock(3, 1, 0), passed: true },
      { event: 'E', service: FD, vectorClock: clock(3, 2, 0), passed: true },
      { event: 'F', service: SG, vectorClock: clock(3, 2, 1), passed: true },
    ]);
    expect(body.rejection).toBeUndefined();
    expect(body.suggestedBooks.length).toBe(3);
    for (const book of body.suggestedBooks) {
      expect(book).toEqual({ bookId: expect.stringMatching(/^bk-/), title: expect.any(String), author: expect.any(String) });
      expect(book.title).not.toBe('Dune');
    }
    expect(body.traceId).toMatch(/^[0-9a-f]{32}$/);

    // Each service logged its own events, with the clock and the checkout's trace id.
    const lines = await waitFor('six event log lines', async () => {
      const found = eventLines(body.orderId);
      return found.length === 6 ? found : undefined;
    });
    expect(lines.map((l) => [l.event, l.service])).toEqual(ORDER.map((e, i) => [e, body.events[i].service]));
    for (const [i, line] of lines.entries()) {
      expect(line.vector_clock).toEqual(body.events[i].vectorClock);
      expect(line.trace_id).toBe(body.traceId);
    }
  });

  it('is served again by GET /orders/:id', async () => {
    const { body } = await postCheckout(system.baseUrl, coursePageOrder());
    const res = await fetch(`${system.baseUrl}/orders/${body.orderId}`);
    expect(res.status).toBe(200);
    // Once executed, the order adds where (execution) and, under two-phase commit, how (commit, payment).
    const { state, execution: _execution, commit: _commit, payment: _payment, ...stored } = (await res.json()) as Record<string, unknown>;
    const { state: initialState, ...answered } = body;
    expect(stored).toEqual(answered);
    expect(initialState).toBe('queued');
    expect(['queued', 'executed']).toContain(state);
    const missing = await fetch(`${system.baseUrl}/orders/ord_nope`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ error: { code: 'ORDER_NOT_FOUND', message: expect.any(String) } });
  });
});

describe('a failing event stops the chain', () => {
  const cases: [string, Record<string, unknown>, string][] = [
    ['A', { items: [] }, 'ITEMS_EMPTY'],
    ['B', { termsAccepted: false }, 'TERMS_NOT_ACCEPTED'],
    ['D', { user: { name: 'Mallory', contact: 'mallory@example.com' } }, 'USER_BLOCKLISTED'],
    ['C', { creditCard: { number: '4111111111111112', expirationDate: '12/30', cvv: '123' } }, 'CARD_NUMBER_INVALID'],
    ['E', { creditCard: { number: '0000000000000000', expirationDate: '12/30', cvv: '123' } }, 'CARD_REPEATED_DIGITS'],
  ];

  it.each(cases)('at event %s: a 200 rejection, and no later event runs', async (event, change, code) => {
    const { status, body } = await postCheckout(system.baseUrl, coursePageOrder(change), 'text/plain;charset=UTF-8');
    expect(status).toBe(200);
    expect(body.status).toBe('Order Rejected');
    expect(body.suggestedBooks).toEqual([]);
    expect(body.rejection).toEqual({ event, code, message: expect.any(String) });
    const ran = ORDER.slice(0, ORDER.indexOf(event) + 1);
    expect(body.events.map((e: { event: string }) => e.event)).toEqual(ran);
    expect(body.events.at(-1).passed).toBe(false);
    expect(body.events.slice(0, -1).every((e: { passed: boolean }) => e.passed)).toBe(true);

    // The services' own logs agree: the events up to the failure ran, none after it. (Which ran, not in which order
    // their lines arrived: each service's lines reach the launcher through a pipe of its own.)
    await servicesLogsCaughtUp();
    expect(eventLines(body.orderId).map((l) => l.event).sort()).toEqual([...ran].sort());
  });
});

describe('the final clock broadcast', () => {
  it('clears the order from all three services, after the answer', async () => {
    const { body } = await postCheckout(system.baseUrl, coursePageOrder());
    expect(body.status).toBe('Order Approved');
    const clients = grpc();
    // The answer does not wait for the broadcast, so it may still be on its way. The probe changes nothing: each
    // service ran an event of this order, so its clock is ahead of an all-zero final clock; a service still holding
    // the order refuses it (FAILED_PRECONDITION) and keeps it (the next test), and only one that no longer has it
    // answers NOT_FOUND.
    const codeOf = (service: typeof TV | typeof FD | typeof SG) =>
      clients[service].clearOrder({ orderId: body.orderId, finalClock: { entries: clock(0, 0, 0) } }).then(
        () => Status.OK,
        (err: ClientError) => err.code,
      );
    const codes = await waitFor('the order cleared in all three services', async () => {
      const all = await Promise.all([codeOf(TV), codeOf(FD), codeOf(SG)]);
      return all.every((code) => code !== Status.FAILED_PRECONDITION) ? all : undefined;
    }, 5000);
    expect(codes).toEqual([Status.NOT_FOUND, Status.NOT_FOUND, Status.NOT_FOUND]);
  });

  it('is refused by a service whose local clock is ahead of the final clock', async () => {
    const sg = grpc()[SG];
    const orderId = `ord_test_${Date.now()}`;
    await sg.initOrder({ order: { orderId, items: [{ name: 'Dune', quantity: 1 }], shippingMethod: '', termsAccepted: true, giftWrapping: false } });
    const result = await sg.suggest({ orderId, clock: { entries: clock(3, 2, 0) }, causeTraceparent: '' });
    expect(result.events.map((e) => e.clock?.entries)).toEqual([clock(3, 2, 1)]);

    const refused = await sg.clearOrder({ orderId, finalClock: { entries: clock(3, 2, 0) } }).catch((e) => e);
    expect(refused).toBeInstanceOf(ClientError);
    expect(refused.code).toBe(Status.FAILED_PRECONDITION);
    expect(refused.details).toMatch(/ahead/);

    const cleared = await sg.clearOrder({ orderId, finalClock: { entries: clock(3, 2, 1) } });
    expect(cleared.cleared).toBe(true);
  });

  it('answers a ClearOrders batch order by order: one refusal keeps only its own order', async () => {
    const sg = grpc()[SG];
    const stamp = Date.now();
    const ids = ['ahead', 'done', 'unknown'].map((name) => `ord_test_batch_${name}_${stamp}`);
    for (const orderId of ids.slice(0, 2)) {
      await sg.initOrder({ order: { orderId, items: [{ name: 'Dune', quantity: 1 }], shippingMethod: '', termsAccepted: true, giftWrapping: false } });
      await sg.suggest({ orderId, clock: { entries: clock(3, 2, 0) }, causeTraceparent: '' });
    }
    const { outcomes } = await sg.clearOrders({
      orders: [
        { orderId: ids[0], finalClock: { entries: clock(3, 2, 0) } },
        { orderId: ids[1], finalClock: { entries: clock(3, 2, 1) } },
        { orderId: ids[2], finalClock: { entries: clock(3, 2, 1) } },
      ],
    });
    expect(outcomes.map((o) => [o.cleared, o.refusal])).toEqual([
      [false, ClearRefusal.CLEAR_REFUSAL_CLOCK_AHEAD],
      [true, ClearRefusal.CLEAR_REFUSAL_UNSPECIFIED],
      [false, ClearRefusal.CLEAR_REFUSAL_UNKNOWN_ORDER],
    ]);
    expect(outcomes[0].reason).toMatch(/ahead/);
    expect(outcomes[0].localClock?.entries).toEqual(clock(3, 2, 1));
    expect(outcomes[1].localClock?.entries).toEqual(clock(3, 2, 1));
    // The refused order is still there (a later, complete final clock clears it); the cleared one is gone.
    await expect(sg.clearOrder({ orderId: ids[1], finalClock: { entries: clock(3, 2, 1) } })).rejects.toMatchObject({ code: Status.NOT_FOUND });
    expect((await sg.clearOrder({ orderId: ids[0], finalClock: { entries: clock(3, 2, 1) } })).cleared).toBe(true);
  });

  it('runs event D once its InitOrder arrives, when the call from B overtook it', async () => {
    const clients = grpc();
    const orderId = `ord_test_late_${Date.now()}`;
    const order = {
      orderId,
      user: { name: 'Ada Lovelace', contact: `ada-${Date.now()}@example.com` },
      creditCard: { number: '378282246310005', expirationDate: '12/30', cvv: '1234' },
      items: [{ name: 'Dune', quantity: 1 }],
      billingAddress: { street: '1 Analytical Row', city: 'London', state: 'LDN', zip: 'N1 1AA', country: 'UK' },
      shippingMethod: 'Standard',
      termsAccepted: true,
      giftWrapping: false,
    };
    await clients[TV].initOrder({ order });
    await clients[SG].initOrder({ order });
    // B has passed at transaction-verification (2,0,0); fraud-detection has not been initialised yet.
    const started = performance.now();
    const checked = clients[FD].checkUser({ orderId, clock: { entries: clock(2, 0, 0) }, causeTraceparent: '' });
    await new Promise((r) => setTimeout(r, 200));
    await clients[FD].initOrder({ order });
    const result = await checked;
    expect(performance.now() - started).toBeGreaterThanOrEqual(190);
    expect(result.rejection).toBeUndefined();
    expect(result.events.map((e) => [e.event, e.clock?.entries])).toEqual([
      ['D', clock(2, 1, 0)],
      ['C', clock(3, 1, 0)],
      ['E', clock(3, 2, 0)],
      ['F', clock(3, 2, 1)],
    ]);
  });

  it('answers NOT_FOUND for an event whose order never arrives, after waiting for it', async () => {
    const started = performance.now();
    await expect(grpc()[SG].suggest({ orderId: `ord_never_${Date.now()}`, clock: { entries: clock(3, 2, 0) }, causeTraceparent: '' })).rejects.toMatchObject({
      code: Status.NOT_FOUND,
    });
    // CAUSEWAY_ORDER_ARRIVAL_WAIT_MS, 1 s by default.
    expect(performance.now() - started).toBeGreaterThanOrEqual(950);
  });

  it('rejects an unknown order with NOT_FOUND instead of inventing a clock', async () => {
    await expect(grpc()[TV].startChecks({ orderId: 'ord_unknown', clock: { entries: {} }, causeTraceparent: '' })).rejects.toMatchObject({
      code: Status.NOT_FOUND,
    });
  });
});

describe('operations', () => {
  it('reports every downstream service on GET /health', async () => {
    const res = await fetch(`${system.baseUrl}/health`);
    const body = (await res.json()) as { status: string; services: Record<string, { status: string }> };
    expect(res.status).toBe(200);
    expect(body.status).toBe('ok');
    expect(Object.keys(body.services).sort()).toEqual(['books-database', FD, 'order-queue', 'payment', SG, TV]);
    for (const s of Object.values(body.services) as { status: string }[]) expect(s.status).toBe('SERVING');
  });

  it('refuses stock changes while no admin token is configured (403 ADMIN_DISABLED), with or without a token', async () => {
    for (const headers of [{}, { authorization: 'Bearer some-token-0123456789abcdef' }] as Record<string, string>[]) {
      const res = await fetch(`${system.baseUrl}/books/bk-001/stock`, { method: 'PUT', headers: { 'content-type': 'application/json', ...headers }, body: '{"stock": 0}' });
      expect(res.status).toBe(403);
      expect(await res.json()).toEqual({ error: { code: 'ADMIN_DISABLED', message: expect.stringContaining('CAUSEWAY_ADMIN_TOKEN') } });
    }
    const res = await waitFor('GET /books', async () => {
      const r = await fetch(`${system.baseUrl}/books`);
      return r.status === 200 ? r : undefined;
    });
    const hobbit = ((await res.json()) as { books: { bookId: string; stock: number }[] }).books.find((b) => b.bookId === 'bk-001');
    expect(hobbit?.stock).toBeGreaterThan(0);
  });

  it('keeps working when its collector fails and says so once per process', async () => {
    await postCheckout(system.baseUrl, coursePageOrder());
    const allWarnings = () => system.records().filter((r) => /trace export to .* failed/.test(r.message));
    // The books database's replicas export only once they have a span to send (an election they ran, a traced
    // call they served), which not every replica has: counted on their own below.
    const warnings = () => allWarnings().filter((r) => r.service !== 'books-database');
    // orchestrator, the three checkout services, the queue, payment (it tokenized the card) and three executors
    await waitFor('an export warning from every process', async () => (warnings().length >= 9 ? true : undefined));
    // The collector files every export before failing it, so later failed exports are seen, not assumed.
    const exportsBy = () => {
      const counts: Record<string, number> = {};
      for (const span of collector.spans()) counts[span.service] = (counts[span.service] ?? 0) + 1;
      return counts;
    };
    const before = exportsBy();
    const { body } = await postCheckout(system.baseUrl, coursePageOrder());
    expect(body.status).toBe('Order Approved');
    const services = [TV, FD, SG, 'orchestrator', 'order-queue', 'payment', 'order-executor'];
    await waitFor('a failed export from every service after the first warnings', async () => {
      const now = exportsBy();
      return services.every((s) => (now[s] ?? 0) > (before[s] ?? 0)) ? true : undefined;
    });
    expect(warnings().length).toBe(9);
    expect(new Set(warnings().map((r) => r.service))).toEqual(
      new Set([TV, FD, SG, 'orchestrator', 'order-queue', 'payment', 'order-executor']),
    );
    const database = () => allWarnings().length - warnings().length;
    await waitFor("an export warning from the books database's leader", async () => (database() >= 1 ? true : undefined));
    expect(database()).toBeLessThanOrEqual(3);
  });

  it('never logs a card number or CVV, nor exports one as a metric', async () => {
    const { body } = await postCheckout(system.baseUrl, coursePageOrder({ creditCard: { number: '5555555555554444', expirationDate: '12/30', cvv: '9071' } }));
    // This order's own lines are in: all six events, and the leader's announcement of its execution.
    await waitFor("the order's event lines and its execution line", async () => {
      const events = eventLines(body.orderId).map((l) => l.event);
      const executed = system.records().some((r) => r.message.startsWith(`Order ${body.orderId} executed`));
      return events.length === 6 && executed ? true : undefined;
    });
    const metrics = await Promise.all(Object.values(system.metricsPorts).map(async (port) => (await fetch(`http://127.0.0.1:${port}/metrics`)).text()));
    const all = system.lines.join('\n') + metrics.join('\n');
    expect(all).toContain('executor_is_leader');
    expect(all).not.toContain('5555555555554444');
    expect(all).not.toContain('4111111111111111');
    expect(all).not.toMatch(/(^|\D)9071(\D|$)/);
  });

  it('stores only a masked card at rest: the queue journal and the Raft logs', async () => {
    const { body } = await postCheckout(system.baseUrl, coursePageOrder({ creditCard: { number: '5555555555554444', expirationDate: '12/30', cvv: '9071' } }));
    await waitFor('the order to be executed', async () => {
      const order = await getJson(`${system.baseUrl}/orders/${body.orderId}`);
      return order.state === 'executed' ? true : undefined;
    });
    const files = (dir: string): string[] =>
      fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(path.join(dir, e.name)) : [path.join(dir, e.name)]));
    const stored = files(system.dataDir).filter((f) => !f.endsWith('processes.json'));
    expect(stored.some((f) => f.includes('order-queue'))).toBe(true);
    expect(stored.some((f) => f.endsWith('raft.log'))).toBe(true);
    const text = stored.map((f) => fs.readFileSync(f, 'utf8')).join('\n');
    expect(text).toContain(body.orderId);
    expect(text).toContain('**** 4444');
    expect(text).not.toContain('5555555555554444');
    expect(text).not.toMatch(/(^|\D)9071(\D|$)/);
  });
});
