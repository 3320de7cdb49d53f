import type { Client } from 'nice-grpc';
import { inject, injectable } from 'tsyringe';
import { HealthCheckResponse_ServingStatus, type HealthDefinition } from '../gen/grpc/health/v1/health';

type HealthClient = Client<typeof HealthDefinition>;

/** Injection token: a health client per downstream service, by name. */
export const HEALTH_CLIENTS = Symbol('HealthClients');

export interface HealthReport {
  status: 'ok' | 'degraded';
  services: Record<string, { status: string; latencyMs?: number; error?: string }>;
}

/** What /health asks of the books database: whether its catalog is there to price orders with (PriceList). */
export interface CatalogProbe {
  isSeeded(): Promise<boolean>;
}

/** Injection token for the CatalogProbe. */
export const CATALOG_PROBE = Symbol('CatalogProbe');

/**
 * Asks each downstream service's grpc.health.v1 endpoint how it is, and the books database whether it holds its
 * catalog: a replica is up long before its first leader has seeded the books, and until then no checkout can be
 * priced, so the orchestrator is not ready either.
 */
@injectable()
export class DownstreamHealth {
  constructor(
    @inject(HEALTH_CLIENTS) private readonly clients: Readonly<Record<string, HealthClient>>,
    @inject(CATALOG_PROBE) private readonly catalog: CatalogProbe,
  ) {}

  async check(): Promise<HealthReport> {
    const timed = async (name: string, probe: () => Promise<string>) => {
      const started = performance.now();
      try {
        const status = await probe();
        return [name, { status, latencyMs: Math.round((performance.now() - started) * 10) / 10 }] as const;
      } catch (err) {
        return [name, { status: 'UNREACHABLE', error: (err as Error).message }] as const;
      }
    };
    const entries = await Promise.all([
      ...Object.entries(this.clients).map(([name, client]) =>
        timed(name, async () => HealthCheckResponse_ServingStatus[(await client.check({ service: '' })).status] ?? 'UNKNOWN'),
      ),
      timed('books-database', async () => ((await this.catalog.isSeeded()) ? 'SERVING' : 'NOT_SERVING')),
    ]);
    const services: HealthReport['services'] = Object.fromEntries(entries);
    const ok = Object.values(services).every((s) => s.status === 'SERVING');
    return { status: ok ? 'ok' : 'degraded', services };
  }
}
