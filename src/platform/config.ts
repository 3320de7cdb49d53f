/**
 * Typed readers of the environment, and the few settings every process shares: the interface servers bind, the log
 * level, the deadline of internal calls, where each service is reached, and where telemetry goes. Each service reads
 * its own settings in its own `config.ts` with these readers, so a bad variable stops only the process that uses it.
 */

export const CHECKOUT_SERVICES = ['transaction-verification', 'fraud-detection', 'suggestions'] as const;
export type CheckoutServiceName = (typeof CHECKOUT_SERVICES)[number];

export const SERVICES = ['orchestrator', ...CHECKOUT_SERVICES, 'order-queue', 'payment', 'web'] as const;
export type ServiceName = (typeof SERVICES)[number];

export const DEFAULT_EXECUTORS = ['executor-1', 'executor-2', 'executor-3'] as const;

export const DEFAULT_PORTS: Record<ServiceName, number> = {
  orchestrator: 8081,
  'fraud-detection': 50051,
  'transaction-verification': 50052,
  suggestions: 50053,
  'order-queue': 50054,
  payment: 50075,
  web: 8080,
};

/**
 * Loopback unless told otherwise: a developer's `npm start` must not be reachable from their network (the
 * orchestrator can kill processes in local mode). Containers set CAUSEWAY_HOST=0.0.0.0 (compose, Kubernetes).
 */
export const DEFAULT_HOST = '127.0.0.1';

/** winston's levels (npm's), most severe first. */
export const LOG_LEVELS = ['error', 'warn', 'info', 'http', 'verbose', 'debug', 'silly'] as const;

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

const isUnset = (raw: string | undefined): raw is undefined => raw === undefined || raw.trim() === '';

export function readString(env: Env, name: string, fallback: string): string {
  const raw = env[name];
  return isUnset(raw) ? fallback : raw.trim();
}

