/**
 * Traces leave the services over OTLP/gRPC: a real receiver started here gets one
 * trace per checkout, the six event spans with their vector clocks and
 * happened-before links, and no card data anywhere.
 */
import { OtlpReceiver, type ReceivedSpan } from './support/otlp-receiver';
import { coursePageOrder, postCheckout, startSystem, waitFor, type RunningSystem } from './support/system';
import { standingAlone, withoutRandomIds } from './support/card-search';

const CARD = '5555555555554444';
const CVV = '9071';
const receiver = new OtlpReceiver();
let system: RunningSystem;

beforeAll(async () => {
  const endpoint = await receiver.start();
  system = await startSystem({ OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, RAFT_TRACE_SAMPLE_RATE: '1' });
});
afterAll(async () => {
  await system?.stop();
  await receiver.stop();
});

describe('OTLP trace export', () => {
  let checkout: any;
  let trace: ReceivedSpan[];
  let events: Record<string, ReceivedSpan>;

  beforeAll(async () => {
    const res = await postCheckout(
      system.baseUrl,
      coursePageOrder({ creditCard: { number: CARD, expirationDate: '12/30', cvv: CVV }, items: [{ name: 'Emma', quantity: 1 }] }),
    );
    expect(res.body.status).toBe('Order Approved');
    checkout = res.body;
    trace = await waitFor('the checkout trace with six event spans and the orchestrator spans', async () => {
      const spans = receiver.spans().filter((s) => s.traceId === checkout.traceId);
      const eventSpans = spans.filter((s) => /^event [A-F]$/.test(s.name));
      // The HTTP server span ends after the response is written, so it may come in a later export batch.
      const httpServer = spans.some((s) => s.service === 'orchestrator' && s.name.startsWith('POST'));
      const complete =
        eventSpans.length === 6 && httpServer && spans.some((s) => s.name === 'checkout') && spans.some((s) => s.service === 'order-queue') && spans.some((s) => s.service === 'payment');
      return complete ? spans : undefined;
    });
    events = Object.fromEntries(trace.filter((s) => /^event [A-F]$/.test(s.name)).map((s) => [s.attributes['order.event'] as string, s]));
  });

  it('puts the whole checkout in one trace, from the HTTP request down to event F', () => {
    expect(Object.keys(events).sort()).toEqual(['A', 'B', 'C', 'D', 'E', 'F']);
    const services = new Set(trace.map((s) => s.service));
    // The four checkout services, payment (which tokenized the card), and the queue the approved order was enqueued into.
    expect(services).toEqual(new Set(['orchestrator', 'transaction-verification', 'fraud-detection', 'suggestions', 'payment', 'order-queue']));
    expect(trace.some((s) => s.service === 'orchestrator' && s.name.startsWith('POST'))).toBe(true);
    // gRPC client and server spans (src/platform/grpc-tracing.ts) join the same trace.
    const checkUser = trace.filter((s) => s.name === 'causeway.v1.FraudDetection/CheckUser');
    expect(checkUser.map((s) => s.service).sort()).toEqual(['fraud-detection', 'transaction-verification']);
    const [client, server] = ['transaction-verification', 'fraud-detection'].map((svc) => checkUser.find((s) => s.service === svc)!);
    expect(server.parentSpanId).toBe(client.spanId);
  });

  it("shows in the checkout's trace when its order became durable, linked to the EnqueueBatch call that carried it", async () => {
    const durable = trace.filter((s) => s.name === 'order durable');
    expect(durable.map((s) => s.service)).toEqual(['order-queue']);
    expect(durable[0].attributes['order.id']).toBe(checkout.orderId);
    expect(durable[0].links).toHaveLength(1);
    const [link] = durable[0].links;
    const batch = await waitFor('the EnqueueBatch server span', async () =>
      receiver.spans().find((s) => s.spanId === link.spanId && s.traceId === link.traceId),
    );
    expect(batch).toMatchObject({ name: 'causeway.v1.OrderQueue/EnqueueBatch', kind: 2, service: 'order-queue' });
    expect(batch.traceId).not.toBe(checkout.traceId);
  });

  it("shows in the checkout's trace the final clock broadcast, linked to the three ClearOrders batches that carried it", async () => {
    const broadcast = await waitFor('the final clock broadcast span', async () =>
      receiver.spans().find((s) => s.traceId === checkout.traceId && s.name === 'final clock broadcast'),
    );
    const checkoutSpan = trace.find((s) => s.name === 'checkout')!;
    expect(broadcast).toMatchObject({ service: 'orchestrator', parentSpanId: checkoutSpan.spanId });
    expect(broadcast.attributes['order.id']).toBe(checkout.orderId);
    expect(broadcast.attributes['vector_clock.final']).toBe('(3,2,1)');
    expect(broadcast.status.code).not.toBe(2);
    expect(broadcast.links).toHaveLength(3);
    // Each link is a batch of its own trace, whose ClearOrders call reached its service.
    const calls = await waitFor('the three ClearOrders server spans', async () => {
      const found = broadcast.links.map((l) =>
        receiver.spans().find((s) => s.traceId === l.traceId && s.kind === 2 && s.name.endsWith('/ClearOrders')),
      );
      return found.every(Boolean) ? found.map((s) => s!) : undefined;
    });
    expect(calls.map((s) => s.service).sort()).toEqual(['fraud-detection', 'suggestions', 'transaction-verification']);
    expect(broadcast.links.map((l) => l.traceId)).not.toContain(checkout.traceId);
    // The per-order ClearOrder calls are gone from the checkout's trace.
    expect(receiver.spans().filter((s) => s.traceId === checkout.traceId && /ClearOrders?$/.test(s.name))).toEqual([]);
  });

  it("answers the HTTP request with a server span that continues the caller's traceparent", async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const parentSpanId = '00f067aa0ba902b7';
    const res = await fetch(`${system.baseUrl}/checkout`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', traceparent: `00-${traceId}-${parentSpanId}-01` },
      body: JSON.stringify(coursePageOrder()),
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { traceId: string }).traceId).toBe(traceId);
    const server = await waitFor('the POST span of the propagated trace', async () =>
      receiver.spans().find((s) => s.traceId === traceId && s.name === 'POST /checkout'),
    );
    expect(server.parentSpanId).toBe(parentSpanId);
    expect(server.kind).toBe(2);
    expect(server.attributes['http.response.status_code']).toBe(200);
    expect(server.attributes['http.route']).toBe('/checkout');
    const checkoutSpan = receiver.spans().find((s) => s.traceId === traceId && s.name === 'checkout');
    expect(checkoutSpan?.parentSpanId).toBe(server.spanId);
  });

  it('gives each event span its order, event, service and vector clock', () => {
    const expected: Record<string, [string, number, number, number]> = {
      A: ['transaction-verification', 1, 0, 0],
      B: ['transaction-verification', 2, 0, 0],
      D: ['fraud-detection', 2, 1, 0],
      C: ['transaction-verification', 3, 1, 0],
      E: ['fraud-detection', 3, 2, 0],
      F: ['suggestions', 3, 2, 1],
    };
    for (const [event, [service, tv, fd, sg]] of Object.entries(expected)) {
      const span = events[event];
      expect(span.service).toBe(service);
      expect(span.attributes['order.id']).toBe(checkout.orderId);
      expect(span.attributes['order.event']).toBe(event);
      expect(JSON.parse(span.attributes['vector_clock'] as string)).toEqual({
        'transaction-verification': tv,
        'fraud-detection': fd,
        suggestions: sg,
      });
      expect(span.attributes['vector_clock.transaction-verification']).toBe(tv);
      expect(span.attributes['vector_clock.fraud-detection']).toBe(fd);
      expect(span.attributes['vector_clock.suggestions']).toBe(sg);
    }
  });

  it('links each event span to the span of the event it causally follows', () => {
    expect(events.A.links).toEqual([]);
    for (const [event, cause] of [
      ['B', 'A'],
      ['D', 'B'],
      ['C', 'D'],
      ['E', 'C'],
      ['F', 'E'],
    ]) {
      expect(events[event].links.map((l) => [l.traceId, l.spanId])).toEqual([[checkout.traceId, events[cause].spanId]]);
    }
  });

  it("links the order's execution, on every replica, back to its checkout trace", async () => {
    const executions = await waitFor('an execute-order span on each executor', async () => {
      const found = receiver
        .spans()
        .filter((s) => s.name === 'execute order' && s.attributes['order.id'] === checkout.orderId);
      return new Set(found.map((s) => s.attributes['executor.id'])).size === 3 ? found : undefined;
    });
    for (const span of executions) {
      expect(span.service).toBe('order-executor');
      expect(span.links.map((l) => l.traceId)).toEqual([checkout.traceId]);
      expect(span.attributes['raft.index']).toEqual(expect.any(Number));
    }
  });

  it("traces the order's two-phase commit: a span linked to the checkout and to each batch call that carried it, a phase per event", async () => {
    const commit = await waitFor("the order's two-phase commit span, finished", async () =>
      receiver.spans().find((s) => s.name === 'two-phase commit' && s.attributes['order.id'] === checkout.orderId && s.events.some((e) => e.name === 'finished')),
    );
    expect(commit.service).toBe('order-executor');
    expect(commit.links.filter((l) => l.attributes['causeway.link'] === 'checkout').map((l) => l.traceId)).toEqual([checkout.traceId]);
    expect(commit.attributes['commit.decision']).toBe('commit');
    // Each phase is an event, sent then answered, in protocol order: both prepares answered before the decision,
    // the decision before any finish.
    const names = commit.events.map((e) => e.name);
    expect([...names].sort()).toEqual(
      [
        'prepare → books-database', 'prepare → payment', 'books-database voted', 'payment voted', 'decision',
        'finish → books-database', 'finish → payment', 'books-database finished', 'payment finished', 'finished',
      ].sort(),
    );
    const at = (name: string) => names.indexOf(name);
    expect(Math.max(at('books-database voted'), at('payment voted'))).toBeLessThan(at('decision'));
    expect(at('decision')).toBeLessThan(Math.min(at('finish → books-database'), at('finish → payment')));
    expect(at('finished')).toBe(names.length - 1);
    expect(commit.events.find((e) => e.name === 'payment voted')!.attributes).toEqual({ vote: 'YES' });
    expect(commit.events.find((e) => e.name === 'books-database finished')!.attributes).toEqual({ state: expect.any(String) });
    // The orders of one lease share one batch call per participant and phase: the span links to each, and each call
    // is traced on both sides.
    const calls = commit.links.filter((l) => l.attributes['causeway.link'] === 'participant call');
    expect(calls.map((l) => l.attributes['causeway.phase']).sort()).toEqual(
      ['finish → books-database', 'finish → payment', 'prepare → books-database', 'prepare → payment'].sort(),
    );
    const toCall = calls.find((l) => l.attributes['causeway.phase'] === 'prepare → books-database')!;
    const rpc = await waitFor('the PrepareBatch call on both sides', async () => {
      const spans = receiver.spans().filter((s) => s.traceId === toCall.traceId && s.name === 'causeway.v1.BooksDatabase/PrepareBatch');
      return spans.length >= 2 ? spans : undefined;
    });
    expect(rpc.map((s) => s.service).sort()).toEqual(['books-database', 'order-executor']);
  });

  it('traces elections: candidate, term, votes and outcome', () => {
    // The executors' elections (the books database's replicas elect their own leader, traced alike).
    const won = receiver.spans().filter((s) => s.name === 'raft election' && s.attributes['raft.outcome'] === 'won' && s.service === 'order-executor');
    expect(won.length).toBeGreaterThanOrEqual(1);
    expect(won[0].attributes).toMatchObject({
      'raft.candidate': expect.stringMatching(/^executor-\d$/),
      'raft.term': expect.any(Number),
      'raft.pre_vote': false,
    });
    expect((won[0].attributes['raft.votes.granted'] as string[]).length).toBeGreaterThanOrEqual(2);
    expect(won[0].events.map((e) => e.name)).toContain('became leader');
  });

  it('traces sampled replication from propose to commit', async () => {
    // The books database's replicas run the same Raft host and trace their replication too: the executors' here.
    const span = await waitFor('a raft replicate span from an executor', async () =>
      receiver.spans().find((s) => s.name === 'raft replicate' && s.service === 'order-executor'),
    );
    expect(span.attributes).toMatchObject({ 'raft.term': expect.any(Number), 'raft.entries': expect.any(Number) });
    expect(span.events.map((e) => e.name)).toEqual(['committed']);
  });

  it('marks a failed event span as an error with its rejection code', async () => {
    const res = await postCheckout(system.baseUrl, coursePageOrder({ items: [] }));
    const span = await waitFor('the failed event A span', async () =>
      receiver.spans().find((s) => s.traceId === res.body.traceId && s.name === 'event A'),
    );
    expect(span.status.code).toBe(2); // STATUS_CODE_ERROR
    expect(span.attributes['order.rejection.code']).toBe('ITEMS_EMPTY');
  });

  it("exports each service's logs over OTLP too, correlated with the checkout trace", async () => {
    const logs = await waitFor('the event log records of the checkout', async () => {
      const found = receiver.logs().filter((l) => l.traceId === checkout.traceId && /^event [A-F] passed/.test(String(l.body)));
      return found.length === 6 ? found : undefined;
    });
    expect(new Set(logs.map((l) => l.service))).toEqual(new Set(['transaction-verification', 'fraud-detection', 'suggestions']));
    for (const log of logs) {
      expect(log.severity).toBe('info');
      expect(log.attributes['order_id']).toBe(checkout.orderId);
      expect(log.spanId).toBe(events[log.attributes['event'] as string].spanId);
    }
  });

  it('exports no card number or CVV anywhere', () => {
    const everything = JSON.stringify(receiver.spans()) + JSON.stringify(receiver.logs());
    expect(everything).not.toContain(CARD);
    expect(withoutRandomIds(everything)).not.toMatch(standingAlone(CVV));
  });

  it('does not complain about the collector when it is there', () => {
    expect(system.records().filter((r) => /trace export to .* failed/.test(r.message))).toEqual([]);
  });
});
