/**
 * The payment service as a real process, without the rest of the system: spawned as the launcher spawns it (the
 * telemetry preload, src/dev/launcher/processes.ts), on a free loopback port from this jest worker's slice, in a
 * fresh data directory. Unlike the launcher this does not restart it when it dies: tests kill and restart it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { createChannel, createClient, type Channel } from 'nice-grpc';
import { PaymentDefinition, type PaymentClient } from '../../gen/causeway/v1/payment';
import { freePort, requireBuild, ROOT } from './system';

const DIST = path.join(ROOT, 'dist');

export interface PaymentProcess {
  address: string;
  /** CAUSEWAY_DATA_DIR: the service keeps its database in `payment/` under it. */
  dataDir: string;
  /** Its stdout and stderr lines, in arrival order. */
  lines: string[];
  /** A raw client (no retries). */
  client: PaymentClient;
  isRunning(): boolean;
  /** Signals it and waits until it has exited. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Starts it again on its data directory as it is. */
  start(): void;
  stop(): Promise<void>;
}

export async function startPayment(extraEnv: Record<string, string> = {}): Promise<PaymentProcess> {
  requireBuild();
  const port = await freePort();
  const address = `127.0.0.1:${port}`;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'causeway-payment-'));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    CAUSEWAY_HOST: '127.0.0.1',
    CAUSEWAY_LOG_FORMAT: 'json',
    // Nobody listens here: export must degrade quietly.
    OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${await freePort()}`,
    OTEL_SERVICE_NAME: 'payment',
    PAYMENT_PORT: String(port),
    CAUSEWAY_DATA_DIR: dataDir,
    // Nobody answers here unless the test says where its executors are.
    EXECUTOR_PEERS: `executor-1=127.0.0.1:${await freePort()}`,
    ...extraEnv,
  };
  const lines: string[] = [];
  let running: { child: ChildProcess; exited: Promise<void> } | undefined;
  const start = () => {
    if (running) throw new Error('payment is already running');
    const child = spawn(process.execPath, ['-r', path.join(DIST, 'platform', 'telemetry', 'preload.js'), path.join(DIST, 'payment', 'main.js')], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    for (const stream of [child.stdout!, child.stderr!]) readline.createInterface({ input: stream }).on('line', (line) => lines.push(line));
    const exited = new Promise<void>((resolve) =>
      child.once('exit', () => {
        if (running?.child === child) running = undefined;
        resolve();
      }),
    );
    running = { child, exited };
  };
  start();
  const channel: Channel = createChannel(address);
  return {
    address,
    dataDir,
    lines,
    client: createClient(PaymentDefinition, channel),
    isRunning: () => running !== undefined,
    async kill(signal = 'SIGKILL') {
      const current = running;
      if (!current) return;
      current.child.kill(signal);
      await current.exited;
    },
    start,
    async stop() {
      channel.close();
      const current = running;
      if (current) {
        current.child.kill('SIGTERM');
        // A process stuck in shutdown must not hang the test run.
        setTimeout(() => current.child.kill('SIGKILL'), 5000).unref();
        await current.exited;
      }
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
