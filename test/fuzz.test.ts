/**
 * Property-based fuzzing against the real processes: 10,000 generated bodies at
 * POST /checkout (wrong types, missing fields, huge strings, deep nesting,
 * unicode, prototype-pollution keys, numbers as strings, arrays for objects,
 * malformed JSON) must each get a 200 or a 4xx with {error:{code,message}}; and
 * malformed bytes at every gRPC method must get a gRPC status, never a crash;
 * and Raft messages that break the transport's rules (strangers, gaps, unknown
 * types) are refused with INVALID_ARGUMENT without touching the node.
 * Afterwards every process is alive and healthy, and the orchestrator's memory
 * has stayed bounded.
 */
import { credentials, makeGenericClientConstructor, Metadata, status as GrpcStatus } from '@grpc/grpc-js';
import fc from 'fast-check';
import fs from 'node:fs';
import http from 'node:http';
import { StepRequest, type RaftMessage } from '../src/gen/causeway/v1/raft';
import { coursePageOrder, startSystem, type RunningSystem } from './support/system';

const RUNS = Number(process.env.FUZZ_RUNS ?? 10_000);
let system: RunningSystem;

beforeAll(async () => {
  system = await startSystem({ FRAUD_CONTACT_VELOCITY_LIMIT: '100000000', FRAUD_CARD_VELOCITY_LIMIT: '100000000', LOG_LEVEL: 'warn' });
});
afterAll(async () => {
  await system?.stop();
});

const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });

function post(body: string, contentType: string | undefined): Promise<{ status: number; text: string }> {
  const url = new URL(`${system.baseUrl}/checkout`);
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { 'content-length': Buffer.byteLength(body) };
    if (contentType) headers['content-type'] = contentType;
    const req = http.request({ agent, host: url.hostname, port: url.port, path: '/checkout', method: 'POST', headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const rssOf = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) * 1024;

// ------------------------------------------------------------------ generators

const FIELDS = ['user', 'creditCard', 'items', 'billingAddress', 'shippingMethod', 'termsAccepted', 'termsAndConditionsAccepted', 'giftWrapping', 'userComment'];
const weird = fc.oneof(
  fc.jsonValue({ maxDepth: 4 }),
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.integer().map(String),
  fc.constant(null),
  fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 5 }),
  fc.string({ maxLength: 5 }).map((s) => s.repeat(2000)),
  fc.double(),
);

/** A valid course-page order with one field broken in some way. */
const mutatedOrder = fc.tuple(fc.constantFrom(...FIELDS), weird, fc.boolean()).map(([field, value, drop]) => {
  const order: Record<string, unknown> = coursePageOrder();
  if (drop) delete order[field];
  else order[field] = value;
  return JSON.stringify(order);
});

/** Orders with a nested field changed: item quantities as strings, names as objects, etc. */
const nestedMutation = fc.tuple(fc.constantFrom('name', 'quantity'), weird).map(([field, value]) =>
  JSON.stringify(coursePageOrder({ items: [{ name: 'Dune', quantity: 1, [field]: value }] })),
);

const pollution = fc.tuple(fc.constantFrom('__proto__', 'constructor', 'prototype'), fc.jsonValue({ maxDepth: 2 })).map(
  ([key, value]) => {
    const base = JSON.stringify(coursePageOrder());
    return `{"${key}": ${JSON.stringify(value) ?? 'null'}, ${base.slice(1)}`;
  },
);

const deepNesting = fc.integer({ min: 50, max: 3000 }).map((depth) => `{"user":${'['.repeat(depth)}${']'.repeat(depth)}}`);

const garbage = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 300 }),
  fc.string({ maxLength: 300 }).map((s) => `{${s}`),
  fc.constantFrom('', 'null', 'true', '[]', '{}', '"order"', '{"items":[}', '{"user":{"name":"a"}}x'),
);

const huge = fc.integer({ min: 60, max: 200 }).map((kb) => JSON.stringify(coursePageOrder({ userComment: 'x'.repeat(kb * 1024) })));

const valid = fc.constant(null).map(() => JSON.stringify(coursePageOrder()));

const body = fc.oneof(
  { weight: 30, arbitrary: mutatedOrder },
  { weight: 15, arbitrary: nestedMutation },
  { weight: 10, arbitrary: pollution },
  { weight: 5, arbitrary: deepNesting },
  { weight: 30, arbitrary: garbage },
  { weight: 3, arbitrary: huge },
  { weight: 1, arbitrary: valid },
);
const contentType = fc.constantFrom('application/json', 'text/plain;charset=UTF-8', undefined, 'application/x-www-form-urlencoded', 'application/json; charset=latin1');

