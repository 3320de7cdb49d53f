import type { Server } from 'nice-grpc';
import { addHealth, createGrpcServer } from './grpc';
import { Lifecycle } from './lifecycle';
import type { Logger } from './logger';

export interface GrpcHostOptions {
  name: string;
  /** Interface to bind (CAUSEWAY_HOST). */
  host: string;
  port: number;
  logger: Logger;
  /** Adds the service's implementations to the server. */
  register: (server: Server) => void;
  /** Method paths not worth a trace per call (polling, protocol chatter). */
  untraced?: readonly string[];
  /** Largest incoming message, if more than gRPC's default 4 MiB is needed (a Raft snapshot). */
  maxReceiveBytes?: number;
  /** Work to stop on shutdown (timers, client channels), run before the server closes. */
  onShutdown?: () => void | Promise<void>;
}

/** Starts a gRPC service process: server with health, listen, graceful shutdown. */
export async function hostGrpcService(options: GrpcHostOptions): Promise<{ port: number; server: Server }> {
  const { name, logger } = options;
  const lifecycle = new Lifecycle(logger);
  lifecycle.install();
  const server = createGrpcServer(logger, options.untraced, options.maxReceiveBytes);
  options.register(server);
  let serving = true;
  addHealth(server, () => serving);
  // The same interface as the HTTP servers (loopback unless CAUSEWAY_HOST says otherwise); IPv6 needs brackets.
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  const port = await server.listen(`${host}:${options.port}`);
  lifecycle.onShutdown(async () => {
    serving = false;
    await options.onShutdown?.();
    server.forceShutdown();
  });
  logger.info(`${name} listening on ${options.host}:${port}`, { port });
  return { port, server };
}
