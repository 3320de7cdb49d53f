/**
 * Dependencies point one way, checked over the source (no processes, no build):
 * - a service imports only its own folder, shared code and published contracts, never another service's
 *   internals or the dev tooling (src/dev);
 * - shared code imports only shared code;
 * - the test harness takes from the launcher only its process definition;
 * and the production image (deploy/Dockerfile, tsconfig.image.json) compiles no dev tooling and no tests.
 */
import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

const ROOT = path.resolve(__dirname, '..');
const SRC = path.join(ROOT, 'src');

/** Every folder under src/ is one of these; a new folder has to be placed here before the tests pass. */
const SERVICES = ['orchestrator', 'transaction-verification', 'fraud-detection', 'suggestions', 'order-queue', 'order-executor', 'books-database', 'payment', 'web-server', 'web'];
/** Shared code any service may use: plumbing, pure cores, generated contracts, data, client modules. */
const SHARED = ['platform', 'checkout', 'raft', 'storage', 'vector-clock', 'gen', 'catalog', 'order-queue-client', 'books-database-client', 'payment-client', 'order-executor-client'];
/** Helpers for unit tests (fault injection): only *.test.ts files may import them. */
const TEST_HELPERS = ['testing'];
const DEV = ['dev'];
/**
 * A service's published contract, which the others may import as they import src/gen: the orchestrator's HTTP API
 * types and its request schema (the web app is its client).
 */
const CONTRACTS = [path.join('orchestrator', 'api-types'), path.join('orchestrator', 'schema')];

interface Import {
  from: string;
  to: string;
}

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return /\.(ts|tsx)$/.test(entry.name) && !entry.name.endsWith('.d.ts') ? [full] : [];
  });
}

/** Static imports, re-exports, import() and require() of relative paths, as paths relative to src/. */
export function relativeImports(file: string, text = fs.readFileSync(file, 'utf8')): Import[] {
  const { importedFiles } = ts.preProcessFile(text, true, true);
  return importedFiles
    .map((f) => f.fileName)
    .filter((spec) => spec.startsWith('.'))
    .map((spec) => ({ from: path.relative(SRC, file), to: path.relative(SRC, path.resolve(path.dirname(file), spec)) }));
}

/** The top-level folder under src/ a path is in ('..' for anything outside src/). */
const folderOf = (relative: string) => relative.split(path.sep)[0];

/**
 * The Raft fault simulator: test code beside the core it drives. It runs the executors' real ledger (so the
 * simulation checks what production applies), which the core itself must never import; only tests use it.
 */
const SIMULATOR = path.join('raft', 'sim') + path.sep;

/** What a file may import, by the folder it is in; undefined when the file's folder is not placed at all. */
function violation({ from, to }: Import): string | undefined {
  const source = folderOf(from);
  const target = folderOf(to);
  if (target === '..') return `${from} imports ${to}, outside src/`;
  if (to.startsWith(SIMULATOR) && !from.startsWith(SIMULATOR)) {
    return from.endsWith('.test.ts') ? undefined : `${from} imports the Raft simulator ${to}, which only tests may use`;
  }
  if (from.startsWith(SIMULATOR) && folderOf(to) !== 'dev') return undefined;
  if (source === target) return undefined;
  if (TEST_HELPERS.includes(target)) return from.endsWith('.test.ts') ? undefined : `${from} imports the test helper ${to}`;
  if (DEV.includes(source)) return undefined;
  if (DEV.includes(target)) return `${from} imports the dev tooling ${to}`;
  if (SHARED.includes(target)) return undefined;
  if (CONTRACTS.includes(to)) return undefined;
  // A unit test may reach into another service to check that the two agree (the web form and the orchestrator
  // reading the same request); tests are never part of a service's build.
  if (SERVICES.includes(target) && from.endsWith('.test.ts')) return undefined;
  if (SERVICES.includes(target)) return `${from} imports ${to}, inside another service (${target})`;
  return `${from} imports ${to}, in src/${target}, a folder this test does not place (service, shared, or dev?)`;
}

