import { watchEventLoop } from './event-loop';
import type { Logger } from './logger';
import { shutdownTelemetry } from './telemetry/sdk';

type Hook = () => Promise<void> | void;

/** An event-loop stall longer than this is logged as a warning. */
export const STALL_WARNING_MS = 100;

/**
 * Graceful shutdown: on SIGINT/SIGTERM run the registered hooks (last registered
 * first), flush telemetry, exit. A second signal, or a hook that hangs past the
 * grace period, exits at once.
 */
export class Lifecycle {
  private readonly hooks: Hook[] = [];
  private stopping = false;

  constructor(
    private readonly logger: Logger,
    private readonly graceMs = 5000,
  ) {}

  onShutdown(hook: Hook): void {
    this.hooks.push(hook);
  }

  install(): void {
    // A stall this long delays every request in flight; the log says so (see event-loop.ts).
    watchEventLoop(this.logger, { warnAfterMs: STALL_WARNING_MS });
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      process.on(signal, () => void this.stop(signal));
    }
    process.on('uncaughtException', (err) => {
      this.logger.error('uncaught exception', { error: err.message, stack: err.stack });
      void this.stop('uncaughtException', 1);
    });
    process.on('unhandledRejection', (reason) => {
      this.logger.error('unhandled rejection', { error: String(reason) });
    });
  }

  async stop(reason: string, code = 0): Promise<void> {
    if (this.stopping) process.exit(code || 130);
    this.stopping = true;
    this.logger.info(`shutting down (${reason})`);
    const timer = setTimeout(() => process.exit(code || 1), this.graceMs);
    timer.unref();
    for (const hook of [...this.hooks].reverse()) {
      try {
        await hook();
      } catch (err) {
        this.logger.warn('shutdown hook failed', { error: (err as Error).message });
      }
    }
    await shutdownTelemetry();
    process.exit(code);
  }
}
