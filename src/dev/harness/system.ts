/**
 * Starts Causeway the way `npm start` does (the launcher spawning every service
 * as its own process) on free loopback ports, in a fresh data directory (or a
 * given one, to start a system again on a stopped one's data), and captures
 * every JSON log line. Used by the tests and by `npm run bench`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import type { BookView, ClusterSnapshot, ExecutorView } from '../../orchestrator/api-types';
import { readProcessTable } from '../../platform/process-table';
import { netnsVariable, pidFilePath, processSpecs } from '../launcher/processes';
import { HostNetwork } from './netns';

// From src/dev/harness (ts-jest) and from dist/dev/harness (compiled) alike, the launcher to run is the built one.
export const ROOT = path.resolve(__dirname, '..', '..', '..');
const LAUNCHER = path.join(ROOT, 'dist', 'dev', 'launcher', 'main.js');

/*
 * Ports come from below the kernel's ephemeral range (32768+ on Linux), so an outgoing connection made by any
 * process between "found free" and "bound" can never take one; each jest worker draws from its own slice, so two
 * systems started in parallel do not pick the same port; and one call never returns a port twice.
 */
const PORT_FLOOR = 20000;
const SLICE = 1500;
const slice = (() => {
  const worker = Number(process.env.JEST_WORKER_ID ?? 0);
  return PORT_FLOOR + (Number.isInteger(worker) ? worker % 8 : 0) * SLICE;
})();
const handedOut = new Set<number>();

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/**
 * `count` consecutive free ports; returns the first. Ports handed out earlier by this process are avoided until
 * the slice runs short, so a stopped system's ports are not reused while its processes may still be exiting.
 */
export async function freePortRange(count: number): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const base = slice + Math.floor(Math.random() * (SLICE - count));
    const range = Array.from({ length: count }, (_, i) => base + i);
    if (attempt < 100 && range.some((p) => handedOut.has(p))) continue;
    let ok = true;
    for (const port of range) if (!(ok = await isFree(port))) break;
    if (!ok) continue;
    if (handedOut.size > SLICE / 2) handedOut.clear();
    for (const port of range) handedOut.add(port);
    return base;
  }
  throw new Error(`no ${count} consecutive free ports found in ${slice}-${slice + SLICE - 1}`);
}

export async function freePort(): Promise<number> {
  return freePortRange(1);
}

export interface LogRecord {
  level: string;
  message: string;
  service: string;
  [key: string]: unknown;
}

export interface RunningSystem {
  baseUrl: string;
  /** The web app (src/web), as `npm start` serves it. */
  webUrl: string;
  /** Every process's listening port, by process name. */
  ports: Record<string, number>;
  /** The gRPC services the others call (the checkout services, the queue): name → host:port. */
  addresses: Record<string, string>;
  /** Raw stdout lines of every service, in arrival order. */
  lines: string[];
  records(): LogRecord[];
  /** The executors: id → host:port. */
  executors: Record<string, string>;
  /** The books database's replicas: id → host:port. */
  booksDatabase: Record<string, string>;
  metricsPorts: Record<string, number>;
  /** The address a process is reached at: 127.0.0.1, or its namespace's address with `{ hosts: true }`. */
  hostOf(name: string): string;
  dataDir: string;
  /** Current pid of each process, as the launcher last wrote them. */
  pids(): Record<string, number>;
  /** The launcher itself (it relays every service's output). */
  launcherPid: number;
  /** With `{ hosts: true }`: the queue and the executors each run in a network namespace of this network. */
  network?: HostNetwork;
  /** Stops every process; removes the data directory unless the caller passed it in (SystemOptions.dataDir). */
  stop(): Promise<void>;
}

