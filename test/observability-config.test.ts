/**
 * The observability stack's files, checked here without Docker: the compose file
 * validates and refers only to things that exist; the collector's pipelines use
 * defined components; Grafana's dashboards use provisioned datasources and only
 * metrics the services really export; Grafana's alerts are the same PromQL as
 * the Prometheus rules that promtool tests.
 */
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { LEAN_HEAP_FLAGS, processSpecs } from '../src/dev/launcher/processes';
import { COLLECTOR_DUPLICATES } from '../src/dev/stack/stack';
import { ROOT, startSystem, waitFor, type RunningSystem } from './support/system';

const read = (file: string) => fs.readFileSync(path.join(ROOT, file), 'utf8');
const yaml = (file: string) => parse(read(file));
/** Every document of the Kubernetes manifests (kustomization.yaml aside). */
const k8sDocs = () =>
  fs
    .readdirSync(path.join(ROOT, 'deploy', 'k8s'))
    .filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml')
    .flatMap((f) => read(`deploy/k8s/${f}`).split(/^---$/m).map((d) => parse(d)))
    .filter(Boolean);
const DOCKER_COMPOSE = process.env.DOCKER_COMPOSE ?? '/usr/bin/docker-compose';

/** Metrics the collector derives from spans (spanmetrics connector); everything else must come from the services. */
const COLLECTOR_METRICS = ['traces_span_metrics_calls_total', 'traces_span_metrics_duration_milliseconds_bucket'];

describe('docker-compose.yml', () => {
  it('validates offline with docker-compose config', () => {
    if (!fs.existsSync(DOCKER_COMPOSE)) throw new Error(`${DOCKER_COMPOSE} is missing: apt-get install docker-compose (as .ci/run does)`);
    const result = spawnSync(DOCKER_COMPOSE, ['-f', 'docker-compose.yml', 'config', '-q'], { cwd: ROOT, encoding: 'utf8' });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
  });

  it('depends only on services it defines, mounts only files that exist, and publishes the documented ports', () => {
    const compose = yaml('docker-compose.yml');
    const services = compose.services as Record<string, { depends_on?: Record<string, unknown>; volumes?: string[]; ports?: string[] }>;
    for (const [name, service] of Object.entries(services)) {
      for (const dependency of Object.keys(service.depends_on ?? {})) expect(`${name} → ${dependency}: ${dependency in services}`).toBe(`${name} → ${dependency}: true`);
      for (const volume of service.volumes ?? []) {
        const source = volume.split(':')[0];
        if (source.startsWith('./')) expect(`${source} exists: ${fs.existsSync(path.join(ROOT, source))}`).toBe(`${source} exists: true`);
      }
    }
    const published = Object.values(services).flatMap((s) => (s.ports ?? []).map((p) => p.split(':')[0]));
    for (const port of ['8080', '8081', '16686', '3000', '9090']) expect(published).toContain(port);
    expect(Object.keys(services)).toEqual(
      expect.arrayContaining(['orchestrator', 'web', 'order-queue', 'executor-1', 'executor-2', 'executor-3', 'otel-collector', 'jaeger', 'prometheus', 'grafana', 'loki']),
    );
  });

  it('builds and runs our collector (deploy/otelcol), the one `npm run stack` and the tests run, with otel/collector.yaml mounted', () => {
    const collector = yaml('docker-compose.yml').services['otel-collector'] as { build?: { context?: string; dockerfile?: string }; image: string; command: string[]; volumes: string[] };
    expect(collector.build?.context).toBe('./deploy/otelcol');
    const dockerfile = read(path.join('deploy', 'otelcol', collector.build?.dockerfile ?? 'Dockerfile'));
    // Multi-stage: Go builds the module (after its tests) and only the binary reaches the runtime image.
    expect(dockerfile.match(/^FROM /gm)).toHaveLength(2);
    expect(dockerfile).toMatch(/^RUN go test \.\/\.\.\. && go build .* -o \/out\/otelcol \.$/m);
    expect(dockerfile).toMatch(/^COPY --from=build \/out\/otelcol \/otelcol$/m);
    expect(dockerfile).toMatch(/^ENTRYPOINT \["\/otelcol"\]$/m);
    expect(collector.image).toMatch(/^causeway-otelcol:/);
    expect(collector.command).toEqual(['--config=/etc/otelcol/collector.yaml']);
    expect(collector.volumes).toContain('./otel/collector.yaml:/etc/otelcol/collector.yaml:ro');
    // Kubernetes runs the same image, built as its header says.
    const k8s = k8sDocs().find((d) => d.kind === 'Deployment' && d.metadata.name === 'otel-collector');
    const container = k8s.spec.template.spec.containers[0] as { image: string; args: string[] };
    expect(container.image).toBe('causeway-otelcol:latest');
    expect(container.args).toEqual(collector.command);
    expect(read('deploy/k8s/otel-collector.yaml')).toContain('docker build -t causeway-otelcol:latest deploy/otelcol');
    // The processor the collector config depends on is registered in that build.
    expect(read('deploy/otelcol/main.go')).toContain('cardredaction.NewFactory()');
  });

  it('makes every Causeway service listen on all interfaces (the code binds loopback unless told)', () => {
    const compose = parse(read('docker-compose.yml'), { merge: true });
    const services = Object.entries(compose.services as Record<string, { image?: string; environment?: Record<string, string> }>).filter(([, s]) =>
      s.image?.startsWith('causeway:'),
    );
    expect(services.map(([name]) => name)).toEqual(expect.arrayContaining(['orchestrator', 'web', 'order-queue', 'executor-1']));
    for (const [name, service] of services) expect(`${name}: ${service.environment?.CAUSEWAY_HOST}`).toBe(`${name}: 0.0.0.0`);
  });
});

