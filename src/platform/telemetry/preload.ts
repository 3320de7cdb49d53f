/**
 * Preloaded with `node -r dist/platform/telemetry/preload.js <service main>`, so the
 * SDK's global providers exist before any service code runs. The service name comes from
 * OTEL_SERVICE_NAME, or else from the main script's folder (dist/<service>/main.js).
 */
import path from 'node:path';
import { startTelemetry } from './sdk';

const script = process.argv[1] ?? '';
startTelemetry(process.env.OTEL_SERVICE_NAME ?? path.basename(path.dirname(script)));
