/**
 * `npm start`: runs every Causeway service as its own process, with readable,
 * prefixed logs, restarts of crashed services, and a clean Ctrl-C.
 *
 * CAUSEWAY_LOG_FORMAT=json passes the services' JSON log lines through unchanged.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import { loadConfig, type ServiceName } from '../platform/config';

const dist = path.resolve(__dirname, '..');
const preload = path.join(dist, 'platform', 'telemetry', 'preload.js');

/** Start order: the end of the chain first, the HTTP front last. */
export const LAUNCH_ORDER: readonly ServiceName[] = ['suggestions', 'fraud-detection', 'transaction-verification', 'orchestrator'];

const json = process.env.CAUSEWAY_LOG_FORMAT === 'json';
const colour = process.stdout.isTTY && !process.env.NO_COLOR;
const COLOURS = [36, 35, 33, 32, 34, 31];
const width = Math.max(...LAUNCH_ORDER.map((s) => s.length));

function prefix(name: string): string {
  const label = name.padEnd(width);
  const code = COLOURS[LAUNCH_ORDER.indexOf(name as ServiceName) % COLOURS.length] ?? 37;
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
  name: ServiceName;
  child: ChildProcess;
  startedAt: number;
}

const running = new Map<ServiceName, Running>();
let stopping = false;

function say(message: string): void {
  process.stdout.write(json ? JSON.stringify({ level: 'info', service: 'launcher', message }) + '\n' : `${prefix('launcher')} ${message}\n`);
}

function start(name: ServiceName): void {
  const child = spawn(process.execPath, ['-r', preload, path.join(dist, name, 'main.js')], {
    env: { ...process.env, OTEL_SERVICE_NAME: name },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const entry = { name, child, startedAt: Date.now() };
  running.set(name, entry);
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
    say(`restarting ${name}`);
    setTimeout(() => !stopping && start(name), 500);
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
  const config = loadConfig();
  process.on('SIGINT', () => void stopAll(0));
  process.on('SIGTERM', () => void stopAll(0));
  for (const name of LAUNCH_ORDER) start(name);
  say(
    `Causeway starting: checkout at http://localhost:${config.ports.orchestrator}/checkout, ` +
      `health at http://localhost:${config.ports.orchestrator}/health; traces to ${config.otlpEndpoint}. Ctrl-C stops.`,
  );
}

if (require.main === module) main();
