/**
 * What `npm start` runs: the one table of Causeway's processes, read by the launcher to start them and by the
 * test harness to give each a port and to find it again. Adding a service means adding it here (and to the
 * config it reads); the harness and the launcher follow.
 */
import path from 'node:path';
import { envPrefix, readBooksDatabasePeers, readExecutorPeers, readPort } from '../../platform/config';

/** One process to run. */
export interface ProcessSpec {
  /** Its display name and its key in the process table, e.g. "executor-2" (a replica is named by its id). */
  name: string;
  /** Its folder under dist/ (the replicas of a cluster share one). */
  service: string;
  /** Its own environment, on top of the launcher's. */
  env: Record<string, string>;
  /**
   * How its listening port is set: a variable of its own, or (a replica of a Raft cluster) its entry in the
   * cluster's peers variable (EXECUTOR_PEERS, BOOKS_DATABASE_PEERS).
   */
  port: { variable: string } | { peer: string; peersVariable: 'EXECUTOR_PEERS' | 'BOOKS_DATABASE_PEERS' };
  /** The variable that tells the other processes where to reach it (the gRPC services the others call). */
  addressVariable?: string;
  /** Its Prometheus /metrics port, if it serves one. */
  metricsPort?: number;
  /** Partition tests may run it as a host of its own (a network namespace, see src/dev/harness/netns.ts). */
  separateHost: boolean;
  /** Node/V8 flags of its own, before the script (compose and Kubernetes pass the same). */
  nodeFlags: string[];
}

/**
 * For the processes that live long and hold the history's working set (the queue, the executors, the books
 * database's replicas): a 4 MiB young generation instead of 16 MiB, and an old generation that grows by 60 % at a
 * time instead of V8's default of up to 4×. With V8's defaults their RSS after 200,000 orders reached 240 MiB.
 * `--optimize-for-size`, used before for the same end, also kept V8 from optimizing their code fully: with it, a
 * burst of 3,000 orders committed at 976–1,130 orders/s; with these flags (and a 1 MiB young generation) at
 * 1,391–1,529 (interleaved runs, 2026-11-27).
 * The young generation was 1 MiB until 2026-11-27's last runs: the executor leader then scavenged about 200 times
 * per burst, 300–550 ms of pauses, and promoted what a larger one lets die. With 4 MiB, in four interleaved pairs of
 * fresh systems (five bursts each), the bursts' medians were 2,051–2,346 against 1,514–1,960 orders/s, every pair
 * won, and the processes' RSS after them was 0–30 MiB higher (the leader's 145–150 against 119–139 MiB).
 * The checkout services allocate per request and keep V8's defaults.
 */
export const LEAN_HEAP_FLAGS = ['--max-semi-space-size=4', '--heap-growing-percent=60'];

/**
 * In start order: the queue, the executor cluster, the books database and payment, the end of the checkout chain
 * first, the HTTP front last. Replicas get their id and a Prometheus port each: the queue 9460, executors 9461–9463,
 * the books database 9464–9466, payment 9467 (by default).
 */
export function processSpecs(env: NodeJS.ProcessEnv = process.env): ProcessSpec[] {
  const executors = Object.keys(readExecutorPeers(env));
  const books = Object.keys(readBooksDatabasePeers(env));
  const metricsBase = readPort(env, 'CAUSEWAY_METRICS_BASE_PORT', 9460);
  const ownPort = (name: 'order-queue' | 'payment' | 'suggestions' | 'fraud-detection' | 'transaction-verification' | 'orchestrator' | 'web') => ({
    variable: `${envPrefix(name)}_PORT`,
  });
  const grpc = (name: 'order-queue' | 'payment' | 'suggestions' | 'fraud-detection' | 'transaction-verification') => ({
    port: ownPort(name),
    addressVariable: `${envPrefix(name)}_ADDRESS`,
  });
  return [
    {
      name: 'order-queue',
      service: 'order-queue',
      env: { CAUSEWAY_METRICS_PORT: String(metricsBase) },
      ...grpc('order-queue'),
      metricsPort: metricsBase,
      separateHost: true,
      nodeFlags: LEAN_HEAP_FLAGS,
    },
    ...executors.map((id, i) => ({
      name: id,
      service: 'order-executor',
      env: { EXECUTOR_ID: id, CAUSEWAY_METRICS_PORT: String(metricsBase + 1 + i), OTEL_RESOURCE_ATTRIBUTES: `service.instance.id=${id}` },
      port: { peer: id, peersVariable: 'EXECUTOR_PEERS' as const },
      metricsPort: metricsBase + 1 + i,
      separateHost: true,
      nodeFlags: LEAN_HEAP_FLAGS,
    })),
    // Long-lived like the executors, and holding the stock and the remembered outcomes: the same lean heap.
    // Separate hosts like the executors: the executors call the database to execute an order, and a process in a
    // namespace cannot reach one bound to the root namespace's loopback.
    ...books.map((id, i) => ({
      name: id,
      service: 'books-database',
      env: {
        BOOKS_DATABASE_ID: id,
        CAUSEWAY_METRICS_PORT: String(metricsBase + 1 + executors.length + i),
        OTEL_RESOURCE_ATTRIBUTES: `service.instance.id=${id}`,
      },
      port: { peer: id, peersVariable: 'BOOKS_DATABASE_PEERS' as const },
      metricsPort: metricsBase + 1 + executors.length + i,
      separateHost: true,
      nodeFlags: LEAN_HEAP_FLAGS,
    })),
    // The third party of the commit, after the other two: a separate host like them, so partition tests can cut it
    // off from the leader, and the executors (in their namespaces) can reach it.
    {
      name: 'payment',
      service: 'payment',
      env: { CAUSEWAY_METRICS_PORT: String(metricsBase + 1 + executors.length + books.length) },
      ...grpc('payment'),
      metricsPort: metricsBase + 1 + executors.length + books.length,
      separateHost: true,
      nodeFlags: [],
    },
    ...(['suggestions', 'fraud-detection', 'transaction-verification'] as const).map((s) => ({
      name: s,
      service: s,
      env: {},
      ...grpc(s),
      separateHost: false,
      nodeFlags: [],
    })),
    { name: 'orchestrator', service: 'orchestrator', env: {}, port: ownPort('orchestrator'), separateHost: false, nodeFlags: [] },
    // Static files: a trace per page load would only be noise.
    { name: 'web', service: 'web-server', env: { OTEL_SDK_DISABLED: 'true' }, port: ownPort('web'), separateHost: false, nodeFlags: [] },
  ];
}

/** The variable that puts a process into an existing network namespace: `executor-1` → `CAUSEWAY_NETNS_EXECUTOR_1`. */
export function netnsVariable(processName: string): string {
  return `CAUSEWAY_NETNS_${processName.toUpperCase().replace(/-/g, '_')}`;
}

/**
 * Where the launcher keeps its process table (the format is src/platform/process-table.ts): in the data directory,
 * so `npm run chaos` and the harness find a running launcher's table from its data directory alone.
 */
export function pidFilePath(env: NodeJS.ProcessEnv = process.env): string {
  return path.resolve(env.CAUSEWAY_DATA_DIR ?? './data', 'processes.json');
}
