import { loadWebServerConfig } from './config';

describe('web-server config', () => {
  it('has the defaults `npm start` uses', () => {
    expect(loadWebServerConfig({})).toEqual({
      host: '127.0.0.1',
      logLevel: 'info',
      port: 8080,
      orchestratorPort: 8081,
      apiBase: undefined,
      jaegerUrl: 'http://localhost:16686',
      localMode: false,
    });
  });

  it('tells the browser where the orchestrator and Jaeger are', () => {
    const config = loadWebServerConfig({ ORCHESTRATOR_PORT: '9081', WEB_API_BASE: 'http://api:8081', JAEGER_URL: 'http://jaeger', CAUSEWAY_LOCAL_MODE: '1' });
    expect([config.orchestratorPort, config.apiBase, config.jaegerUrl, config.localMode]).toEqual([9081, 'http://api:8081', 'http://jaeger', true]);
  });

  it('refuses bad ports, naming the variable', () => {
    expect(() => loadWebServerConfig({ WEB_PORT: '8080.5' })).toThrow('WEB_PORT="8080.5" must be an integer in [0, 65535]');
    expect(() => loadWebServerConfig({ ORCHESTRATOR_PORT: '65536' })).toThrow('ORCHESTRATOR_PORT="65536"');
  });

  it('starts whatever is wrong in the settings of other services', () => {
    expect(loadWebServerConfig({ EXECUTOR_ID: 'nope', ORDER_QUEUE_PORT: '99999', CAUSEWAY_RPC_DEADLINE_MS: 'soon' }).port).toBe(8080);
  });
});
