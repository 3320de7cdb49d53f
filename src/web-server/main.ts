/**
 * Serves the built web app (dist/web) on :8080, with `/config.json` telling the
 * browser where the orchestrator and Jaeger are, and whether this is a local run
 * (which enables the "kill leader" button). Only files inside dist/web are
 * served (static-files.ts), every response carries a Content-Security-Policy
 * and anti-framing headers (security-headers.ts), and only GET and HEAD exist.
 */
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { runMain } from '../platform/run-main';
import { Lifecycle } from '../platform/lifecycle';
import { createLogger } from '../platform/logger';
import { loadWebServerConfig } from './config';
import { securityHeaders } from './security-headers';
import { resolveStatic } from './static-files';

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
  const config = loadWebServerConfig();
  const logger = createLogger('web', config.logLevel);
  const lifecycle = new Lifecycle(logger);
  lifecycle.install();
  const root = path.resolve(__dirname, '..', 'web');
  if (!fs.existsSync(path.join(root, 'index.html'))) throw new Error(`${root}/index.html is missing: run \`npm run build\``);

  // The API lives on the same host the page came from, on the orchestrator's port. The Host header ends up in
  // /config.json and in the CSP, so only a plain host name or IP address is taken from it.
  const apiBaseFor = (req: http.IncomingMessage) => {
    if (config.apiBase !== undefined) return config.apiBase;
    const host = (req.headers.host ?? '').replace(/:\d+$/, '');
    return `http://${/^(?:[a-z0-9.-]+|\[[0-9a-f:.]+\])$/i.test(host) ? host : 'localhost'}:${config.orchestratorPort}`;
  };

  const server = http.createServer((req, res) => {
    const apiBase = apiBaseFor(req);
    for (const [name, value] of Object.entries(securityHeaders(apiBase))) res.setHeader(name, value);
    const refuse = (status: number, message: string, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', ...headers });
      res.end(req.method === 'HEAD' ? undefined : `${message}\n`);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return refuse(405, 'method not allowed', { allow: 'GET, HEAD' });

    let pathname: string;
    try {
      pathname = new URL(req.url ?? '/', 'http://localhost').pathname;
    } catch {
      return refuse(400, 'bad request');
    }
    if (pathname === '/config.json') {
      const body = JSON.stringify({ apiBase, jaegerUrl: config.jaegerUrl, localMode: config.localMode });
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(req.method === 'HEAD' ? undefined : body);
      return;
    }
    const target = resolveStatic(root, pathname);
    if (target.kind === 'refused') {
      if (target.status === 400) logger.warn(`refused ${JSON.stringify(req.url)}: ${target.reason}`, { status: 400 });
      return refuse(target.status, target.status === 404 ? 'not found' : 'bad request');
    }
    const { file } = target;
    res.writeHead(200, {
      'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream',
      'cache-control': file.includes(`${path.sep}assets${path.sep}`) ? 'public, max-age=31536000, immutable' : 'no-cache',
    });
    if (req.method === 'HEAD') return res.end();
    fs.createReadStream(file)
      .on('error', (err) => {
        logger.error(`could not read ${file}`, { error: err.message });
        res.destroy(err);
      })
      .pipe(res);
  });
  await new Promise<void>((resolve) => server.listen(config.port, config.host, resolve));
  logger.info(`web app on http://localhost:${config.port}`, { port: config.port });
  lifecycle.onShutdown(() => new Promise<void>((resolve) => server.close(() => resolve())));
});
