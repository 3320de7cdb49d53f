/**
 * Preloaded with `node -r dist/platform/telemetry/preload.js <service main>`, so the
 * SDK's global providers exist before any service code runs. The service name comes from
 * OTEL_SERVICE_NAME, or else from the main script's folder (dist/<service>/main.js).
 */
import path from 'node:path';
import { ConfigError } from '../config';
import { startTelemetry } from './sdk';

const script = process.argv[1] ?? '';
const service = process.env.OTEL_SERVICE_NAME ?? path.basename(path.dirname(script));
try {
  startTelemetry(service);
} catch (err) {
  // A bad telemetry variable (say, CAUSEWAY_METRICS_PORT) stops the process with the same one-line message as runMain.
  if (!(err instanceof ConfigError)) throw err;
  process.stderr.write(`${service} failed to start: ${err.message}\n`);
  process.exit(1);
}
