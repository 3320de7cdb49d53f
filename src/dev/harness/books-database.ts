/**
 * The books database's three replicas as real processes, without the rest of the system: each spawned as the
 * launcher spawns it (the same Node flags and telemetry preload, src/dev/launcher/processes.ts), on free loopback
 * ports from this jest worker's slice (freePortRange) and in a fresh data directory. Unlike the launcher this does
 * not restart a replica that dies: tests kill, wipe and restart replicas themselves.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { createChannel, createClient, type Channel } from 'nice-grpc';
import { BooksDatabaseDefinition, type BooksDatabaseClient } from '../../gen/causeway/v1/books_database';
import { DEFAULT_BOOKS_DATABASE } from '../../platform/config';
import { LEAN_HEAP_FLAGS } from '../launcher/processes';
import { HostNetwork } from './netns';
import { freePort, freePortRange, requireBuild, ROOT } from './system';

const DIST = path.join(ROOT, 'dist');

export interface BooksDatabaseCluster {
  /** id → host:port */
  peers: Record<string, string>;
  dataDir: string;
  /** Every replica's output lines, in arrival order. */
  lines: string[];
  /** A replica's own data directory (BOOKS_DATABASE_DATA_DIR's default). */
  replicaDir(id: string): string;
  /** A raw client of one replica (no leader following, no retries). */
  client(id: string): BooksDatabaseClient;
  isRunning(id: string): boolean;
  /** Signals a replica and waits until it has exited. */
  kill(id: string, signal?: NodeJS.Signals): Promise<void>;
  /** Starts a replica that is not running (on its data directory as it is). */
  start(id: string): void;
  /** With `{ hosts: true }`: each replica is a host of this network (its own namespace), so links can be cut. */
  network?: HostNetwork;
  stop(): Promise<void>;
}

export interface BooksDatabaseOptions {
  /**
   * Run each replica in a network namespace of its own (src/dev/harness/netns.ts), reached by the test over the
   * bridge, so a test can cut the links between replicas. Needs root, `ip` and `nft`: without them this throws.
   */
  hosts?: boolean;
}

export async function startBooksDatabase(extraEnv: Record<string, string> = {}, options: BooksDatabaseOptions = {}): Promise<BooksDatabaseCluster> {
  requireBuild();
  const ids = [...DEFAULT_BOOKS_DATABASE];
  const network = options.hosts ? await HostNetwork.create(ids) : undefined;
  const base = await freePortRange(ids.length);
  const peers = Object.fromEntries(ids.map((id, i) => [id, `${network ? network.address(id) : '127.0.0.1'}:${base + i}`]));
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'causeway-books-'));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    CAUSEWAY_HOST: '127.0.0.1',
    CAUSEWAY_LOG_FORMAT: 'json',
    // Nobody listens here: export must degrade quietly.
    OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${await freePort()}`,
    OTEL_SERVICE_NAME: 'books-database',
    BOOKS_DATABASE_PEERS: Object.entries(peers).map(([id, a]) => `${id}=${a}`).join(','),
    CAUSEWAY_DATA_DIR: dataDir,
    ...extraEnv,
  };
  const lines: string[] = [];
  const children = new Map<string, { child: ChildProcess; exited: Promise<void> }>();
  const channels = new Map<string, Channel>();
  const clients = new Map<string, BooksDatabaseClient>();

  const start = (id: string) => {
    if (children.get(id)) throw new Error(`${id} is already running`);
    const node = [process.execPath, ...LEAN_HEAP_FLAGS, '-r', path.join(DIST, 'platform', 'telemetry', 'preload.js'), path.join(DIST, 'books-database', 'main.js')];
    // `ip netns exec` execs node in the namespace: the child's pid is node's, so signals reach the replica itself.
    const [command, ...args] = network ? ['ip', 'netns', 'exec', network.namespace(id), ...node] : node;
    const child = spawn(command, args, {
      env: { ...env, BOOKS_DATABASE_ID: id, OTEL_RESOURCE_ATTRIBUTES: `service.instance.id=${id}`, ...(network ? { CAUSEWAY_HOST: '0.0.0.0' } : {}) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    for (const stream of [child.stdout!, child.stderr!]) readline.createInterface({ input: stream }).on('line', (line) => lines.push(line));
    const exited = new Promise<void>((resolve) =>
      child.once('exit', () => {
        if (children.get(id)?.child === child) children.delete(id);
        resolve();
      }),
    );
    children.set(id, { child, exited });
  };
  for (const id of ids) start(id);

  return {
    peers,
    network,
    dataDir,
    lines,
    replicaDir: (id) => path.join(dataDir, 'books-database', id),
    client: (id) => {
      let client = clients.get(id);
      if (!client) {
        const channel = createChannel(peers[id]);
        channels.set(id, channel);
        client = createClient(BooksDatabaseDefinition, channel);
        clients.set(id, client);
      }
      return client;
    },
    isRunning: (id) => children.has(id),
    async kill(id, signal = 'SIGKILL') {
      const running = children.get(id);
      if (!running) return;
      running.child.kill(signal);
      await running.exited;
    },
    start,
    async stop() {
      for (const channel of channels.values()) channel.close();
      await Promise.all(
        [...children.values()].map(({ child, exited }) => {
          child.kill('SIGTERM');
          // A replica stuck in shutdown must not hang the test run.
          setTimeout(() => child.kill('SIGKILL'), 5000).unref();
          return exited;
        }),
      );
      await network?.destroy();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
