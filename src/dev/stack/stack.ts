/**
 * The observability stack without Docker: Causeway's collector loading otel/collector.yaml, Jaeger fed by it,
 * Prometheus scraping the collector and the services and evaluating dashboards/prometheus/rules.yml, and
 * Alertmanager delivering to a webhook sink. `npm run stack` runs it on the usual ports; each end-to-end test runs
 * its own on free ports and a data directory of its own, so several run side by side.
 *
 *   services ──OTLP──▶ collector ──OTLP──▶ Jaeger (UI, query API)
 *                        │ :8889 spanmetrics + services' OTLP metrics, :8888 its own
 *   services /metrics ──▶ Prometheus ◀─┘          rules.yml ──▶ Alertmanager ──webhook──▶ AlertSink
 */
import fs from 'node:fs';
import path from 'node:path';
import { AlertSink, type DeliveredAlert } from './alert-sink';
import { answers, ToolProcess } from './tool-process';
import { requireTools, ROOT } from './tools';

export const COLLECTOR_CONFIG = path.join(ROOT, 'otel', 'collector.yaml');
export const JAEGER_CONFIG = path.join(ROOT, 'deploy', 'jaeger', 'config.yaml');
export const RULES = path.join(ROOT, 'dashboards', 'prometheus', 'rules.yml');

export interface CollectorPorts {
  otlpGrpc: number;
  otlpHttp: number;
  /** The prometheus exporter: spanmetrics and the metrics the services send over OTLP. */
  metrics: number;
  /** The collector's own metrics. */
  telemetry: number;
  health: number;
}

export interface StackPorts {
  collector: CollectorPorts;
  jaegerUi: number;
  jaegerGrpc: number;
  jaegerOtlp: number;
  jaegerHealth: number;
  prometheus: number;
  alertmanager: number;
  alertSink: number;
}

/** `npm run stack`'s ports: the ones docker compose publishes, and the services' defaults point at. */
export const DEFAULT_PORTS: StackPorts = {
  collector: { otlpGrpc: 4317, otlpHttp: 4318, metrics: 8889, telemetry: 8888, health: 13133 },
  jaegerUi: 16686,
  jaegerGrpc: 16685,
  jaegerOtlp: 14317,
  jaegerHealth: 13134,
  prometheus: 9090,
  alertmanager: 9093,
  alertSink: 9095,
};

export interface CollectorOptions {
  ports: CollectorPorts;
  /** host:port of the OTLP/gRPC receiver traces go to (Jaeger, or a test's receiver). */
  tracesTo: string;
  /** Where the logs pipeline writes (the file exporter; the native stack has no Loki). */
  logsFile: string;
  logDir: string;
  host?: string;
}

/** The collector with otel/collector.yaml, unchanged: only the environment differs from compose. */
export async function startCollector(options: CollectorOptions): Promise<ToolProcess> {
  const { collector } = requireTools('collector');
  const host = options.host ?? '127.0.0.1';
  const { ports } = options;
  const tool = ToolProcess.start('collector', collector, [`--config=${COLLECTOR_CONFIG}`], {
    logDir: options.logDir,
    env: {
      OTELCOL_OTLP_GRPC_ENDPOINT: `${host}:${ports.otlpGrpc}`,
      OTELCOL_OTLP_HTTP_ENDPOINT: `${host}:${ports.otlpHttp}`,
      OTELCOL_PROMETHEUS_ENDPOINT: `${host}:${ports.metrics}`,
      OTELCOL_TELEMETRY_HOST: host,
      OTELCOL_TELEMETRY_PORT: String(ports.telemetry),
      OTELCOL_HEALTH_ENDPOINT: `${host}:${ports.health}`,
      JAEGER_OTLP_ENDPOINT: options.tracesTo,
      OTELCOL_LOGS_EXPORTERS: '[file/logs]',
      OTELCOL_LOGS_FILE: options.logsFile,
      CAUSEWAY_DEPLOYMENT_ENVIRONMENT: 'stack',
    },
  });
  try {
    await tool.ready('its health check to answer', () => answers(`http://127.0.0.1:${ports.health}/`), 60_000);
  } catch (err) {
    await tool.stop();
    throw err;
  }
  return tool;
}

