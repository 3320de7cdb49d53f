/**
 * The shared logger as a real process sees it: JSON lines on stdout, every line
 * whole and in order, disabled levels never formatted, card data masked, and
 * nothing lost when the process exits right after logging.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { requireBuild, ROOT } from './support/system';

const LOGGER = path.join(ROOT, 'dist', 'platform', 'logger.js');

function run(script: string, env: Record<string, string> = {}) {
  requireBuild();
  const child = spawnSync(process.execPath, ['-e', `const { createLogger } = require(${JSON.stringify(LOGGER)});\n${script}`], {
    env: { ...process.env, OTEL_SDK_DISABLED: 'true', ...env },
    encoding: 'utf8',
  });
  expect(child.stderr).toBe('');
  return child.stdout.split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('logger', () => {
  it('writes every line whole and in order, also when the process exits in the same turn', () => {
    const records = run(`
      const logger = createLogger('demo');
      for (let i = 0; i < 2000; i++) logger.info('line ' + i, { i });
      process.exit(3);
    `);
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
