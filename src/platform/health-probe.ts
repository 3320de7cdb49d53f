/**
 * `node dist/platform/health-probe.js [host:]port` exits 0 when the gRPC service
 * there answers grpc.health.v1 SERVING within a second: for container
 * healthchecks and Kubernetes exec probes.
 */
import { createChannel, createClient } from 'nice-grpc';
import { HealthCheckResponse_ServingStatus, HealthDefinition } from '../gen/grpc/health/v1/health';

async function probe(target: string): Promise<boolean> {
  const address = target.includes(':') ? target : `127.0.0.1:${target}`;
  const channel = createChannel(address);
  try {
    const client = createClient(HealthDefinition, channel);
    const { status } = await client.check({ service: '' }, { signal: AbortSignal.timeout(1000) });
    return status === HealthCheckResponse_ServingStatus.SERVING;
  } catch {
    return false;
  } finally {
    channel.close();
  }
}

const target = process.argv[2];
if (!target) {
  process.stderr.write('usage: health-probe [host:]port\n');
  process.exit(2);
}
void probe(target).then((ok) => process.exit(ok ? 0 : 1));
