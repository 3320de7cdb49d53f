import type { Client } from 'nice-grpc';
import { HealthCheckResponse_ServingStatus, type HealthDefinition } from '../gen/grpc/health/v1/health';
import { DownstreamHealth, type CatalogProbe } from './health';

type HealthClient = Client<typeof HealthDefinition>;

const answering = (status: HealthCheckResponse_ServingStatus) => ({ check: async () => ({ status }) }) as unknown as HealthClient;
const failing = (message: string) => ({ check: () => Promise.reject(new Error(message)) }) as unknown as HealthClient;
const catalog = (seeded: boolean | Error): CatalogProbe => ({
  isSeeded: () => (seeded instanceof Error ? Promise.reject(seeded) : Promise.resolve(seeded)),
});

describe('DownstreamHealth', () => {
  const serving = { 'payment': answering(HealthCheckResponse_ServingStatus.SERVING), 'order-queue': answering(HealthCheckResponse_ServingStatus.SERVING) };

  it('is ok when every service serves and the books database holds its catalog', async () => {
    const report = await new DownstreamHealth(serving, catalog(true)).check();
    expect(report.status).toBe('ok');
    expect(Object.keys(report.services).sort()).toEqual(['books-database', 'order-queue', 'payment']);
    for (const service of Object.values(report.services)) expect(service).toEqual({ status: 'SERVING', latencyMs: expect.any(Number) });
  });

  it('is degraded while the books database is up but not seeded yet: no checkout could be priced', async () => {
    const report = await new DownstreamHealth(serving, catalog(false)).check();
    expect(report.status).toBe('degraded');
    expect(report.services['books-database']).toMatchObject({ status: 'NOT_SERVING' });
    expect(report.services['payment']).toMatchObject({ status: 'SERVING' });
  });

  it('says which part is unreachable, and why', async () => {
    const report = await new DownstreamHealth({ ...serving, payment: failing('connect ECONNREFUSED') }, catalog(new Error('no leader'))).check();
    expect(report.status).toBe('degraded');
    expect(report.services['payment']).toEqual({ status: 'UNREACHABLE', error: 'connect ECONNREFUSED' });
    expect(report.services['books-database']).toEqual({ status: 'UNREACHABLE', error: 'no leader' });
  });

  it('reports a service that answers NOT_SERVING as such', async () => {
    const report = await new DownstreamHealth({ ...serving, payment: answering(HealthCheckResponse_ServingStatus.NOT_SERVING) }, catalog(true)).check();
    expect(report.status).toBe('degraded');
    expect(report.services['payment']).toMatchObject({ status: 'NOT_SERVING' });
  });
});
