/**
 * Typed configuration from the environment, with the defaults `npm start` uses.
 * Every knob is read here, once, so a reader can see them all in one place.
 */

export const CHECKOUT_SERVICES = ['transaction-verification', 'fraud-detection', 'suggestions'] as const;
export type CheckoutServiceName = (typeof CHECKOUT_SERVICES)[number];

export const SERVICES = ['orchestrator', ...CHECKOUT_SERVICES, 'order-queue', 'web'] as const;
export type ServiceName = (typeof SERVICES)[number];

export const DEFAULT_EXECUTORS = ['executor-1', 'executor-2', 'executor-3'] as const;

export const DEFAULT_PORTS: Record<ServiceName, number> = {
  orchestrator: 8081,
  'fraud-detection': 50051,
  'transaction-verification': 50052,
  suggestions: 50053,
  'order-queue': 50054,
  web: 8080,
};

/**
 * Loopback unless told otherwise: a developer's `npm start` must not be reachable from their network (the
 * orchestrator can kill processes in local mode). Containers set CAUSEWAY_HOST=0.0.0.0 (compose, Kubernetes).
 */
export const DEFAULT_HOST = '127.0.0.1';

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

export type Env = Readonly<Record<string, string | undefined>>;

/** `fraud-detection` → `FRAUD_DETECTION`, the prefix of that service's variables. */
export function envPrefix(service: ServiceName): string {
  return service.toUpperCase().replace(/-/g, '_');
}

