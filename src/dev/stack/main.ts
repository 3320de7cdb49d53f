/**
 * `npm run stack`: the observability stack on the usual ports, without Docker (see stack.ts). Start it, then
 * `npm start` in another terminal: the services export to localhost:4317 by default and serve /metrics on the
 * ports Prometheus scrapes here. Ctrl-C stops everything. Data and logs go to ./data/stack (wiped at start).
 */
import fs from 'node:fs';
import path from 'node:path';
import { processSpecs } from '../launcher/processes';
import { describeAlert } from './alert-sink';
import { DEFAULT_PORTS, startStack } from './stack';

async function main(): Promise<void> {
  const dataDir = path.resolve(process.env.CAUSEWAY_STACK_DIR ?? path.join('data', 'stack'));
  fs.rmSync(dataDir, { recursive: true, force: true });
  // Where `npm start` serves /metrics (the queue and each executor), from the launcher's own table.
  const metrics = processSpecs(process.env).filter((p) => p.metricsPort !== undefined);
  const services = [
    { job: 'order-queue', targets: metrics.filter((p) => p.service === 'order-queue').map((p) => `127.0.0.1:${p.metricsPort}`) },
    { job: 'executors', targets: metrics.filter((p) => p.service === 'order-executor').map((p) => `127.0.0.1:${p.metricsPort}`) },
    { job: 'books-database', targets: metrics.filter((p) => p.service === 'books-database').map((p) => `127.0.0.1:${p.metricsPort}`) },
    { job: 'payment', targets: metrics.filter((p) => p.service === 'payment').map((p) => `127.0.0.1:${p.metricsPort}`) },
  ];
  console.log('Starting collector, Jaeger, Prometheus and Alertmanager...');
  const stack = await startStack({
    ports: DEFAULT_PORTS,
    dataDir,
    services,
    onAlert: (alert) => console.log(`${new Date().toISOString()} ${describeAlert(alert)}`),
  });
  console.log(
    [
      '',
      'Causeway observability stack is up:',
      `  OTLP (collector)   grpc ${stack.otlpEndpoint}, http http://127.0.0.1:${stack.ports.collector.otlpHttp}`,
      `  Jaeger query API   ${stack.jaegerUrl}/api/traces/<traceId>, ${stack.jaegerUrl}/api/services   (this build has no web UI: README)`,
      `  Prometheus         ${stack.prometheusUrl}   (alerts: ${stack.prometheusUrl}/alerts)`,
      `  Alertmanager       ${stack.alertmanagerUrl}`,
      `  Alert webhook      ${stack.alertSinkUrl}   (alerts are printed here)`,
      `  Service logs       ${stack.logsFile}   (the collector's logs pipeline; compose sends them to Loki)`,
      `  Tool output        ${path.join(dataDir, 'logs')}`,
      '',
      'Now run `npm start` in another terminal and place an order (http://localhost:8080). Until the executors run,',
      'ExecutorNoLeader fires (no executor reports itself leader); it resolves once they elect. Ctrl-C stops the stack.',
    ].join('\n'),
  );
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    console.log('\nStopping the stack...');
    await stack.stop();
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  // If a tool dies, say so and stop: a half stack would mislead.
  const watch = setInterval(() => {
    const dead = stack.processes.find((p) => !p.running);
    if (dead && !stopping) {
      clearInterval(watch);
      console.error(`${dead.name} stopped unexpectedly; its output (${dead.logFile}):\n${dead.output()}`);
      void stack.stop().then(() => process.exit(1));
    }
  }, 1000);
}

main().catch((err) => {
  console.error((err as Error).message);
  process.exit(1);
});