/**
 * The collector config as compose runs it: every `${env:NAME:-default}` replaced by its default (a whole-value
 * reference is parsed as YAML, as the collector's env provider does, so a list default stays a list).
 */
function withEnvDefaults(value: unknown): unknown {
  if (typeof value === 'string') {
    const whole = /^\$\{env:[A-Z_][A-Z0-9_]*:-(.*)\}$/.exec(value);
    if (whole) return parse(whole[1]);
    return value.replace(/\$\{env:[A-Z_][A-Z0-9_]*:-([^}]*)\}/g, '$1');
  }
  if (Array.isArray(value)) return value.map(withEnvDefaults);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withEnvDefaults(v)]));
  return value;
}

describe('collector config', () => {
  it('gives every environment reference a default, so compose runs it without setting any', () => {
    const references = [...read('otel/collector.yaml').matchAll(/\$\{env:([^}]*)\}/g)].map((m) => m[1]);
    expect(references.length).toBeGreaterThan(5);
    for (const reference of references) expect(reference).toMatch(/^[A-Z_][A-Z0-9_]*:-./);
  });

  it('wires every pipeline to defined components, with traces, metrics and logs', () => {
    const config = withEnvDefaults(yaml('otel/collector.yaml')) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    const defined = (kind: string) => Object.keys(config[kind] ?? {});
    const pipelines = config.service.pipelines as Record<string, { receivers: string[]; processors?: string[]; exporters: string[] }>;
    expect(Object.keys(pipelines).sort()).toEqual(['logs', 'metrics', 'traces']);
    for (const pipeline of Object.values(pipelines)) {
      for (const r of pipeline.receivers) expect([...defined('receivers'), ...defined('connectors')]).toContain(r);
      for (const p of pipeline.processors ?? []) expect(defined('processors')).toContain(p);
      for (const e of pipeline.exporters) expect([...defined('exporters'), ...defined('connectors')]).toContain(e);
      expect(pipeline.processors?.[0]).toBe('memory_limiter');
    }
    // Card numbers masked in every signal, before batching (deploy/otelcol/cardredaction).
    for (const pipeline of Object.values(pipelines)) expect(pipeline.processors?.slice(-2)).toEqual(['card_redaction', 'batch']);
    expect(pipelines.traces.exporters).toContain('span_metrics');
    expect(pipelines.logs.exporters).toEqual(['otlp_http/loki']);
  });
});

describe("compose's Prometheus", () => {
  it('drops the collector’s copies of the series it scrapes from the queue and the executors, as `npm run stack` does', () => {
    const jobs = yaml('dashboards/prometheus/prometheus.yml').scrape_configs as { job_name: string; metric_relabel_configs?: unknown }[];
    expect(jobs.find((j) => j.job_name === 'otel-collector')?.metric_relabel_configs).toEqual(COLLECTOR_DUPLICATES);
  });
});