export interface SystemOptions {
  /**
   * Run on this data directory instead of a fresh one, e.g. to restart a stopped system on its data. The
   * directory stays the caller's: stop() leaves it in place.
   */
  dataDir?: string;
  /**
   * Run the queue and the executors as separate hosts (one network namespace each, see netns.ts), so tests can
   * cut links between them; everything else stays in this namespace and reaches them over the test's bridge.
   * Needs root, `ip` and `nft`: without them startSystem throws saying so.
   */
  hosts?: boolean;
}

export function requireBuild(): void {
  if (!fs.existsSync(LAUNCHER)) {
    throw new Error(`${LAUNCHER} is missing: run \`npm run build\` first (\`npm test\` does it for you).`);
  }
}

/** Polls `probe` every `pollMs` until it returns a value (its throws count as "not yet"), or fails after `timeoutMs`. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 15000, pollMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      lastError = err;
    }
    await new Promise((r) => setTimeout(r, pollMs));
  }
  throw new Error(`timed out waiting for ${what}${lastError ? `: ${(lastError as Error).message}` : ''}`);
}

/**
 * The launcher's own table (src/dev/launcher/processes.ts) for the default cluster: which processes there are, how
 * each is told its port, which may become hosts. The harness adds nothing to it but ports.
 */
function plannedProcesses(metricsBase = 0) {
  return processSpecs({ CAUSEWAY_METRICS_BASE_PORT: String(metricsBase) });
}

export async function startSystem(extraEnv: Record<string, string> = {}, options: SystemOptions = {}): Promise<RunningSystem> {
  requireBuild();
  const hosts = plannedProcesses().filter((p) => p.separateHost).map((p) => p.name);
  const network = options.hosts ? await HostNetwork.create(hosts) : undefined;
  try {
    return await launch(extraEnv, options, network);
  } catch (err) {
    await network?.destroy();
    throw err;
  }
}