export function readInt(env: Env, name: string, fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name}=${JSON.stringify(raw)} must be an integer in [${min}, ${max}]`);
  }
  return value;
}

export function readFraction(env: Env, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0 || value > 1) throw new ConfigError(`${name}=${JSON.stringify(raw)} must be a number in [0, 1]`);
  return value;
}

export function readList(env: Env, name: string, fallback: readonly string[]): string[] {
  const raw = env[name];
  if (raw === undefined) return [...fallback];
  return raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

export function readBool(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name]?.trim().toLowerCase();
  if (raw === undefined || raw === '') return fallback;
  if (['1', 'true', 'yes', 'on'].includes(raw)) return true;
  if (['0', 'false', 'no', 'off'].includes(raw)) return false;
  throw new ConfigError(`${name}=${JSON.stringify(env[name])} must be true or false`);
}

export interface VelocityLimit {
  /** At most this many orders inside the window are allowed; one more is rejected. */
  limit: number;
  windowMs: number;
}

export interface CausewayConfig {
  /** Interface the servers bind to. */
  host: string;
  ports: Record<ServiceName, number>;
  /** Where each gRPC service is reached (host:port). */
  addresses: Record<CheckoutServiceName | 'order-queue', string>;
  otlpEndpoint: string;
  logLevel: string;
  /** Deadline for one internal gRPC call; chained calls each get their own. */
  rpcDeadlineMs: number;
  /** A cached order that was never cleared is forgotten after this long. */
  orderTtlMs: number;
  corsOrigins: string[];
  /** Set by `npm start`: processes run on this machine, so the UI may kill the leader. */
  localMode: boolean;
  /** Where the web app's "Open in Jaeger" links point. */
  jaegerUrl: string;
  /** Checkouts the orchestrator runs at once before answering 503 + Retry-After. */
  maxInFlightCheckouts: number;
  orchestrator: {
    /** Where the orchestrator keeps the orders it answered (orders.db). */
    dataDir: string;
    /** Orders older than this are deleted from orders.db. */
    orderRetentionDays: number;
    /** Local mode: where the launcher publishes its processes' pids (see platform/process-table.ts), for kill-leader. */
    processTable: string | undefined;
  };
  fraud: {
    contactVelocity: VelocityLimit;
    cardVelocity: VelocityLimit;
    maxItemQuantity: number;
    blockedUsers: string[];
    disposableDomains: string[];
  };
  suggestionCount: number;
  queue: {
    /** Where the queue keeps its journal. */
    dataDir: string;
    /** Default visibility timeout of a lease. */
    leaseMs: number;
  };
  executor: ExecutorConfig;
}

export interface ExecutorConfig {
  /** This executor's id (EXECUTOR_ID); one of `peers`. */
  id: string;
  /** Every executor, this one included: id → host:port. */
  peers: Record<string, string>;
  /** This executor's gRPC port (from its entry in `peers` unless EXECUTOR_PORT says otherwise). */
  port: number;
  dataDir: string;
  /** One Raft tick. Election timeout is electionTicks–2·electionTicks ticks. */
  tickMs: number;
  electionTicks: number;
  heartbeatTicks: number;
  /** Orders leased from the queue per Dequeue. */
  batch: number;
  /** Back-off after a failed queue call, and the longest wait for leadership before checking again. */
  backoffMs: number;
  /** Fraction of Raft proposals traced from propose to commit. */
  replicationSampleRate: number;
  /** Snapshot the ledger and compact the Raft log every this many applied entries. */
  snapshotEntries: number;
  /** How many of the latest executions the ledger remembers (the exactly-once horizon). */
  ledgerRetain: number;
}

/** `executor-1=127.0.0.1:50061,executor-2=…` → {executor-1: '127.0.0.1:50061', …} */
export function parsePeers(raw: string): Record<string, string> {
  const peers: Record<string, string> = {};
  for (const part of raw.split(',').map((p) => p.trim()).filter(Boolean)) {
    const match = /^([\w.-]+)=(\S+:\d+)$/.exec(part);
    if (!match) throw new ConfigError(`EXECUTOR_PEERS entry ${JSON.stringify(part)} must look like id=host:port`);
    peers[match[1]] = match[2];
  }
  if (Object.keys(peers).length === 0) throw new ConfigError('EXECUTOR_PEERS lists no executors');
  return peers;
}

function loadExecutorConfig(env: Env): ExecutorConfig {
  const defaultPeers = DEFAULT_EXECUTORS.map((id, i) => `${id}=127.0.0.1:${50061 + i}`).join(',');
  const peers = parsePeers(env.EXECUTOR_PEERS ?? defaultPeers);
  const id = env.EXECUTOR_ID ?? Object.keys(peers)[0];
  if (!(id in peers)) throw new ConfigError(`EXECUTOR_ID=${id} is not one of EXECUTOR_PEERS (${Object.keys(peers).join(', ')})`);
  return {
    id,
    peers,
    port: readInt(env, 'EXECUTOR_PORT', Number(peers[id].split(':').at(-1)), 0, 65535),
    dataDir: env.EXECUTOR_DATA_DIR ?? `${env.CAUSEWAY_DATA_DIR ?? './data'}/order-executor/${id}`,
    tickMs: readInt(env, 'RAFT_TICK_MS', 10, 1),
    electionTicks: readInt(env, 'RAFT_ELECTION_TICKS', 8, 2),
    heartbeatTicks: readInt(env, 'RAFT_HEARTBEAT_TICKS', 2, 1),
    batch: readInt(env, 'EXECUTOR_BATCH', 64, 1, 1000),
    backoffMs: readInt(env, 'EXECUTOR_BACKOFF_MS', 100, 1),
    replicationSampleRate: readFraction(env, 'RAFT_TRACE_SAMPLE_RATE', 0.05),
    snapshotEntries: readInt(env, 'RAFT_SNAPSHOT_ENTRIES', 10_000, 1),
    ledgerRetain: readInt(env, 'EXECUTOR_LEDGER_RETAIN', 50_000, 1),
  };
}

const DISPOSABLE_DOMAINS = [
  'mailinator.com',
  'guerrillamail.com',
  '10minutemail.com',
  'yopmail.com',
  'trashmail.com',
  'temp-mail.org',
  'sharklasers.com',
  'dispostable.com',
  'throwawaymail.com',
  'getnada.com',
];

export function loadConfig(env: Env = process.env): CausewayConfig {
  const ports = Object.fromEntries(
    SERVICES.map((s) => [s, readInt(env, `${envPrefix(s)}_PORT`, DEFAULT_PORTS[s], 0, 65535)]),
  ) as Record<ServiceName, number>;
  const addresses = Object.fromEntries(
    [...CHECKOUT_SERVICES, 'order-queue' as const].map((s) => [s, env[`${envPrefix(s)}_ADDRESS`] ?? `127.0.0.1:${ports[s]}`]),
  ) as CausewayConfig['addresses'];
  return {
    host: env.CAUSEWAY_HOST ?? DEFAULT_HOST,
    ports,
    addresses,
    otlpEndpoint: env.OTEL_EXPORTER_OTLP_ENDPOINT ?? 'http://localhost:4317',
    logLevel: env.LOG_LEVEL ?? 'info',
    rpcDeadlineMs: readInt(env, 'CAUSEWAY_RPC_DEADLINE_MS', 3000, 1),
    orderTtlMs: readInt(env, 'CAUSEWAY_ORDER_TTL_MS', 120_000, 1),
    corsOrigins: readList(env, 'CAUSEWAY_CORS_ORIGINS', [`http://localhost:${ports.web}`, `http://127.0.0.1:${ports.web}`]),
    localMode: readBool(env, 'CAUSEWAY_LOCAL_MODE', false),
    jaegerUrl: env.JAEGER_URL ?? 'http://localhost:16686',
    maxInFlightCheckouts: readInt(env, 'CAUSEWAY_MAX_INFLIGHT_CHECKOUTS', 256, 1),
    fraud: {
      contactVelocity: {
        limit: readInt(env, 'FRAUD_CONTACT_VELOCITY_LIMIT', 30, 1),
        windowMs: readInt(env, 'FRAUD_CONTACT_VELOCITY_WINDOW_MS', 60_000, 1),
      },
      cardVelocity: {
        limit: readInt(env, 'FRAUD_CARD_VELOCITY_LIMIT', 30, 1),
        windowMs: readInt(env, 'FRAUD_CARD_VELOCITY_WINDOW_MS', 60_000, 1),
      },
      maxItemQuantity: readInt(env, 'FRAUD_MAX_ITEM_QUANTITY', 100, 1),
      blockedUsers: readList(env, 'FRAUD_BLOCKED_USERS', ['blocked@example.com']).map((u) => u.toLowerCase()),
      disposableDomains: readList(env, 'FRAUD_DISPOSABLE_DOMAINS', DISPOSABLE_DOMAINS).map((d) => d.toLowerCase()),
    },
    suggestionCount: readInt(env, 'SUGGESTIONS_COUNT', 3, 1, 20),
    orchestrator: {
      dataDir: env.ORCHESTRATOR_DATA_DIR ?? `${env.CAUSEWAY_DATA_DIR ?? './data'}/orchestrator`,
      orderRetentionDays: readInt(env, 'CAUSEWAY_ORDER_RETENTION_DAYS', 30, 1, 36_500),
      processTable: env.CAUSEWAY_PID_FILE || undefined,
    },
    queue: {
      dataDir: env.ORDER_QUEUE_DATA_DIR ?? `${env.CAUSEWAY_DATA_DIR ?? './data'}/order-queue`,
      leaseMs: readInt(env, 'ORDER_QUEUE_LEASE_MS', 5000, 1),
    },
    executor: loadExecutorConfig(env),
  };
}

/** Injection token for the process's CausewayConfig. */
export const CONFIG = Symbol('CausewayConfig');
