/**
 * Where the real observability tools are: Jaeger and Causeway's collector as scripts/stack-tools.sh builds them
 * into .tools/bin (or CAUSEWAY_TOOLS_DIR/bin), Prometheus and Alertmanager from Debian's packages. A missing tool
 * is an error that says how to get it; nothing is skipped.
 */
import fs from 'node:fs';
import path from 'node:path';

// From src/dev/stack (ts-jest) and dist/dev/stack (compiled) alike.
export const ROOT = path.resolve(__dirname, '..', '..', '..');

export interface Tools {
  collector: string;
  jaeger: string;
  prometheus: string;
  alertmanager: string;
}

export function toolPaths(env: NodeJS.ProcessEnv = process.env): Tools {
  const bin = path.join(env.CAUSEWAY_TOOLS_DIR ?? path.join(ROOT, '.tools'), 'bin');
  return {
    collector: path.join(bin, 'otelcol'),
    jaeger: path.join(bin, 'jaeger'),
    prometheus: env.PROMETHEUS ?? '/usr/bin/prometheus',
    alertmanager: env.ALERTMANAGER ?? '/usr/bin/prometheus-alertmanager',
  };
}

/** The tools named, or an error listing every missing one and how to get it. */
export function requireTools<K extends keyof Tools>(...names: K[]): Pick<Tools, K> {
  const tools = toolPaths();
  const how: Record<keyof Tools, string> = {
    collector: 'run scripts/stack-tools.sh (builds it with Go; `npm run stack` and .ci/run do)',
    jaeger: 'run scripts/stack-tools.sh (builds it with Go; `npm run stack` and .ci/run do)',
    prometheus: 'apt-get install prometheus (scripts/stack-tools.sh does, as root)',
    alertmanager: 'apt-get install prometheus-alertmanager (scripts/stack-tools.sh does, as root)',
  };
  const missing = names.filter((n) => !fs.existsSync(tools[n])).map((n) => `${tools[n]} is missing: ${how[n]}`);
  if (missing.length) throw new Error(missing.join('\n'));
  return tools;
}