// ------------------------------------------------------------------ properties

describe('HTTP fuzzing', () => {
  it(`answers ${RUNS} generated bodies with 200 or a 4xx error object, and keeps running`, async () => {
    const orchestratorPid = system.pids().orchestrator;
    const rssBefore = rssOf(orchestratorPid);
    const seen = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(body, contentType, async (b, type) => {
        const { status, text } = await post(b, type);
        seen.set(status, (seen.get(status) ?? 0) + 1);
        const parsed = JSON.parse(text);
        if (status === 200) {
          expect(['Order Approved', 'Order Rejected']).toContain(parsed.status);
          expect(Array.isArray(parsed.suggestedBooks)).toBe(true);
        } else {
          expect(status >= 400 && status < 500).toBe(true);
          expect(typeof parsed.error.code).toBe('string');
          expect(typeof parsed.error.message).toBe('string');
        }
      }),
      { numRuns: RUNS },
    );
    // The generators reached both sides of the API.
    expect(seen.get(200) ?? 0).toBeGreaterThan(0);
    expect(seen.get(400) ?? 0).toBeGreaterThan(RUNS / 4);
    expect(seen.get(413) ?? 0).toBeGreaterThan(0);

    expect((await fetch(`${system.baseUrl}/health`)).status).toBe(200);
    expect(system.pids().orchestrator).toBe(orchestratorPid); // never restarted
    expect(rssOf(orchestratorPid) - rssBefore).toBeLessThan(150 * 2 ** 20);
    expect(system.records().filter((r) => r.level === 'error')).toEqual([]);
  }, 600_000);
});

describe('gRPC fuzzing', () => {
  const METHODS: Record<string, string[]> = {
    'transaction-verification': ['causeway.v1.TransactionVerification/InitOrder', 'causeway.v1.TransactionVerification/StartChecks', 'causeway.v1.TransactionVerification/InitAndStartChecks', 'causeway.v1.TransactionVerification/VerifyCard', 'causeway.v1.TransactionVerification/ClearOrder', 'causeway.v1.TransactionVerification/ClearOrders'],
    'fraud-detection': ['causeway.v1.FraudDetection/InitOrder', 'causeway.v1.FraudDetection/CheckUser', 'causeway.v1.FraudDetection/CheckCard', 'causeway.v1.FraudDetection/ClearOrder', 'causeway.v1.FraudDetection/ClearOrders'],
    suggestions: ['causeway.v1.Suggestions/InitOrder', 'causeway.v1.Suggestions/Suggest', 'causeway.v1.Suggestions/ClearOrder', 'causeway.v1.Suggestions/ClearOrders'],
    'order-queue': ['causeway.v1.OrderQueue/Enqueue', 'causeway.v1.OrderQueue/EnqueueBatch', 'causeway.v1.OrderQueue/Dequeue', 'causeway.v1.OrderQueue/Ack', 'causeway.v1.OrderQueue/Nack', 'causeway.v1.OrderQueue/Stats'],
    'executor-1': ['causeway.v1.OrderExecutor/Status', 'causeway.v1.OrderExecutor/Executions'],
    payment: ['causeway.v1.Payment/Tokenize', 'causeway.v1.Payment/PrepareBatch', 'causeway.v1.Payment/FinishBatch', 'causeway.v1.Payment/Get', 'causeway.v1.Payment/Status'],
  };

  it('answers malformed messages on every method with a gRPC status, and every service stays up', async () => {
    const Raw = makeGenericClientConstructor({}, 'Raw');
    const before = system.pids();
    const statuses = new Set<number>();
    for (const [service, methods] of Object.entries(METHODS)) {
      const address = system.addresses[service] ?? system.executors[service];
      const client = new Raw(address, credentials.createInsecure());
      for (const method of methods) {
        await fc.assert(
          fc.asyncProperty(fc.uint8Array({ maxLength: 256 }), async (bytes) => {
            const code = await new Promise<number>((resolve) => {
              client.makeUnaryRequest(
                `/${method}`,
                (b: Buffer) => b,
                (b: Buffer) => b,
                Buffer.from(bytes),
                new Metadata(),
                { deadline: Date.now() + 2000 },
                (err) => resolve(err ? (err.code ?? GrpcStatus.UNKNOWN) : GrpcStatus.OK),
              );
            });
            statuses.add(code);
            // Anything but a transport failure: the server decoded (or refused) and answered.
            expect([GrpcStatus.UNAVAILABLE, GrpcStatus.DEADLINE_EXCEEDED]).not.toContain(code);
          }),
          { numRuns: 60 },
        );
      }
      client.close();
    }
    expect(statuses.has(GrpcStatus.INTERNAL) || statuses.has(GrpcStatus.INVALID_ARGUMENT) || statuses.has(GrpcStatus.NOT_FOUND)).toBe(true);
    expect(system.pids()).toEqual(before);
    expect((await fetch(`${system.baseUrl}/health`)).status).toBe(200);
  }, 300_000);
});

