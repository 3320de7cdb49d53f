/**
 * `npm start`: runs every Causeway service as its own process, with readable,
 * prefixed logs, restarts of crashed services, and a clean Ctrl-C.
 *
 * CAUSEWAY_LOG_FORMAT=json passes the services' JSON log lines through unchanged.
 *
 * CAUSEWAY_NETNS_<NAME>=<namespace> (e.g. CAUSEWAY_NETNS_EXECUTOR_1) runs that
 * process inside an existing network namespace, as a host of its own, through
 * `ip netns exec` (needs root; the partition tests set it up, see src/dev/harness/netns.ts). It
 * binds every interface there (CAUSEWAY_HOST=0.0.0.0: the namespace has only its
 * loopback and its link to the test's bridge). Dev tooling, not for production.
 *
 * The processes it runs are listed once, in processes.ts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import { readOtlpEndpoints, readServicePort } from '../../platform/config';
import { netnsVariable, pidFilePath, processSpecs, type ProcessSpec } from './processes';
import { PROCESS_TABLE_VARIABLE, writeProcessTable } from '../../platform/process-table';

// dist/dev/launcher → dist
const dist = path.resolve(__dirname, '..', '..');
const preload = path.join(dist, 'platform', 'telemetry', 'preload.js');

const SPECS = processSpecs();
const LAUNCH_ORDER = SPECS.map((s) => s.name);

const json = process.env.CAUSEWAY_LOG_FORMAT === 'json';
const colour = process.stdout.isTTY && !process.env.NO_COLOR;
const COLOURS = [36, 35, 33, 32, 34, 31];
const width = Math.max(...LAUNCH_ORDER.map((s) => s.length));

function prefix(name: string): string {
  const label = name.padEnd(width);
  const code = COLOURS[Math.max(0, LAUNCH_ORDER.indexOf(name)) % COLOURS.length] ?? 37;
  return colour ? `\x1b[${code}m${label}\x1b[0m │` : `${label} │`;
}

/** One JSON log record as a readable line: time, level, message, then the fields that matter. */
function render(line: string): string {
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(line);
  } catch {
    return line;
  }
  if (typeof record !== 'object' || record === null || typeof record.message !== 'string') return line;
  const { timestamp, level, message, service: _service, stack, ...rest } = record;
  const time = typeof timestamp === 'string' ? timestamp.slice(11, 23) : '';
  const fields = Object.entries(rest)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');
  return `${time} ${String(level).padEnd(5)} ${message}${fields ? `  ${fields}` : ''}${stack ? `\n${stack}` : ''}`;
}

interface Running {
  spec: ProcessSpec;
  child: ChildProcess;
  startedAt: number;
}

const running = new Map<string, Running>();
let stopping = false;


function writePidFile(): void {
  const processes = Object.fromEntries([...running].flatMap(([name, r]) => (r.child.pid ? [[name, r.child.pid]] : [])));
  writeProcessTable(pidFilePath(), { launcher: process.pid, processes });
}

function say(message: string): void {
  process.stdout.write(json ? JSON.stringify({ level: 'info', service: 'launcher', message }) + '\n' : `${prefix('launcher')} ${message}\n`);
}

function start(spec: ProcessSpec): void {
  const { name } = spec;
  // CAUSEWAY_NODE_FLAGS, e.g. "--cpu-prof --cpu-prof-dir=prof", reaches every service (NODE_OPTIONS refuses --cpu-prof).
  const flags = (process.env.CAUSEWAY_NODE_FLAGS ?? '').split(' ').filter(Boolean);
  const node = [process.execPath, ...spec.nodeFlags, ...flags, '-r', preload, path.join(dist, spec.service, 'main.js')];
  const namespace = process.env[netnsVariable(name)] || undefined;
  // `ip netns exec` enters the namespace and then execs node, so the child's pid is node's: kill and restart work as usual.
  const [command, ...args] = namespace ? ['ip', 'netns', 'exec', namespace, ...node] : node;
  const child = spawn(command, args, {
    // Local mode: the processes are ours, so the web app may offer to kill the leader; the orchestrator finds
    // its pid in our process table, named here.
    env: { CAUSEWAY_LOCAL_MODE: 'true', [PROCESS_TABLE_VARIABLE]: pidFilePath(), ...process.env, OTEL_SERVICE_NAME: spec.service, ...spec.env, ...(namespace ? { CAUSEWAY_HOST: '0.0.0.0' } : {}) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const entry = { spec, child, startedAt: Date.now() };
  running.set(name, entry);
  writePidFile();
  for (const stream of [child.stdout!, child.stderr!]) {
    readline.createInterface({ input: stream }).on('line', (line) => {
      process.stdout.write(json ? `${line}\n` : `${prefix(name)} ${render(line)}\n`);
    });
  }
  child.on('exit', (code, signal) => {
    if (running.get(name) === entry) running.delete(name);
    if (stopping) return;
    const ranMs = Date.now() - entry.startedAt;
    say(`${name} exited (${signal ?? `code ${code}`}) after ${ranMs} ms`);
    if (ranMs < 3000 && signal !== 'SIGKILL') {
      say(`${name} failed right after start; stopping everything (is its port taken?)`);
      void stopAll(1);
      return;
    }
    const delay = Number(process.env.CAUSEWAY_RESTART_DELAY_MS ?? 1000);
    say(`restarting ${name} in ${delay} ms`);
    setTimeout(() => !stopping && start(spec), delay);
  });
}

async function stopAll(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  const children = [...running.values()];
  await Promise.all(
    children.map(
      ({ child }) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          const timer = setTimeout(() => child.kill('SIGKILL'), 6000);
          child.once('exit', () => {
            clearTimeout(timer);
            resolve();
          });
          child.kill('SIGTERM');
        }),
    ),
  );
  say('all services stopped');
  process.exit(code);
}

function main(): void {
  const web = readServicePort(process.env, 'web');
  const orchestrator = readServicePort(process.env, 'orchestrator');
  process.on('SIGINT', () => void stopAll(0));
  process.on('SIGTERM', () => void stopAll(0));
  for (const spec of SPECS) start(spec);
  say(
    `Causeway starting: shop at http://localhost:${web}, checkout API at http://localhost:${orchestrator}/checkout, ` +
      `health at http://localhost:${orchestrator}/health; traces to ${readOtlpEndpoints(process.env).traces}. Ctrl-C stops.`,
  );
}

if (require.main === module) main();