describe('the import graph of src/', () => {
  const files = sourceFiles(SRC).filter((f) => !f.startsWith(path.join(SRC, 'gen') + path.sep));
  const imports = files.flatMap((f) => relativeImports(f));

  it('places every folder under src/ as a service, shared code, test helpers or dev tooling', () => {
    const folders = fs.readdirSync(SRC, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
    expect(folders.filter((f) => ![...SERVICES, ...SHARED, ...TEST_HELPERS, ...DEV].includes(f))).toEqual([]);
  });

  it('reads the imports it checks (static, re-exports, import() and require())', () => {
    const file = path.join(SRC, 'orchestrator', 'example.ts');
    const found = relativeImports(
      file,
      `import a from '../dev/x';\nexport * from './y';\nconst b = () => import('../fraud-detection/rules');\nconst c = require('../platform/z');\nimport 'reflect-metadata';`,
    );
    expect(found.map((i) => i.to)).toEqual([path.join('dev', 'x'), path.join('orchestrator', 'y'), path.join('fraud-detection', 'rules'), path.join('platform', 'z')]);
    expect(found.map(violation)).toEqual([
      `${path.join('orchestrator', 'example.ts')} imports the dev tooling ${path.join('dev', 'x')}`,
      undefined,
      `${path.join('orchestrator', 'example.ts')} imports ${path.join('fraud-detection', 'rules')}, inside another service (fraud-detection)`,
      undefined,
    ]);
    expect(imports.length).toBeGreaterThan(200);
  });

  it('has no service importing the dev tooling or another service, and no shared code importing either', () => {
    expect(imports.map(violation).filter(Boolean)).toEqual([]);
  });

  it('lets the test harness take from the launcher only its process definition', () => {
    const harness = imports.filter((i) => i.from.startsWith(path.join('dev', 'harness') + path.sep));
    const intoLauncher = harness.filter((i) => i.to.startsWith(path.join('dev', 'launcher') + path.sep));
    expect(intoLauncher.length).toBeGreaterThan(0);
    expect(intoLauncher.filter((i) => i.to !== path.join('dev', 'launcher', 'processes'))).toEqual([]);
  });
});

describe('the production image', () => {
  const dockerfile = fs.readFileSync(path.join(ROOT, 'deploy', 'Dockerfile'), 'utf8');
  const stages = dockerfile.split(/^FROM /m).slice(1);
  const [build, runtime] = stages;
  const scripts: Record<string, string> = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).scripts;

  it('is built with tsconfig.image.json, and the runtime stage takes only dist/, node_modules and package.json from it', () => {
    expect(stages).toHaveLength(2);
    expect(build).toMatch(/^COPY .*\btsconfig\.image\.json\b/m);
    expect(build).toMatch(/^RUN npm run build:image\b/m);
    expect(scripts['build:image']).toContain('tsc -p tsconfig.image.json');
    const copies = runtime.split('\n').filter((line) => /^\s*(COPY|ADD)\b/.test(line));
    expect(copies.map((line) => line.trim().split(/\s+/).filter((w) => !w.startsWith('--')).slice(1, -1))).toEqual([
      ['/app/package.json'],
      ['/app/node_modules'],
      ['/app/dist'],
    ]);
    expect(copies.every((line) => line.includes('--from=build'))).toBe(true);
  });

  it('compiles every service and its telemetry preload, and nothing of the dev tooling, the tests or their helpers', () => {
    const config = ts.getParsedCommandLineOfConfigFile(path.join(ROOT, 'tsconfig.image.json'), {}, {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (d) => {
        throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
      },
    })!;
    // The program follows imports, so a service importing src/dev would pull it in even though it is excluded.
    const program = ts.createProgram(config.fileNames, { ...config.options, noEmit: true });
    const compiled = program
      .getSourceFiles()
      .map((f) => path.relative(SRC, f.fileName))
      .filter((f) => !f.startsWith('..'));
    const forbidden = compiled.filter((f) => [...DEV, ...TEST_HELPERS].includes(folderOf(f)) || /\.test\.tsx?$/.test(f));
    expect(forbidden).toEqual([]);
    const mains = SERVICES.filter((s) => s !== 'web').map((s) => path.join(s, 'main.ts'));
    expect(compiled).toEqual(expect.arrayContaining([...mains, path.join('platform', 'telemetry', 'preload.ts')]));
  });
});
