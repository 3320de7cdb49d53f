/**
 * The real collector (deploy/otelcol, built by scripts/stack-tools.sh) loading otel/collector.yaml unchanged, on
 * ports of its own: spans go through the resource and card_redaction processors to the traces exporter (a test
 * OTLP receiver stands in for Jaeger), the span_metrics connector turns them into RED metrics per order event on
 * the Prometheus exporter, and logs go through card_redaction to the logs file. Then the redaction properties of
 * test/logger.test.ts, held against the real thing (issue 16): identifiers the services make, decimal-only trace
 * and span ids included, are never altered, Luhn-valid card numbers are always masked, and every value comes out
 * exactly as the services' logger would write it (maskCardNumbers). Each property run is one batch of cases
 * through the one collector. The processor's own unit tests are Go (deploy/otelcol/cardredaction).
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { startCollector, type CollectorPorts } from '../src/dev/stack/stack';
import type { ToolProcess } from '../src/dev/stack/tool-process';
import { OtlpReceiver } from './support/otlp-receiver';
import { luhnValid, maskCardNumbers } from '../src/platform/redaction';
import { after, before, cardNumber, identifier, joiner, masked, standsAlone, text } from './support/redaction-arbitraries';
import { freePort, waitFor } from './support/system';

type Attribute = string | number;
const kv = (key: string, value: Attribute) => ({
  key,
  value: typeof value === 'number' ? { intValue: String(value) } : { stringValue: value },
});

const receiver = new OtlpReceiver();
let collector: ToolProcess;
let ports: CollectorPorts;
let dir: string;
let logsFile: string;

beforeAll(async () => {
  await receiver.start();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'causeway-collector-'));
  logsFile = path.join(dir, 'logs.jsonl');
  ports = { otlpGrpc: await freePort(), otlpHttp: await freePort(), metrics: await freePort(), telemetry: await freePort(), health: await freePort() };
  collector = await startCollector({ ports, tracesTo: `127.0.0.1:${receiver.port}`, logsFile, logDir: dir });
}, 90_000);

afterAll(async () => {
  await collector?.stop();
  await receiver.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

interface TestSpan {
  traceId: string;
  name: string;
  attributes: Record<string, Attribute>;
}

/** OTLP/HTTP JSON to the collector's HTTP receiver (the services use gRPC; both are the same pipeline). */
async function post(signal: 'traces' | 'logs' | 'metrics', body: object): Promise<void> {
  const res = await fetch(`http://127.0.0.1:${ports.otlpHttp}/v1/${signal}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  expect(`${signal}: ${res.status} ${res.status === 200 ? '' : await res.text()}`).toBe(`${signal}: 200 `);
}

const resource = { attributes: [kv('service.name', 'collector-test')] };

async function sendSpans(spans: TestSpan[]): Promise<void> {
  const start = BigInt(Date.now()) * 1_000_000n;
  await post('traces', {
    resourceSpans: [
      {
        resource,
        scopeSpans: [
          {
            scope: { name: 'collector-test' },
            spans: spans.map((s) => ({
              traceId: s.traceId,
              spanId: randomBytes(8).toString('hex'),
              name: s.name,
              kind: 1,
              startTimeUnixNano: String(start),
              endTimeUnixNano: String(start + 3_000_000n),
              attributes: Object.entries(s.attributes).map(([k, v]) => kv(k, v)),
            })),
          },
        ],
      },
    ],
  });
}

async function sendLogs(records: { body: string; attributes: Record<string, Attribute> }[]): Promise<void> {
  const now = String(BigInt(Date.now()) * 1_000_000n);
  await post('logs', {
    resourceLogs: [
      {
        resource,
        scopeLogs: [
          {
            scope: { name: 'collector-test' },
            logRecords: records.map((r) => ({
              timeUnixNano: now,
              severityText: 'INFO',
              body: { stringValue: r.body },
              attributes: Object.entries(r.attributes).map(([k, v]) => kv(k, v)),
            })),
          },
        ],
      },
    ],
  });
}

interface WrittenLog {
  body: string;
  attributes: Record<string, string>;
}

/** What the file exporter wrote: one OTLP JSON export request per line. */
function writtenLogs(): WrittenLog[] {
  if (!fs.existsSync(logsFile)) return [];
  type Value = { stringValue?: string; intValue?: string };
  type Request = { resourceLogs: { scopeLogs: { logRecords: { body?: Value; attributes?: { key: string; value: Value }[] }[] }[] }[] };
  const value = (v: Value | undefined) => v?.stringValue ?? v?.intValue ?? '';
  return fs
    .readFileSync(logsFile, 'utf8')
    .split('\n')
    .filter((line) => line.trim())
    .flatMap((line) => (JSON.parse(line) as Request).resourceLogs)
    .flatMap((rl) => rl.scopeLogs.flatMap((sl) => sl.logRecords))
    .map((r) => ({ body: value(r.body), attributes: Object.fromEntries((r.attributes ?? []).map((a) => [a.key, value(a.value)])) }));
}

const newTraceId = () => randomBytes(16).toString('hex');

describe('the collector with otel/collector.yaml', () => {
  it('loads the config unchanged and passes spans to the traces exporter, stamped by the resource processor', async () => {
    const trace = newTraceId();
    await sendSpans([{ traceId: trace, name: 'hello', attributes: { 'order.id': 'ord_1' } }]);
    const request = await waitFor('the span at the traces exporter', async () =>
      receiver.requests.find((r) => r.resourceSpans.some((rs) => rs.scopeSpans.some((ss) => ss.spans.some((s) => s.traceId.toString('hex') === trace)))),
    );
    const attributes = Object.fromEntries(request.resourceSpans[0].resource!.attributes.map((a) => [a.key, a.value?.value?.value]));
    expect(attributes).toMatchObject({ 'service.name': 'collector-test', 'deployment.environment': 'stack' });
  });

  it('derives RED metrics per order event (span_metrics connector) on its Prometheus exporter', async () => {
    const trace = newTraceId();
    const events = ['A', 'B', 'C', 'D', 'E', 'F'];
    await sendSpans(events.map((e) => ({ traceId: trace, name: `event ${e}`, attributes: { 'order.event': e } })));
    const calls = (exposition: string, e: string) =>
      new RegExp(`^traces_span_metrics_calls_total\\{([^}]*order_event="${e}"[^}]*)\\} (\\S+)`, 'm').exec(exposition);
    // A new series is first exported at 0 (so Prometheus's increase() sees its first call), then with the count.
    const exposition = await waitFor(
      'a call counted per event on the Prometheus exporter',
      async () => {
        const body = await (await fetch(`http://127.0.0.1:${ports.metrics}/metrics`)).text();
        return events.every((e) => Number(calls(body, e)?.[2]) >= 1) ? body : undefined;
      },
      30_000,
    );
    for (const e of events) {
      const [, labels, value] = calls(exposition, e)!;
      expect(labels).toContain(`span_name="event ${e}"`);
      expect(labels).toContain('service_name="collector-test"');
      expect(Number(value)).toBe(1);
    }
    expect(exposition).toMatch(/^traces_span_metrics_duration_milliseconds_bucket\{[^}]*order_event="A"[^}]*le="5"/m);
  });

  it('masks a card number in a log body and keeps the characters around it', async () => {
    const run = newTraceId();
    await sendLogs([
      { body: 'paid with 4111 1111 1111 1111 today', attributes: { run, case: 0 } },
      { body: '(4111-1111-1111-1111)', attributes: { run, case: 1 } },
      { body: '4111111111111111', attributes: { run, case: 2 } },
    ]);
    const logs = await waitFor('three log records in the logs file', async () => {
      const mine = writtenLogs().filter((l) => l.attributes.run === run);
      return mine.length === 3 ? mine : undefined;
    });
    const byCase = Object.fromEntries(logs.map((l) => [l.attributes.case, l.body]));
    expect(byCase).toEqual({ 0: 'paid with [redacted] today', 1: '([redacted])', 2: '[redacted]' });
  });

  it('lets trace and span ids made only of decimal digits through, standing alone, where a regex without Luhn masked them', async () => {
    const spanIdAlone = '1234567890123456'; // 16 decimal digits: a card's length, but it fails Luhn
    const traceIdAlone = '41111111111111114111111111111111';
    const order = 'ord_c29b6c95-36ac-4870-8513-256339762056';
    expect(luhnValid(spanIdAlone)).toBe(false);
    const trace = newTraceId();
    const attributes = { 'span.ref': spanIdAlone, 'trace.ref': traceIdAlone, 'order.id': order, message: `span ${spanIdAlone} of trace ${traceIdAlone}, order ${order}` };
    await sendSpans([{ traceId: trace, name: 'ids', attributes }]);
    await sendLogs([{ body: attributes.message, attributes: { run: trace, ...attributes } }]);
    const span = await waitFor('the span at the traces exporter', async () => receiver.spans().find((s) => s.traceId === trace));
    const log = await waitFor('the log record in the logs file', async () => writtenLogs().find((l) => l.attributes.run === trace));
    expect(span.attributes).toMatchObject(attributes);
    expect(log.body).toBe(attributes.message);
    expect(log.attributes).toMatchObject(attributes);
  });

  it('masks card numbers in metric data point attributes and leaves identifiers there whole', async () => {
    const run = newTraceId();
    const now = String(BigInt(Date.now()) * 1_000_000n);
    const order = 'ord_c29b6c95-36ac-4870-8513-256339762056';
    await post('metrics', {
      resourceMetrics: [
        {
          resource,
          scopeMetrics: [
            {
              scope: { name: 'collector-test' },
              metrics: [
                {
                  name: 'collector_test_payments',
                  gauge: { dataPoints: [{ asInt: '1', timeUnixNano: now, attributes: [kv('run', run), kv('note', 'paid with 4111-1111-1111-1111'), kv('order.id', order)] }] },
                },
              ],
            },
          ],
        },
      ],
    });
    const series = await waitFor('the gauge on the Prometheus exporter', async () => {
      const body = await (await fetch(`http://127.0.0.1:${ports.metrics}/metrics`)).text();
      return body.split('\n').find((line) => line.startsWith('collector_test_payments{') && line.includes(`run="${run}"`));
    });
    expect(series).toContain('note="paid with [redacted]"');
    expect(series).toContain(`order_id="${order}"`);
    expect(series).not.toContain('4111');
  });
});

