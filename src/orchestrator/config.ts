import {
  CHECKOUT_SERVICES,
  ConfigError,
  readBooksDatabasePeers,
  readBool,
  readDataDir,
  readExecutorPeers,
  readInt,
  readList,
  readProcessConfig,
  readRpcDeadlineMs,
  readServiceAddress,
  readServicePort,
  type CheckoutServiceName,
  type Env,
  type ProcessConfig,
} from '../platform/config';

/** The orchestrator's settings. */
export interface OrchestratorConfig extends ProcessConfig {
  /** HTTP port (ORCHESTRATOR_PORT). */
  port: number;
  rpcDeadlineMs: number;
  /** Where each service it calls is reached (host:port). */
  addresses: Record<CheckoutServiceName | 'order-queue' | 'payment', string>;
  /** The executor cluster, id → host:port, for the cluster view and order state. */
  executors: Record<string, string>;
  /** Browser origins allowed; control endpoints accept only these. */
  corsOrigins: string[];
  /** Set by `npm start`: processes run on this machine, so the UI may kill the leader. */
  localMode: boolean;
  /** Local mode: where the launcher publishes its processes' pids (src/platform/process-table.ts), for kill-leader. */
  processTable: string | undefined;
  /** Checkouts in progress (running and in line) before answering 503 + Retry-After. */
  maxInFlightCheckouts: number;
  /** Checkouts running at once; the others wait in arrival order (first come, first served). */
  checkoutConcurrency: number;
  /** How long an answered checkout's final clock waits for others to share the services' ClearOrders calls. */
  clearLingerMs: number;
  /** Where the orders it answered are kept (orders.db). */
  dataDir: string;
  /** Orders older than this are deleted from orders.db. */
  orderRetentionDays: number;
  /** The books database's replicas, id → host:port (BOOKS_DATABASE_PEERS): GET /books, the admin endpoint, the cluster view. */
  booksDatabase: Record<string, string>;
  /** CAUSEWAY_ADMIN_TOKEN (at least 16 characters): enables PUT /books/:bookId/stock for `Authorization: Bearer <it>`. */
  adminToken: string | undefined;
}

/** Shortest admin token accepted: a guessable one would be worse than none. */
export const MIN_ADMIN_TOKEN_LENGTH = 16;

function readAdminToken(env: Env): string | undefined {
  const token = env.CAUSEWAY_ADMIN_TOKEN;
  if (token === undefined || token === '') return undefined;
  if (token.length < MIN_ADMIN_TOKEN_LENGTH || /\s/.test(token)) {
    // Not echoed: it is a secret, even a bad one.
    throw new ConfigError(`CAUSEWAY_ADMIN_TOKEN must be at least ${MIN_ADMIN_TOKEN_LENGTH} characters with no spaces (unset it to disable administration)`);
  }
  return token;
}

/**
 * CAUSEWAY_CHECKOUT_CONCURRENCY: 64 by default, never above CAUSEWAY_MAX_INFLIGHT_CHECKOUTS (set above it, it is
 * refused). Fewer sell a flash sale's copies sooner but stretch the burst as a whole: `npm run bench:flash-sale`
 * measured 64 selling them in half the time of all at once, with the burst about a tenth longer, and 32 a little
 * sooner again with the burst up to two fifths longer (README, "A flash sale").
 */
function readCheckoutConcurrency(env: Env, maxInFlight: number): number {
  if (env.CAUSEWAY_CHECKOUT_CONCURRENCY === undefined || env.CAUSEWAY_CHECKOUT_CONCURRENCY === '') return Math.min(64, maxInFlight);
  const n = readInt(env, 'CAUSEWAY_CHECKOUT_CONCURRENCY', 64, 1);
  if (n > maxInFlight) {
    throw new ConfigError(`CAUSEWAY_CHECKOUT_CONCURRENCY=${n} is above CAUSEWAY_MAX_INFLIGHT_CHECKOUTS=${maxInFlight}: checkouts running at once are part of those in progress`);
  }
  return n;
}

export function loadOrchestratorConfig(env: Env = process.env): OrchestratorConfig {
  const webPort = readServicePort(env, 'web');
  const maxInFlightCheckouts = readInt(env, 'CAUSEWAY_MAX_INFLIGHT_CHECKOUTS', 256, 1);
  return {
    ...readProcessConfig(env),
    port: readServicePort(env, 'orchestrator'),
    rpcDeadlineMs: readRpcDeadlineMs(env),
    addresses: Object.fromEntries(
      [...CHECKOUT_SERVICES, 'order-queue' as const, 'payment' as const].map((s) => [s, readServiceAddress(env, s)]),
    ) as OrchestratorConfig['addresses'],
    executors: readExecutorPeers(env),
    corsOrigins: readList(env, 'CAUSEWAY_CORS_ORIGINS', [`http://localhost:${webPort}`, `http://127.0.0.1:${webPort}`]),
    localMode: readBool(env, 'CAUSEWAY_LOCAL_MODE', false),
    processTable: env.CAUSEWAY_PID_FILE || undefined,
    maxInFlightCheckouts,
    checkoutConcurrency: readCheckoutConcurrency(env, maxInFlightCheckouts),
    clearLingerMs: readInt(env, 'CAUSEWAY_CLEAR_LINGER_MS', 50, 0, 10_000),
    dataDir: readDataDir(env, 'ORCHESTRATOR_DATA_DIR', 'orchestrator'),
    orderRetentionDays: readInt(env, 'CAUSEWAY_ORDER_RETENTION_DAYS', 30, 1, 36_500),
    booksDatabase: readBooksDatabasePeers(env),
    adminToken: readAdminToken(env),
  };
}