export interface ScrapeJob {
  job: string;
  targets: string[];
}

export interface StackOptions {
  ports: StackPorts;
  /** Logs, Prometheus's and Alertmanager's data, the generated configs. */
  dataDir: string;
  /**
   * The services' /metrics endpoints, host:port, by job. The targets may change later (`scrape`): Prometheus reads
   * them from files it watches, so the stack can start before the services it will scrape.
   */
  services: ScrapeJob[];
  /** Prometheus's scrape and rule evaluation interval (the rules' group keeps its own 5 s). */
  scrapeInterval?: string;
  /** Called for every alert the webhook sink receives. */
  onAlert?: (alert: DeliveredAlert) => void;
  /** Bind address of everything the stack serves (127.0.0.1; `npm run stack` may choose 0.0.0.0). */
  host?: string;
}

export interface RunningStack {
  ports: StackPorts;
  dataDir: string;
  /** OTLP/gRPC, for the services' OTEL_EXPORTER_OTLP_ENDPOINT. */
  otlpEndpoint: string;
  jaegerUrl: string;
  prometheusUrl: string;
  alertmanagerUrl: string;
  alertSinkUrl: string;
  /** The collector's logs pipeline output (OTLP JSON, one request per line). */
  logsFile: string;
  alerts(): DeliveredAlert[];
  /** Points a job (one of `services`) at new targets; Prometheus picks the change up within seconds. */
  scrape(job: ScrapeJob): void;
  processes: ToolProcess[];
  stop(): Promise<void>;
}

/**
 * Prometheus's config. The services' own series come from scraping them; the collector's exporter also holds the
 * queue's and executors' metrics (they send OTLP as well), so that job drops those two services' series except
 * the spanmetrics: one series per fact, or `sum(executor_is_leader)` would count each leader twice.
 */
export function prometheusConfig(options: { jobs: { job: string; file: string }[]; collector: string[]; alertmanager: string; scrapeInterval: string }): object {
  return {
    global: { scrape_interval: options.scrapeInterval, evaluation_interval: options.scrapeInterval },
    rule_files: [RULES],
    alerting: { alertmanagers: [{ static_configs: [{ targets: [options.alertmanager] }] }] },
    scrape_configs: [
      ...options.jobs.map((s) => ({ job_name: s.job, file_sd_configs: [{ files: [s.file], refresh_interval: '5s' }] })),
      { job_name: 'otel-collector', static_configs: [{ targets: options.collector }], metric_relabel_configs: COLLECTOR_DUPLICATES },
    ],
  };
}

/**
 * Drops, from the collector's exporter, the series of the services Prometheus scrapes directly (the queue, the
 * executors, the books database and payment), keeping their spanmetrics: mark spanmetrics, drop the unmarked series of those services, unmark.
 * dashboards/prometheus/prometheus.yml (compose) does the same.
 */
export const COLLECTOR_DUPLICATES = [
  { source_labels: ['__name__'], regex: 'traces_span_metrics_.*', target_label: 'from_spans', replacement: 'true' },
  { source_labels: ['service_name', 'from_spans'], regex: '(order-(executor|queue)|books-database|payment);', action: 'drop' },
  { regex: 'from_spans', action: 'labeldrop' },
];

export function alertmanagerConfig(webhook: string): object {
  return {
    route: { receiver: 'webhook-sink', group_by: ['alertname'], group_wait: '1s', group_interval: '5s', repeat_interval: '4h' },
    receivers: [{ name: 'webhook-sink', webhook_configs: [{ url: webhook, send_resolved: true }] }],
  };
}