describe('the collector’s redaction, as properties (issue 16)', () => {
  /** Every identifier the services make, decimal-only trace and span ids included; see cardShaped for the one exception. */
  const aCase = fc.record({ id: identifier, head: text, j1: joiner, j2: joiner, tail: text, card: cardNumber, before, after }).filter((c) =>
    standsAlone(c.head, c.j1, c.j2, c.tail),
  );

  it('never alters an identifier and always masks a Luhn-valid card number, in span attributes, log attributes and log bodies, as the logger does', async () => {
    let runs = 0;
    let decimalSpanIds = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(aCase, { minLength: 40, maxLength: 40 }), async (cases) => {
        runs++;
        decimalSpanIds += cases.filter((c) => /^\d{16}$/.test(c.id)).length;
        const trace = newTraceId();
        const message = (c: (typeof cases)[number]) => `${c.head}${c.j1}${c.id}${c.j2}${c.tail}`;
        const note = (c: (typeof cases)[number]) => `${c.before}${c.card.text}${c.after}`;
        await sendSpans(cases.map((c, i) => ({ traceId: trace, name: `case ${i}`, attributes: { case: i, 'order.id': c.id, message: message(c), 'payment.note': note(c) } })));
        await sendLogs(
          cases.flatMap((c, i): { body: string; attributes: Record<string, Attribute> }[] => [
            { body: message(c), attributes: { run: trace, case: i, kind: 'id', order_id: c.id } },
            { body: note(c), attributes: { run: trace, case: i, kind: 'card', note: note(c) } },
          ]),
        );
        const spans = await waitFor('the batch at the traces exporter', async () => {
          const mine = receiver.spans().filter((s) => s.traceId === trace);
          return mine.length === cases.length ? mine : undefined;
        });
        const logs = await waitFor('the batch in the logs file', async () => {
          const mine = writtenLogs().filter((l) => l.attributes.run === trace);
          return mine.length === 2 * cases.length ? mine : undefined;
        });
        for (const span of spans) {
          const c = cases[span.attributes.case as number];
          expect(span.attributes['order.id']).toBe(c.id);
          // The identifier whole with what joins it, and the rest exactly as the logger writes it.
          expect(span.attributes.message).toContain(`${c.j1}${c.id}${c.j2}`);
          expect(span.attributes.message).toBe(maskCardNumbers(message(c)));
          const paymentNote = String(span.attributes['payment.note']);
          expect(paymentNote.startsWith(`${c.before}[redacted]`)).toBe(true);
          expect(masked(paymentNote, c.card)).toBe(true);
          expect(paymentNote).toBe(maskCardNumbers(note(c)));
        }
        for (const log of logs) {
          const c = cases[Number(log.attributes.case)];
          if (log.attributes.kind === 'id') {
            expect(log.attributes.order_id).toBe(c.id);
            expect(log.body).toContain(`${c.j1}${c.id}${c.j2}`);
            expect(log.body).toBe(maskCardNumbers(message(c)));
          } else {
            for (const value of [log.body, log.attributes.note]) {
              expect(value.startsWith(`${c.before}[redacted]`)).toBe(true);
              expect(masked(value, c.card)).toBe(true);
              expect(value).toBe(maskCardNumbers(note(c)));
            }
          }
        }
      }),
      { numRuns: 10 },
    );
    expect(runs).toBeGreaterThanOrEqual(10);
    // About 1 identifier in 12 is a decimal-only span id: the case the regex masked must really be tried.
    expect(decimalSpanIds).toBeGreaterThan(0);
  }, 120_000);

  /**
   * Text made of what the rules turn on (digits, spaces, hyphens, hex and other letters, underscores, punctuation),
   * with cards and identifiers dropped in: the collector must write every one exactly as maskCardNumbers does, so
   * the Go port of the rules cannot drift from the logger's.
   */
  const piece = fc.oneof(
    { weight: 6, arbitrary: fc.string({ unit: fc.constantFrom(...'0123456789', ' ', '-', 'a', 'f', 'x', '_', '.', '('), maxLength: 24 }) },
    { weight: 2, arbitrary: fc.tuple(before, cardNumber, after).map(([b, c, a]) => `${b}${c.text}${a}`) },
    { weight: 1, arbitrary: identifier },
  );
  const mixedText = fc.array(piece, { maxLength: 6 }).map((pieces) => pieces.join(''));

  it('writes any text exactly as the services’ logger does (maskCardNumbers), in log bodies', async () => {
    let masks = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(mixedText, { minLength: 100, maxLength: 100 }), async (bodies) => {
        const run = newTraceId();
        await sendLogs(bodies.map((body, i) => ({ body, attributes: { run, case: i } })));
        const logs = await waitFor('the batch in the logs file', async () => {
          const mine = writtenLogs().filter((l) => l.attributes.run === run);
          return mine.length === bodies.length ? mine : undefined;
        });
        for (const log of logs) {
          const body = bodies[Number(log.attributes.case)];
          expect({ body, out: log.body }).toEqual({ body, out: maskCardNumbers(body) });
          if (log.body !== body) masks++;
        }
      }),
      { numRuns: 5 },
    );
    // Not only text the rules leave alone: many bodies held a card and were masked.
    expect(masks).toBeGreaterThan(20);
  }, 120_000);
});
