/**
 * `npm run load` against a running system: the generator as users run it (the built CLI, its --json summary), an
 * open-loop mix of good, fraudulent and invalid orders, every answer counted by what it was, and every approved
 * order followed to its execution.
 */
import { runBuiltTool } from './support/cli';
import { startSystem, type RunningSystem } from './support/system';

let system: RunningSystem;

beforeAll(async () => {
  // The test is about how the generator counts, not latency: on a loaded 2-core box a call can wait for the CPU past
  // the 3 s default deadline, and a 504 would be counted (rightly) as one.
  system = await startSystem({ CAUSEWAY_RPC_DEADLINE_MS: '15000' });
}, 90_000);
afterAll(async () => {
  await system?.stop();
});

const load = (args: string[]) => runBuiltTool('dev/load/load.js', args);

it('sends an open-loop mix, counts every answer by kind and outcome, and follows approved orders to execution', async () => {
  const run = await load(['--url', system.baseUrl, '--rate', '10', '--seconds', '3', '--mix', 'good=3,fraud=1,invalid=1', '--seed', '42', '--json']);
  expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
  const summary = JSON.parse(run.stdout);
  expect(summary.planned).toBe(30);
  expect(summary.answered).toBe(30);
  expect(summary.latency.count).toBe(30);
  const count = (kind: string) => (summary.byKind[kind] ?? []).reduce((n: number, [, c]: [string, number]) => n + c, 0);
  expect(count('good') + count('fraud') + count('invalid')).toBe(30);
  // Each kind is judged as it was built: good orders approved (each its own customer and card), the blocked customer
  // rejected by fraud detection, the Luhn-invalid card by transaction verification.
  expect(summary.byKind.good).toEqual([['approved', count('good')]]);
  expect(summary.byKind.fraud).toEqual([['rejected: USER_BLOCKLISTED', count('fraud')]]);
  expect(summary.byKind.invalid).toEqual([['rejected: CARD_NUMBER_INVALID', count('invalid')]]);
  expect(count('good')).toBeGreaterThan(0);
  expect(summary.finalStates).toEqual([['executed', count('good')]]);
}, 120_000);

it('refuses a bad argument with a clear message and exit code 2', async () => {
  const run = await load(['--url', system.baseUrl, '--mix', 'good=1,robbery=2']);
  expect(run.code).toBe(2);
  expect(run.stderr).toContain('unknown kind "robbery"');
});