export async function startStack(options: StackOptions): Promise<RunningStack> {
  const tools = requireTools('collector', 'jaeger', 'prometheus', 'alertmanager');
  const { ports, dataDir } = options;
  const host = options.host ?? '127.0.0.1';
  const logDir = path.join(dataDir, 'logs');
  fs.mkdirSync(logDir, { recursive: true });
  const processes: ToolProcess[] = [];
  const sink = new AlertSink(options.onAlert);
  const logsFile = path.join(dataDir, 'collector-logs.jsonl');
  const stop = async () => {
    await Promise.all(processes.map((p) => p.stop()));
    await sink.stop();
  };
  try {
    const alertSinkUrl = await sink.start(ports.alertSink, host);

    const jaeger = ToolProcess.start('jaeger', tools.jaeger, [`--config=${JAEGER_CONFIG}`], {
      logDir,
      env: {
        JAEGER_QUERY_HTTP_ENDPOINT: `${host}:${ports.jaegerUi}`,
        JAEGER_QUERY_GRPC_ENDPOINT: `${host}:${ports.jaegerGrpc}`,
        JAEGER_OTLP_GRPC_ENDPOINT: `127.0.0.1:${ports.jaegerOtlp}`,
        JAEGER_HEALTH_ENDPOINT: `127.0.0.1:${ports.jaegerHealth}`,
      },
    });
    processes.push(jaeger);

    const alertmanagerFile = path.join(dataDir, 'alertmanager.yml');
    fs.writeFileSync(alertmanagerFile, JSON.stringify(alertmanagerConfig(alertSinkUrl), null, 2));
    const alertmanager = ToolProcess.start(
      'alertmanager',
      tools.alertmanager,
      [
        `--config.file=${alertmanagerFile}`,
        `--storage.path=${path.join(dataDir, 'alertmanager')}`,
        `--web.listen-address=${host}:${ports.alertmanager}`,
        // No high-availability peers: the default cluster port (9094) would clash between stacks.
        '--cluster.listen-address=',
      ],
      { logDir },
    );
    processes.push(alertmanager);

    const targetsFile = (job: string) => path.join(dataDir, 'targets', `${job}.json`);
    const scrape = (job: ScrapeJob) => {
      // Written whole, then renamed: Prometheus never reads half a file.
      fs.mkdirSync(path.dirname(targetsFile(job.job)), { recursive: true });
      fs.writeFileSync(`${targetsFile(job.job)}.tmp`, JSON.stringify([{ targets: job.targets, labels: {} }]));
      fs.renameSync(`${targetsFile(job.job)}.tmp`, targetsFile(job.job));
    };
    for (const job of options.services) scrape(job);
    const prometheusFile = path.join(dataDir, 'prometheus.yml');
    const collectorTargets = [`127.0.0.1:${ports.collector.metrics}`, `127.0.0.1:${ports.collector.telemetry}`];
    fs.writeFileSync(
      prometheusFile,
      JSON.stringify(
        prometheusConfig({
          jobs: options.services.map((s) => ({ job: s.job, file: targetsFile(s.job) })),
          collector: collectorTargets,
          alertmanager: `127.0.0.1:${ports.alertmanager}`,
          scrapeInterval: options.scrapeInterval ?? '5s',
        }),
        null,
        2,
      ),
    );
    const prometheus = ToolProcess.start(
      'prometheus',
      tools.prometheus,
      [`--config.file=${prometheusFile}`, `--storage.tsdb.path=${path.join(dataDir, 'prometheus')}`, `--web.listen-address=${host}:${ports.prometheus}`],
      { logDir },
    );
    processes.push(prometheus);

    await jaeger.ready('its query API to answer', () => answers(`http://127.0.0.1:${ports.jaegerUi}/api/services`), 60_000);
    processes.push(
      await startCollector({ ports: ports.collector, tracesTo: `127.0.0.1:${ports.jaegerOtlp}`, logsFile, logDir, host }),
    );
    await alertmanager.ready('/-/ready', () => answers(`http://127.0.0.1:${ports.alertmanager}/-/ready`));
    await prometheus.ready('/-/ready', () => answers(`http://127.0.0.1:${ports.prometheus}/-/ready`));

    return {
      ports,
      dataDir,
      otlpEndpoint: `http://127.0.0.1:${ports.collector.otlpGrpc}`,
      jaegerUrl: `http://127.0.0.1:${ports.jaegerUi}`,
      prometheusUrl: `http://127.0.0.1:${ports.prometheus}`,
      alertmanagerUrl: `http://127.0.0.1:${ports.alertmanager}`,
      alertSinkUrl,
      logsFile,
      alerts: () => sink.alerts(),
      scrape: (job) => {
        if (!options.services.some((s) => s.job === job.job)) throw new Error(`${job.job} is not one of the stack's scrape jobs`);
        scrape(job);
      },
      processes,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
