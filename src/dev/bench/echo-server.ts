/** The RPC floor's server: a bare nice-grpc unary method (grpc.health.v1 Check), nothing else. */
import { createServer } from 'nice-grpc';
import { HealthDefinition } from '../../gen/grpc/health/v1/health';

const server = createServer();
server.add(HealthDefinition, { check: async () => ({ status: 1 }) });
void server.listen('127.0.0.1:0').then((port) => process.send?.({ port }));
