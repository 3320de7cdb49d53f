/**
 * The shared logger as a real process sees it: JSON lines on stdout, every line
 * whole and in order, disabled levels never formatted, card data masked, and
 * nothing lost when the process exits right after logging. Then the redaction
 * rules as properties (fast-check): identifiers (order ids, trace ids, span
 * ids) are never altered, card numbers always are. test/collector.test.ts holds
 * the collector's card_redaction processor, which has the same rules, to the
 * same generators.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import fc from 'fast-check';
import { maskCardNumbers, redact } from '../src/platform/redaction';
import { requireBuild, ROOT } from './support/system';
import { orderId, traceId, spanId, identifier, cardNumber, before, after, fieldName, text, joiner, masked, standsAlone } from './support/redaction-arbitraries';

const LOGGER = path.join(ROOT, 'dist', 'platform', 'logger.js');

/**
 * Runs `script` with createLogger in scope and returns its stdout's JSON lines. With `readAfterMs`, nothing reads
 * the process's stdout pipe for that long (a busy launcher), so a burst fills the pipe.
 */
function run(script: string, env: Record<string, string> = {}, readAfterMs = 0) {
  requireBuild();
  const source = `const { createLogger } = require(${JSON.stringify(LOGGER)});\n${script}`;
  const options = { cwd: ROOT, env: { ...process.env, OTEL_SDK_DISABLED: 'true', ...env, LOGGER_TEST_SCRIPT: source }, encoding: 'utf8' as const };
  const child =
    readAfterMs > 0
      ? spawnSync('sh', ['-c', `"${process.execPath}" -e "$LOGGER_TEST_SCRIPT" | { sleep ${readAfterMs / 1000}; cat; }`], options)
      : spawnSync(process.execPath, ['-e', source], options);
  expect(child.stderr).toBe('');
  return child.stdout.split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('logger', () => {
  it('writes every line whole and in order, also when the process exits in the same turn with its pipe full', () => {
    // 2,000 lines are ~200 KB, three times what a pipe holds, and the reader starts only after half a second.
    const records = run(
      `
      const logger = createLogger('demo');
      for (let i = 0; i < 2000; i++) logger.info('line ' + i, { i });
      process.exit(3);
    `,
      {},
      500,
    );
    expect(records).toHaveLength(2000);
    expect(records.map((r) => r.i)).toEqual(Array.from({ length: 2000 }, (_, i) => i));
    expect(records[0]).toMatchObject({ level: 'info', message: 'line 0', service: 'demo' });
  });

  it('does not even format a record below the level (a throwing getter would show it)', () => {
    const records = run(`
      const logger = createLogger('demo', 'info');
      const trap = { get boom() { throw new Error('formatted a debug record'); } };
      logger.debug('hidden', trap);
      logger.info('shown');
      logger.level = 'debug';
      logger.debug('now shown', { n: 1 });
    `);
    expect(records.map((r) => r.message)).toEqual(['shown', 'now shown']);
  });

  it('masks card-like data in messages and metadata', () => {
    const records = run(`
      createLogger('demo').warn('card 4111 1111 1111 1111 seen', { cvv: '123', nested: { note: '5555-5555-5555-4444' } });
    `);
    expect(JSON.stringify(records)).not.toMatch(/4111|5555|"123"/);
    expect(records[0]).toMatchObject({ message: 'card [redacted] seen', cvv: '[redacted]', nested: { note: '[redacted]' } });
  });
});

// ---- the logger --------------------------------------------------------------------------------------------------

describe('the logger’s redaction (properties)', () => {
  it('never alters an identifier, in any field', () => {
    fc.assert(
      fc.property(fieldName, identifier, (key, id) => {
        expect(redact({ [key]: id, nested: { [key]: [id] } })).toEqual({ [key]: id, nested: { [key]: [id] } });
      }),
      { numRuns: 2000 },
    );
  });

  it('never alters an identifier embedded in a message, whatever surrounds it', () => {
    fc.assert(
      fc.property(text, joiner, identifier, joiner, text, (head, j1, id, j2, tail) => {
        fc.pre(standsAlone(head, j1, j2, tail));
        expect(maskCardNumbers(`${head}${j1}${id}${j2}${tail}`)).toContain(`${j1}${id}${j2}`);
      }),
      { numRuns: 2000 },
    );
  });

  it('masks every Luhn-valid card number, with or without separators, in any field and in messages', () => {
    fc.assert(
      fc.property(fieldName, cardNumber, before, after, (key, card, head, tail) => {
        const out = redact({ [key]: card.text, nested: [`${head}${card.text}${tail}`] }) as Record<string, unknown>;
        expect(out[key]).toBe('[redacted]');
        expect(masked(JSON.stringify(out), card)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it('masks a card number next to an identifier and leaves the identifier whole', () => {
    fc.assert(
      fc.property(orderId, cardNumber, (id, card) => {
        const out = maskCardNumbers(`order ${id} paid with ${card.text}`);
        expect(out).toBe(`order ${id} paid with [redacted]`);
      }),
    );
  });

  it('replaces card fields whole, whatever they hold', () => {
    expect(redact({ creditCard: { number: '4111111111111111', cvv: '123' }, cvv: 123, number: '4111 1111', expirationDate: '12/30' })).toEqual({
      creditCard: '[redacted]',
      cvv: '[redacted]',
      number: '[redacted]',
      expirationDate: '[redacted]',
    });
  });

  it('leaves digit runs alone that fail Luhn or have no card shape', () => {
    for (const value of ['4111111111111112', '12 34 56 78 90 12 34', '2026-11-25 12:00:00.123', '4111 1111-1111 1111', '+1 415 555 0100']) {
      expect(maskCardNumbers(value)).toBe(value);
    }
  });

  it('keeps generated ids whole end to end: a real process logs them with its own trace and span ids', () => {
    const samples = fc.sample(fc.tuple(orderId, traceId, spanId), { numRuns: 300, seed: 16 });
    // Card-shaped ids too: the record's own trace_id and span_id are added after redaction, never scanned.
    samples.push(['ord_c29b6c95-36ac-4870-8513-256339762056', '41111111111111114111111111111111', '4111111111111111']);
    const records = run(
      `
      const { context, trace, TraceFlags } = require('@opentelemetry/api');
      // A synchronous context manager is all trace.getActiveSpan() needs here (no SDK in this process).
      let active = context.active();
      context.setGlobalContextManager({
        active: () => active,
        with(ctx, fn, thisArg, ...args) { const previous = active; active = ctx; try { return fn.call(thisArg, ...args); } finally { active = previous; } },
        bind: (_ctx, target) => target,
        enable() { return this; },
        disable() { return this; },
      });
      const logger = createLogger('demo');
      for (const [orderId, traceId, spanId] of JSON.parse(process.env.SAMPLES)) {
        const ctx = trace.setSpanContext(context.active(), { traceId, spanId, traceFlags: TraceFlags.SAMPLED });
        context.with(ctx, () => logger.info('order ' + orderId + ' executed', { order_id: orderId }));
      }
    `,
      { SAMPLES: JSON.stringify(samples) },
    );
    expect(records.map((r) => [r.order_id, r.trace_id, r.span_id])).toEqual(samples.map(([o, t, s]) => [o, t === '0'.repeat(32) ? undefined : t, s === '0'.repeat(16) ? undefined : s]));
    expect(records.map((r) => r.message)).toEqual(samples.map(([o]) => `order ${o} executed`));
  });
});