async function launch(extraEnv: Record<string, string>, options: SystemOptions, network: HostNetwork | undefined): Promise<RunningSystem> {
  const hostOf = (name: string) => (network?.hosts.includes(name) ? network.address(name) : '127.0.0.1');
  const metricsBase = await freePortRange(plannedProcesses().filter((p) => p.metricsPort !== undefined).length);
  const processes = plannedProcesses(metricsBase);
  const ports: Record<string, number> = {};
  const portEnv: Record<string, string> = {};
  const addresses: Record<string, string> = {};
  const clusters: Record<'EXECUTOR_PEERS' | 'BOOKS_DATABASE_PEERS', Record<string, string>> = { EXECUTOR_PEERS: {}, BOOKS_DATABASE_PEERS: {} };
  const executors = clusters.EXECUTOR_PEERS;
  for (const p of processes) {
    const port = (ports[p.name] = await freePort());
    const address = `${hostOf(p.name)}:${port}`;
    if ('peer' in p.port) clusters[p.port.peersVariable][p.port.peer] = address;
    else portEnv[p.port.variable] = String(port);
    if (p.addressVariable) {
      addresses[p.name] = address;
      portEnv[p.addressVariable] = address;
    }
  }
  const metricsPorts = Object.fromEntries(processes.flatMap((p) => (p.metricsPort === undefined ? [] : [[p.name, p.metricsPort]])));
  const netnsEnv = network ? Object.fromEntries(network.hosts.map((h) => [netnsVariable(h), network.namespace(h)])) : {};
  const dataDir = options.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'causeway-test-'));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    CAUSEWAY_HOST: '127.0.0.1',
    CAUSEWAY_LOG_FORMAT: 'json',
    // Nobody listens here unless a test says otherwise: export must degrade quietly.
    OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${await freePort()}`,
    OTEL_BSP_SCHEDULE_DELAY: '100',
    EXECUTOR_PEERS: Object.entries(executors).map(([id, a]) => `${id}=${a}`).join(','),
    BOOKS_DATABASE_PEERS: Object.entries(clusters.BOOKS_DATABASE_PEERS).map(([id, a]) => `${id}=${a}`).join(','),
    CAUSEWAY_DATA_DIR: dataDir,
    CAUSEWAY_METRICS_BASE_PORT: String(metricsBase),
    ...portEnv,
    ...netnsEnv,
    ...extraEnv,
  };
  const child: ChildProcess = spawn(process.execPath, [LAUNCHER], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  readline.createInterface({ input: child.stdout! }).on('line', (line) => lines.push(line));
  readline.createInterface({ input: child.stderr! }).on('line', (line) => lines.push(line));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const baseUrl = `http://127.0.0.1:${ports.orchestrator}`;
  const system: RunningSystem = {
    baseUrl,
    webUrl: `http://127.0.0.1:${ports.web}`,
    ports,
    addresses,
    executors,
    booksDatabase: clusters.BOOKS_DATABASE_PEERS,
    metricsPorts,
    dataDir,
    launcherPid: child.pid!,
    network,
    hostOf,
    pids: () => {
      const file = pidFilePath({ CAUSEWAY_DATA_DIR: dataDir });
      const table = readProcessTable(file);
      if (!table) throw new Error(`${file} is missing: the launcher has not started any process`);
      return table.processes;
    },
    lines,
    records: () =>
      lines.flatMap((line) => {
        try {
          const record = JSON.parse(line);
          return record && typeof record === 'object' ? [record as LogRecord] : [];
        } catch {
          return [];
        }
      }),
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
      await network?.destroy();
      if (!options.dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
  try {
    // Nine Node processes starting at once on two shared cores can take longer than the usual 15 s.
    await waitFor(
      'the orchestrator to report every service healthy',
      async () => {
        const res = await fetch(`${baseUrl}/health`);
        return res.status === 200 ? true : undefined;
      },
      30_000,
    );
  } catch (err) {
    await system.stop();
    throw new Error(`${(err as Error).message}\n--- service output ---\n${lines.join('\n')}`);
  }
  return system;
}

/** GET a JSON document (typed loosely: tests assert on its shape). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function getJson(url: string): Promise<any> {
  const res = await fetch(url);
  return res.json();
}

/** The executors as the orchestrator's GET /cluster reports them. */
export async function clusterExecutors(system: RunningSystem): Promise<ExecutorView[]> {
  return ((await getJson(`${system.baseUrl}/cluster`)) as ClusterSnapshot).executors;
}

/** GET /books by book id, waiting out a 503 while the database elects its first leader and seeds itself. */
export async function booksById(baseUrl: string): Promise<Map<string, BookView>> {
  const list = await waitFor('GET /books to answer', async () => {
    const res = await fetch(`${baseUrl}/books`);
    if (res.status === 503) return undefined;
    if (res.status !== 200) throw new Error(`GET /books answered ${res.status}`);
    return ((await res.json()) as { books: BookView[] }).books;
  });
  return new Map(list.map((b) => [b.bookId, b]));
}

/** The course page's default order (its browser form's pre-filled values). */
export function coursePageOrder(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    user: { name: 'John Doe', contact: 'john.doe@example.com' },
    creditCard: { number: '4111111111111111', expirationDate: '12/30', cvv: '123' },
    userComment: 'Please handle with care.',
    items: [
      { name: 'Book A', quantity: 1 },
      { name: 'Book B', quantity: 2 },
    ],
    billingAddress: { street: '123 Main St', city: 'Springfield', state: 'IL', zip: '62701', country: 'USA' },
    shippingMethod: 'Standard',
    giftWrapping: true,
    termsAccepted: true,
    ...overrides,
  };
}

export async function postCheckout(
  baseUrl: string,
  body: unknown,
  contentType: string | null = 'application/json',
): Promise<{ status: number; body: any }> {
  const headers: Record<string, string> = {};
  if (contentType) headers['content-type'] = contentType;
  const res = await fetch(`${baseUrl}/checkout`, {
    method: 'POST',
    headers,
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}
