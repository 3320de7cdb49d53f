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

/** Asks each downstream service's grpc.health.v1 endpoint how it is. */
@injectable()
export class DownstreamHealth {
  constructor(@inject(HEALTH_CLIENTS) private readonly clients: Readonly<Record<string, HealthClient>>) {}

  async check(): Promise<HealthReport> {
    const entries = await Promise.all(
      Object.entries(this.clients).map(async ([name, client]) => {
        const started = performance.now();
        try {
          const { status } = await client.check({ service: '' });
          const latencyMs = Math.round((performance.now() - started) * 10) / 10;
          return [name, { status: HealthCheckResponse_ServingStatus[status] ?? 'UNKNOWN', latencyMs }] as const;
        } catch (err) {
          return [name, { status: 'UNREACHABLE', error: (err as Error).message }] as const;
        }
      }),
    );
    const services: HealthReport['services'] = Object.fromEntries(entries);
    const ok = Object.values(services).every((s) => s.status === 'SERVING');
    return { status: ok ? 'ok' : 'degraded', services };
  }
}