export function readInt(env: Env, name: string, fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const raw = env[name];
  if (isUnset(raw)) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name}=${JSON.stringify(raw)} must be an integer in [${min}, ${max}]`);
  }
  return value;
}

/** A listening port; 0 asks the system for a free one. */
export function readPort(env: Env, name: string, fallback: number): number {
  return readInt(env, name, fallback, 0, 65535);
}

export function readFraction(env: Env, name: string, fallback: number): number {
  const raw = env[name];
  if (isUnset(raw)) return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0 || value > 1) throw new ConfigError(`${name}=${JSON.stringify(raw)} must be a number in [0, 1]`);
  return value;
}

/** Comma-separated; set but empty means an empty list, unset means the fallback. */
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

export function readChoice<T extends string>(env: Env, name: string, choices: readonly T[], fallback: T): T {
  const raw = env[name];
  if (isUnset(raw)) return fallback;
  const value = raw.trim() as T;
  if (!choices.includes(value)) throw new ConfigError(`${name}=${JSON.stringify(raw)} must be one of ${choices.join(', ')}`);
  return value;
}

/** `host:port` (the host may be a name, an IPv4 address or a bracketed IPv6 one), its port checked; `what` names it in errors. */
export function checkAddress(address: string, what: string): string {
  const match = /^(\S+):(\d+)$/.exec(address);
  const port = match ? Number(match[2]) : NaN;
  if (!match || port < 1 || port > 65535) {
    throw new ConfigError(`${what} must look like host:port with a port in [1, 65535], got ${JSON.stringify(address)}`);
  }
  return address;
}

/** What every process reads: where its servers listen and how much it logs. */
export interface ProcessConfig {
  /** Interface the servers bind to (HTTP, gRPC, /metrics). */
  host: string;
  logLevel: (typeof LOG_LEVELS)[number];
}

export function readProcessConfig(env: Env): ProcessConfig {
  return { host: readHost(env), logLevel: readChoice(env, 'LOG_LEVEL', LOG_LEVELS, 'info') };
}

export function readHost(env: Env): string {
  return readString(env, 'CAUSEWAY_HOST', DEFAULT_HOST);
}

/** Deadline for one internal gRPC call; chained calls each get their own. */
export function readRpcDeadlineMs(env: Env): number {
  return readInt(env, 'CAUSEWAY_RPC_DEADLINE_MS', 3000, 1);
}

/** `<SERVICE>_PORT`: where that service listens. */
export function readServicePort(env: Env, service: ServiceName): number {
  return readPort(env, `${envPrefix(service)}_PORT`, DEFAULT_PORTS[service]);
}

/** `<SERVICE>_ADDRESS`: where the others reach a gRPC service (host:port), by default its port on loopback. */
export function readServiceAddress(env: Env, service: CheckoutServiceName | 'order-queue' | 'payment'): string {
  const name = `${envPrefix(service)}_ADDRESS`;
  const raw = env[name];
  if (isUnset(raw)) return `127.0.0.1:${readServicePort(env, service)}`;
  return checkAddress(raw.trim(), name);
}

/** `executor-1=127.0.0.1:50061,executor-2=…` → {executor-1: '127.0.0.1:50061', …} */
export function parsePeers(raw: string, variable = 'EXECUTOR_PEERS'): Record<string, string> {
  const peers: Record<string, string> = {};
  for (const part of raw.split(',').map((p) => p.trim()).filter(Boolean)) {
    const match = /^([\w.-]+)=(\S+)$/.exec(part);
    if (!match) throw new ConfigError(`${variable} entry ${JSON.stringify(part)} must look like id=host:port`);
    peers[match[1]] = checkAddress(match[2], `${variable} entry ${match[1]}`);
  }
  if (Object.keys(peers).length === 0) throw new ConfigError(`${variable} lists no ${variable === 'EXECUTOR_PEERS' ? 'executors' : 'replicas'}`);
  return peers;
}

/** EXECUTOR_PEERS: the executor cluster, id → host:port, for the executors themselves and those who call them. */
export function readExecutorPeers(env: Env): Record<string, string> {
  const raw = env.EXECUTOR_PEERS;
  return parsePeers(isUnset(raw) ? DEFAULT_EXECUTORS.map((id, i) => `${id}=127.0.0.1:${50061 + i}`).join(',') : raw);
}

export const DEFAULT_BOOKS_DATABASE = ['books-1', 'books-2', 'books-3'] as const;

/**
 * BOOKS_DATABASE_PEERS: the books database's replicas, id → host:port (books-1=127.0.0.1:50071,… by default), for
 * the replicas themselves and those who call them.
 */
export function readBooksDatabasePeers(env: Env): Record<string, string> {
  const raw = env.BOOKS_DATABASE_PEERS;
  return parsePeers(isUnset(raw) ? DEFAULT_BOOKS_DATABASE.map((id, i) => `${id}=127.0.0.1:${50071 + i}`).join(',') : raw, 'BOOKS_DATABASE_PEERS');
}

/**
 * ORDER_QUEUE_LEASE_MS, the visibility timeout of a lease: the queue's default, and what the executors ask for, so
 * both ends read it here.
 */
export function readLeaseMs(env: Env): number {
  return readInt(env, 'ORDER_QUEUE_LEASE_MS', 5000, 1);
}

/** Where a process keeps its durable files: `<override>` if set, else `$CAUSEWAY_DATA_DIR/<folder>` (./data by default). */
export function readDataDir(env: Env, override: string, folder: string): string {
  return readString(env, override, `${readString(env, 'CAUSEWAY_DATA_DIR', './data')}/${folder}`);
}

export interface OtlpEndpoints {
  traces: string;
  metrics: string;
  logs: string;
}

/** Which signals a service sends over OTLP. */
export interface OtlpSignals {
  traces: boolean;
  metrics: boolean;
  logs: boolean;
}

/**
 * OTEL_TRACES_EXPORTER, OTEL_METRICS_EXPORTER and OTEL_LOGS_EXPORTER (the OpenTelemetry spec's names), each `otlp`
 * (the default) or `none`. With `none` the signal is not produced at all: no span is recorded (the trace context
 * still passes through), no metric is kept (a Prometheus endpoint, where CAUSEWAY_METRICS_PORT asks for one, still
 * is), no log record leaves but the JSON line on stdout.
 */
export function readOtlpSignals(env: Env): OtlpSignals {
  const on = (name: string) => readChoice(env, name, ['otlp', 'none'] as const, 'otlp') === 'otlp';
  return { traces: on('OTEL_TRACES_EXPORTER'), metrics: on('OTEL_METRICS_EXPORTER'), logs: on('OTEL_LOGS_EXPORTER') };
}

/** OTEL_EXPORTER_OTLP_ENDPOINT, and the per-signal variables that override it (the OpenTelemetry spec's names). */
export function readOtlpEndpoints(env: Env): OtlpEndpoints {
  const endpoint = readString(env, 'OTEL_EXPORTER_OTLP_ENDPOINT', 'http://localhost:4317');
  return {
    traces: readString(env, 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', endpoint),
    metrics: readString(env, 'OTEL_EXPORTER_OTLP_METRICS_ENDPOINT', endpoint),
    logs: readString(env, 'OTEL_EXPORTER_OTLP_LOGS_ENDPOINT', endpoint),
  };
}