describe('Raft transport fuzzing', () => {
  const Raw = makeGenericClientConstructor({}, 'Raw');
  /** A well-formed message from executor-2 to executor-1, with one thing wrong. */
  const message = (overrides: Partial<RaftMessage>): RaftMessage => ({
    type: 'AppendResponse', from: 'executor-2', to: 'executor-1', term: 0, logTerm: 0, index: 0, entries: [], commit: 0, reject: true, rejectHint: 0, snapshot: undefined, context: 0,
    ...overrides,
  });
  const entry = (index: number, term = 0, type = 'noop') => ({ index, term, type, data: '' });
  const WRONG: Record<string, RaftMessage> = {
    'an unknown type': message({ type: 'Elect' }),
    'a sender that is not a peer': message({ from: 'intruder' }),
    'a message for another node': message({ to: 'executor-3' }),
    'a sender claiming to be the receiver': message({ from: 'executor-1' }),
    'entries with a gap': message({ type: 'Append', index: 0, entries: [entry(1), entry(3)] }),
    'an entry newer than its message': message({ type: 'Append', term: 0, entries: [entry(1, 7)] }),
    'an entry of unknown type': message({ type: 'Append', entries: [entry(1, 0, 'drop-table')] }),
    'a command without data': message({ type: 'Append', entries: [entry(1, 0, 'command')] }),
    'a Snapshot without a snapshot': message({ type: 'Snapshot' }),
    'a response carrying entries': message({ entries: [entry(1)] }),
  };

  /** Writes raw chunks on one executor Stream call, ends it, and resolves with the status it ended with. */
  const streamStatus = (client: InstanceType<typeof Raw>, chunks: Uint8Array[]) =>
    new Promise<number>((resolve) => {
      const stream = client.makeClientStreamRequest(
        '/causeway.v1.OrderExecutor/Stream',
        (b: Buffer) => b,
        (b: Buffer) => b,
        new Metadata(),
        { deadline: Date.now() + 2000 },
        (err) => resolve(err ? (err.code ?? GrpcStatus.UNKNOWN) : GrpcStatus.OK),
      );
      for (const chunk of chunks) stream.write(Buffer.from(chunk));
      stream.end();
    });

  it.each(Object.entries(WRONG))('refuses %s with INVALID_ARGUMENT, and the executor stays up', async (_what, bad) => {
    const before = system.pids()['executor-1'];
    const client = new Raw(system.executors['executor-1'], credentials.createInsecure());
    try {
      // Peers talk over one long-lived stream: a bad batch ends it with INVALID_ARGUMENT.
      const code = await streamStatus(client, [StepRequest.encode({ messages: [bad] }).finish()]);
      expect(code).toBe(GrpcStatus.INVALID_ARGUMENT);
    } finally {
      client.close();
    }
    expect(system.pids()['executor-1']).toBe(before);
  });

  it('answers garbage on the stream with a gRPC status, never a crash', async () => {
    const before = system.pids();
    const client = new Raw(system.executors['executor-2'], credentials.createInsecure());
    await fc.assert(
      fc.asyncProperty(fc.array(fc.uint8Array({ maxLength: 256 }), { minLength: 1, maxLength: 4 }), async (chunks) => {
        const code = await streamStatus(client, chunks);
        expect([GrpcStatus.UNAVAILABLE, GrpcStatus.DEADLINE_EXCEEDED]).not.toContain(code);
      }),
      { numRuns: 60 },
    );
    client.close();
    expect(system.pids()).toEqual(before);
  }, 120_000);
});
