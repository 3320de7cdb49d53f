import { metrics } from '@opentelemetry/api';
import { isAbortError } from 'abort-controller-x';
import {
  ClientError,
  createChannel,
  createClientFactory,
  createServer,
  ServerError,
  Status,
  type Channel,
  type CompatServiceDefinition,
  type Server,
  type ServerMiddleware,
} from 'nice-grpc';
import { clientCalls, serverTracing } from './grpc-tracing';
import {
  HealthCheckResponse_ServingStatus,
  HealthDefinition,
  type HealthServiceImplementation,
} from '../gen/grpc/health/v1/health';
import type { Logger } from './logger';

/**
 * Turns what a handler throws into a gRPC status. ServerErrors pass through; a
 * failed downstream call keeps its status (so UNAVAILABLE stays UNAVAILABLE up the
 * chain); anything else is a bug: logged with its stack, answered as INTERNAL
 * without details, so no order data leaks into a status message.
 */
function statusError(err: unknown, path: string, logger: Logger): unknown {
  if (err instanceof ServerError || isAbortError(err)) return err;
  if (err instanceof ClientError) return new ServerError(err.code, `${err.path}: ${err.details}`);
  const e = err as Error;
  logger.error(`unexpected error in ${path}`, { error: e.message, stack: e.stack });
  return new ServerError(Status.INTERNAL, 'internal error');
}

/**
 * Calls in progress per method, counted here and read by the SDK when it collects (every export and scrape): an
 * UpDownCounter's add() hashes its attributes on every call, twice per call served, which showed in the profile of
 * a saturated checkout beside the spans themselves.
 */
const inFlightByMethod = new Map<string, number>();
metrics
  .getMeter('causeway.grpc')
  .createObservableUpDownCounter('rpc.server.calls.in_flight', {
    unit: '{call}',
    description: 'gRPC calls this server is handling right now, by method',
  })
  .addCallback((result) => {
    for (const [method, calls] of inFlightByMethod) result.observe(calls, { 'rpc.method': method });
  });

/**
 * Every gRPC server's one middleware: a span per call (health checks and the `untraced` paths excepted), the calls in
 * flight per method (rpc_server_calls_in_flight, so a stuck downstream shows as a climb), and the error boundary
 * (statusError).
 */
export function serverCalls(logger: Logger, untraced: readonly string[] = []): ServerMiddleware {
  return serverTracing(new Set(['/grpc.health.v1.Health/Check', ...untraced]), {
    enter: (path) => inFlightByMethod.set(path, (inFlightByMethod.get(path) ?? 0) + 1),
    leave: (path) => inFlightByMethod.set(path, inFlightByMethod.get(path)! - 1),
    mapError: (err, path) => statusError(err, path, logger),
  });
}

/**
 * A gRPC server with its one middleware (serverCalls).
 * `maxReceiveBytes` raises gRPC's 4 MiB limit on one incoming message, for the few methods that need it.
 */
export function createGrpcServer(logger: Logger, untraced: readonly string[] = [], maxReceiveBytes?: number): Server {
  const options = maxReceiveBytes ? { 'grpc.max_receive_message_length': maxReceiveBytes } : {};
  return createServer(options).use(serverCalls(logger, untraced));
}

/** Answers grpc.health.v1 Check: SERVING while `serving()` says so. */
export function healthService(serving: () => boolean = () => true): HealthServiceImplementation {
  return {
    async check() {
      return {
        status: serving() ? HealthCheckResponse_ServingStatus.SERVING : HealthCheckResponse_ServingStatus.NOT_SERVING,
      };
    },
  };
}

export function addHealth(server: Server, serving?: () => boolean): void {
  server.add(HealthDefinition, healthService(serving));
}

export interface GrpcClientOptions {
  /** Default deadline of every call; 0 for none (long-lived streams). */
  deadlineMs: number;
  /** Health probes are not worth a trace each. */
  traced?: boolean;
  /**
   * Redial a peer that went away within this many ms at most. grpc-js backs off
   * exponentially to 120 s by default, so a restarted peer could stay unreachable
   * long after it is back; members of a cluster need to find each other at once.
   */
  maxReconnectBackoffMs?: number;
  /**
   * Ping the server this often while calls are open, and drop the connection if a ping is not answered
   * within the same time: a network partition drops packets silently, and without pings a connection stays
   * "up" while every call on it times out.
   */
  keepaliveMs?: number;
  /** Open this channel's own connection rather than share grpc-js's process-wide one to the same address. */
  privateConnection?: boolean;
}

/** A typed client over its own channel, with a default deadline and tracing. */
export function createGrpcClient<Service extends CompatServiceDefinition>(
  definition: Service,
  address: string,
  options: GrpcClientOptions,
) {
  const backoff = options.maxReconnectBackoffMs;
  const keepalive = options.keepaliveMs;
  const channel: Channel = createChannel(address, undefined, {
    ...(backoff ? { 'grpc.initial_reconnect_backoff_ms': Math.min(100, backoff), 'grpc.max_reconnect_backoff_ms': backoff } : {}),
    ...(keepalive ? { 'grpc.keepalive_time_ms': keepalive, 'grpc.keepalive_timeout_ms': keepalive } : {}),
    ...(options.privateConnection ? { 'grpc.use_local_subchannel_pool': 1 } : {}),
  });
  // One layer for the span and the deadline (see grpc-tracing.ts); a caller may still pass its own `deadline`.
  const client = createClientFactory().use(clientCalls(options.deadlineMs, options.traced !== false)).create(definition, channel);
  return { client, channel };
}

/** Clients sharing a default deadline; every channel they open is closed together on shutdown. */
export class GrpcClients {
  private readonly channels: Channel[] = [];

  constructor(private readonly deadlineMs: number) {}

  connect<Service extends CompatServiceDefinition>(definition: Service, address: string, options: Partial<GrpcClientOptions> = {}) {
    const { client, channel } = createGrpcClient(definition, address, { deadlineMs: this.deadlineMs, ...options });
    this.channels.push(channel);
    return client;
  }

  close(): void {
    for (const channel of this.channels) channel.close();
  }
}