describe('Grafana provisioning', () => {
  let system: RunningSystem;
  let exported: Set<string>;
  /** Which services export each metric name (the three executors count as one service, as do the three books replicas). */
  const exportedBy = new Map<string, Set<string>>();

  beforeAll(async () => {
    system = await startSystem();
    const scrape = (port: number) => waitFor('metrics', async () => (await fetch(`http://127.0.0.1:${port}/metrics`)).text());
    // Scrape once the leader has polled the queue: from then on every gauge has a sample.
    await waitFor("the leader's first look at the queue", async () => {
      for (const port of Object.values(system.metricsPorts)) if (/^executor_queue_depth_observed\{/m.test(await scrape(port))) return true;
      return undefined;
    });
    exported = new Set(COLLECTOR_METRICS);
    for (const [processName, port] of Object.entries(system.metricsPorts)) {
      const service = processName.replace(/^executor-\d+$/, 'order-executor').replace(/^books-\d+$/, 'books-database');
      const text = await scrape(port);
      for (const line of text.split('\n')) {
        const name = /^([a-zA-Z_:][a-zA-Z0-9_:]*)/.exec(line)?.[1];
        if (!name || line.startsWith('#')) continue;
        exported.add(name);
        if (!exportedBy.has(name)) exportedBy.set(name, new Set());
        exportedBy.get(name)!.add(service);
      }
    }
  });
  afterAll(async () => {
    await system?.stop();
  });

  const datasourceUids = () =>
    new Set((yaml('dashboards/grafana/provisioning/datasources/datasources.yml').datasources as { uid: string }[]).map((d) => d.uid));

  it('provisions Prometheus, Jaeger and Loki with trace ↔ log ↔ metric links', () => {
    expect(datasourceUids()).toEqual(new Set(['prometheus', 'jaeger', 'loki']));
    const [, jaeger, loki] = yaml('dashboards/grafana/provisioning/datasources/datasources.yml').datasources;
    expect(jaeger.jsonData.tracesToLogsV2.datasourceUid).toBe('loki');
    expect(jaeger.jsonData.tracesToMetrics.datasourceUid).toBe('prometheus');
    expect(loki.jsonData.derivedFields[0].datasourceUid).toBe('jaeger');
  });

  it.each(['checkout.json', 'cluster.json'])('dashboard %s uses provisioned datasources and only metrics that exist', (file) => {
    const dashboard = JSON.parse(read(`dashboards/grafana/dashboards/${file}`));
    const uids = datasourceUids();
    const metrics = new Set<string>();
    for (const panel of dashboard.panels) {
      if (panel.datasource) expect(uids).toContain(panel.datasource.uid);
      for (const target of panel.targets ?? []) {
        expect(uids).toContain(target.datasource.uid);
        if (target.datasource.uid !== 'prometheus') continue;
        for (const [name] of target.expr.matchAll(/\b(?:executor|orders|order_queue|traces_span_metrics)_[a-z_]+/g)) metrics.add(name);
      }
    }
    expect(metrics.size).toBeGreaterThan(0);
    for (const name of metrics) expect(`${name}: ${exported.has(name)}`).toBe(`${name}: true`);
  });

  it('gives each metric name one meaning: no name is exported by two services', () => {
    // Shared by design, with one meaning everywhere: target_info (OpenTelemetry's per-process resource description)
    // the gRPC middleware's calls in flight (src/platform/grpc.ts), one per server, told apart by job, and each
    // process's event-loop delay (src/platform/event-loop.ts).
    const platformWide = ['target_info', 'rpc_server_calls_in_flight', 'nodejs_eventloop_delay_max', 'nodejs_eventloop_delay_p99'];
    const shared = [...exportedBy].filter(([name, services]) => !platformWide.includes(name) && services.size > 1).map(([name, services]) => `${name}: ${[...services].join(', ')}`);
    expect(shared).toEqual([]);
    expect(exportedBy.get('order_queue_depth')).toEqual(new Set(['order-queue']));
    expect(exportedBy.get('executor_queue_depth_observed')).toEqual(new Set(['order-executor']));
  });

  it('alerts with the same PromQL as the promtool-tested Prometheus rules, to a webhook', () => {
    const prometheus = new Map(
      (yaml('dashboards/prometheus/rules.yml').groups[0].rules as { alert: string; expr: string }[]).map((r) => [r.alert, r.expr]),
    );
    const grafana = yaml('dashboards/grafana/provisioning/alerting/rules.yml').groups[0].rules as {
      labels: { prometheus_alert: string };
      data: { model: { expr?: string } }[];
    }[];
    expect(grafana.map((r) => r.labels.prometheus_alert).sort()).toEqual([...prometheus.keys()].sort());
    for (const rule of grafana) expect(rule.data[0].model.expr).toBe(prometheus.get(rule.labels.prometheus_alert));
    const contact = yaml('dashboards/grafana/provisioning/alerting/contact-points.yml').contactPoints[0];
    expect(contact.receivers[0].type).toBe('webhook');
    expect(yaml('dashboards/grafana/provisioning/alerting/policies.yml').policies[0].receiver).toBe(contact.name);
  });
});

describe('Kubernetes manifests', () => {
  const validate = (dir?: string) =>
    spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'validate-k8s.mjs'), ...(dir ? [dir] : [])], { cwd: ROOT, encoding: 'utf8' });

  it('validate against the Kubernetes schemas', () => {
    const result = validate();
    expect(result.stdout).not.toContain('INVALID');
    expect(result.status).toBe(0);
    for (const kind of ['StatefulSet/executor', 'StatefulSet/order-queue', 'Deployment/orchestrator', 'Deployment/otel-collector', 'Service/executor']) {
      expect(result.stdout).toContain(`valid   `);
      expect(result.stdout).toContain(kind);
    }
  });

  it('and the validator does catch a broken manifest', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'k8s-'));
    fs.writeFileSync(
      path.join(dir, 'bad.yaml'),
      'apiVersion: apps/v1\nkind: StatefulSet\nmetadata: { name: x }\nspec: { replicas: three, serviceName: x, selector: {}, template: {} }\n',
    );
    const result = validate(dir);
    fs.rmSync(dir, { recursive: true, force: true });
    expect(result.stdout).toContain('INVALID bad.yaml: StatefulSet/x');
    expect(result.status).toBe(1);
  });

  it('give executors stable names and volumes, and every container health probes', () => {
    const docs = k8sDocs();
    const executors = docs.find((d) => d.kind === 'StatefulSet' && d.metadata.name === 'executor');
    expect(executors.spec.replicas).toBe(3);
    expect(executors.spec.volumeClaimTemplates[0].metadata.name).toBe('data');
    const peers = docs.find((d) => d.kind === 'ConfigMap').data.EXECUTOR_PEERS as string;
    expect(peers.split(',').map((p) => p.split('=')[0])).toEqual(['executor-0', 'executor-1', 'executor-2']);
    for (const workload of docs.filter((d) => d.kind === 'Deployment' || d.kind === 'StatefulSet')) {
      for (const container of workload.spec.template.spec.containers) {
        expect(`${workload.metadata.name}: ${Boolean(container.readinessProbe && container.livenessProbe)}`).toBe(`${workload.metadata.name}: true`);
      }
    }
  });

  it('make every Causeway container listen on all interfaces (the code binds loopback unless told)', () => {
    const docs = k8sDocs();
    const configMaps = new Map(docs.filter((d) => d.kind === 'ConfigMap').map((d) => [d.metadata.name as string, d.data as Record<string, string>]));
    type Container = { name: string; image: string; env?: { name: string; value?: string }[]; envFrom?: { configMapRef?: { name: string } }[] };
    const containers = docs
      .filter((d) => d.kind === 'Deployment' || d.kind === 'StatefulSet')
      .flatMap((d) => d.spec.template.spec.containers as Container[])
      .filter((c) => c.image.startsWith('causeway:'));
    expect(containers.map((c) => c.name)).toEqual(expect.arrayContaining(['orchestrator', 'web', 'order-queue', 'executor']));
    for (const container of containers) {
      // Later sources win: envFrom first, then env.
      const fromMaps = (container.envFrom ?? []).map((e) => configMaps.get(e.configMapRef?.name ?? '')?.CAUSEWAY_HOST);
      const fromEnv = (container.env ?? []).filter((e) => e.name === 'CAUSEWAY_HOST').map((e) => e.value);
      const host = [...fromMaps, ...fromEnv].filter((h) => h !== undefined).at(-1);
      expect(`${container.name}: ${host}`).toBe(`${container.name}: 0.0.0.0`);
    }
  });
});

