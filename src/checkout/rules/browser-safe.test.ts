import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

describe('src/checkout/rules', () => {
  it('imports nothing but its own modules, so the web app bundles the same rules the services run', () => {
    const modules = readdirSync(__dirname).filter((file) => file.endsWith('.ts') && !file.endsWith('.test.ts'));
    expect(modules.length).toBeGreaterThan(0);
    for (const file of modules) {
      const source = readFileSync(join(__dirname, file), 'utf8');
      const imported = [...source.matchAll(/(?:from|import)\s*\(?\s*'([^']+)'/g)].map((match) => match[1]);
      expect({ file, outside: imported.filter((path) => !/^\.\/[\w-]+$/.test(path)) }).toEqual({ file, outside: [] });
    }
  });
});
