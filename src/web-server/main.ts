/**
 * Serves the built web app (dist/web) on :8080, with `/config.json` telling the
 * browser where the orchestrator and Jaeger are, and whether this is a local run
 * (which enables the "kill leader" button).
 */
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { runMain } from '../platform/run-main';
import { loadConfig } from '../platform/config';
import { Lifecycle } from '../platform/lifecycle';
import { createLogger } from '../platform/logger';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json',
  '.ico': 'image/x-icon',
};

runMain('web', async () => {
  const config = loadConfig();
  const logger = createLogger('web', config.logLevel);
  const lifecycle = new Lifecycle(logger);
  lifecycle.install();
  const root = path.resolve(__dirname, '..', 'web');
  if (!fs.existsSync(path.join(root, 'index.html'))) throw new Error(`${root}/index.html is missing: run \`npm run build\``);

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname === '/config.json') {
      // The API lives on the same host the page came from, on the orchestrator's port.
      const host = (req.headers.host ?? 'localhost').replace(/:\d+$/, '');
      const body = JSON.stringify({
        apiBase: process.env.WEB_API_BASE ?? `http://${host}:${config.ports.orchestrator}`,
        jaegerUrl: config.jaegerUrl,
        localMode: config.localMode,
      });
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(body);
      return;
    }
    const requested = path.normalize(path.join(root, decodeURIComponent(url.pathname)));
    const file = requested.startsWith(root) && fs.existsSync(requested) && fs.statSync(requested).isFile() ? requested : path.join(root, 'index.html');
    res.writeHead(200, {
      'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream',
      'cache-control': file.includes(`${path.sep}assets${path.sep}`) ? 'public, max-age=31536000, immutable' : 'no-cache',
      'x-content-type-options': 'nosniff',
    });
    fs.createReadStream(file).pipe(res);
  });
  await new Promise<void>((resolve) => server.listen(config.ports.web, config.host, resolve));
  logger.info(`web app on http://localhost:${config.ports.web}`, { port: config.ports.web });
  lifecycle.onShutdown(() => new Promise<void>((resolve) => server.close(() => resolve())));
});
