import { readBool, readProcessConfig, readServicePort, readString, type Env, type ProcessConfig } from '../platform/config';

/** The web server's settings, and what it tells the browser in /config.json. */
export interface WebServerConfig extends ProcessConfig {
  /** HTTP port (WEB_PORT). */
  port: number;
  /** The orchestrator's port, on the host the page came from, unless `apiBase` is set. */
  orchestratorPort: number;
  /** WEB_API_BASE: the orchestrator's URL for the browser, when it is not on the page's host. */
  apiBase: string | undefined;
  /** Where the web app's "Open in Jaeger" links point. */
  jaegerUrl: string;
  /** Set by `npm start`: the web app may offer to kill the leader. */
  localMode: boolean;
}

export function loadWebServerConfig(env: Env = process.env): WebServerConfig {
  return {
    ...readProcessConfig(env),
    port: readServicePort(env, 'web'),
    orchestratorPort: readServicePort(env, 'orchestrator'),
    apiBase: env.WEB_API_BASE,
    jaegerUrl: readString(env, 'JAEGER_URL', 'http://localhost:16686'),
    localMode: readBool(env, 'CAUSEWAY_LOCAL_MODE', false),
  };
}