describe('Node flags', () => {
  // What a script is run with, in each way of running Causeway: its path → the node flags before it.
  const flagsByScript = (commands: string[][]) => new Map(commands.map((c) => [c.at(-1)!, c.slice(0, -1)]));

  it('are the same under npm start, compose and Kubernetes (the queue and executors run with a lean heap)', () => {
    const launcher = flagsByScript(processSpecs({}).map((s) => [...s.nodeFlags, `dist/${s.service}/main.js`]));
    expect(launcher.get('dist/order-queue/main.js')).toEqual(LEAN_HEAP_FLAGS);
    expect(launcher.get('dist/order-executor/main.js')).toEqual(LEAN_HEAP_FLAGS);
    expect(launcher.get('dist/orchestrator/main.js')).toEqual([]);

    const compose = parse(read('docker-compose.yml'), { merge: true });
    const composeCommands = Object.values(compose.services as Record<string, { image?: string; command?: string[] }>)
      .filter((s) => s.image?.startsWith('causeway:'))
      .map((s) => s.command!);
    const k8s = k8sDocs()
      .filter((d) => d.kind === 'Deployment' || d.kind === 'StatefulSet')
      .flatMap((d) => d.spec.template.spec.containers as { image: string; args: string[] }[])
      .filter((c) => c.image.startsWith('causeway:'))
      .map((c) => c.args);
    for (const [where, commands] of [['docker-compose.yml', composeCommands], ['deploy/k8s', k8s]] as const) {
      expect(commands.length).toBeGreaterThanOrEqual(5);
      for (const command of commands) {
        const [script, flags] = [command.at(-1)!, command.slice(0, -1)];
        expect(`${where} ${script}: ${flags.join(' ')}`).toBe(`${where} ${script}: ${launcher.get(script)!.join(' ')}`);
      }
    }
  });
});
