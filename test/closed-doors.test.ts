/**
 * Closed doors, against the processes `npm start` runs (local mode, as the
 * launcher sets it): the web server serves nothing outside dist/web however
 * the path is encoded, its pages carry a CSP that forbids framing, and the
 * orchestrator's control endpoint refuses a page from another site.
 */
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { clusterExecutors, getJson, ROOT, startSystem, waitFor, type RunningSystem } from './support/system';

let system: RunningSystem;

beforeAll(async () => {
  system = await startSystem({ CAUSEWAY_RESTART_DELAY_MS: '300' });
});
afterAll(async () => {
  await system?.stop();
});

/** One request with the target sent byte for byte as given (fetch would normalise `..` and `\` first). */
function raw(url: string, target: string, method = 'GET'): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: hostname, port, path: target, method }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** The leader every executor follows, once there is one in a term after `afterTerm`. */
/** Within 45 s: after a kill, it includes the victim's restart, which a loaded two-core box can stretch past 15 s. */
async function stableLeader(afterTerm = 0): Promise<{ id: string; term: number }> {
  return waitFor(`one leader that every executor follows, in a term after ${afterTerm}`, async () => {
    const executors = await clusterExecutors(system);
    const leader = executors.find((e) => e.role === 'leader');
    const agreed = leader && leader.term > afterTerm && executors.every((e) => e.term === leader.term && e.leaderId === leader.id);
    return agreed ? { id: leader.id, term: leader.term } : undefined;
  }, 45_000);
}

describe('the web server', () => {
  const source = fs.readFileSync(path.join(ROOT, 'dist', 'web-server', 'main.js'), 'utf8');
  const index = fs.readFileSync(path.join(ROOT, 'dist', 'web', 'index.html'), 'utf8');

  it.each([
    ['/..%2fweb-server/main.js', 400],
    ['/..%2Fweb-server%2Fmain.js', 400],
    ['/%2e%2e%2fweb-server%2fmain.js', 400],
    ['/%2e%2e/web-server/main.js', 404],
    ['/%2E%2E%2F%2E%2E%2Fweb-server/main.js', 400],
    ['/..%252fweb-server/main.js', 404],
    ['/%252e%252e%252fweb-server%252fmain.js', 404],
    ['/..\\web-server/main.js', 404],
    ['/..%5cweb-server/main.js', 400],
    ['/assets/../../web-server/main.js', 404],
    ['/assets/..%2f..%2fweb-server/main.js', 400],
    ['/../web-server/main.js', 404],
    ['/web-server/main.js', 404],
    ['/index.html%00', 400],
    ['/..%2fweb-server/main.js%00.html', 400],
    ['/%E0%A4%A', 400],
  ])('never serves a file outside dist/web: %s → %i', async (target, status) => {
    const res = await raw(system.webUrl, target);
    expect(res.status).toBe(status);
    expect(res.body).not.toContain('resolveStatic');
    expect(res.body).not.toContain(source.slice(0, 200));
    expect(res.body).not.toContain('<!doctype html>');
  });

  it('answers 404 for an unknown asset, not the app page', async () => {
    for (const target of ['/assets/x.js', '/assets/index-missing.css', '/assets/']) {
      const res = await raw(system.webUrl, target);
      expect([target, res.status]).toEqual([target, 404]);
      expect(res.body).not.toContain('<!doctype html>');
    }
  });

  it('answers only GET and HEAD', async () => {
    for (const method of ['POST', 'PUT', 'DELETE', 'OPTIONS']) {
      const res = await raw(system.webUrl, '/', method);
      expect([method, res.status, res.headers.allow]).toEqual([method, 405, 'GET, HEAD']);
    }
    const head = await raw(system.webUrl, '/', 'HEAD');
    expect(head.status).toBe(200);
    expect(head.body).toBe('');
  });

  it('serves the app with a CSP that allows this origin and the API only, and no framing', async () => {
    const res = await raw(system.webUrl, '/');
    expect(res.status).toBe(200);
    expect(res.body).toBe(index);
    const { apiBase } = await getJson(`${system.webUrl}/config.json`);
    expect(apiBase).toBe(system.baseUrl);
    const csp = Object.fromEntries(
      String(res.headers['content-security-policy'])
        .split(';')
        .map((d) => d.trim().split(/\s+/))
        .map(([name, ...values]) => [name, values]),
    );
    expect(csp).toMatchObject({
      'default-src': ["'none'"],
      'script-src': ["'self'"],
      'style-src': ["'self'"],
      'img-src': ["'self'"],
      'connect-src': ["'self'", new URL(apiBase).origin],
      'frame-ancestors': ["'none'"],
    });
    expect(res.headers['x-frame-options']).toBe('DENY');
    expect(res.headers['referrer-policy']).toBe('no-referrer');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    // Every response carries them, errors included.
    expect((await raw(system.webUrl, '/assets/x.js')).headers['content-security-policy']).toBe(res.headers['content-security-policy']);
  });
});

describe('POST /cluster/kill-leader', () => {
  const kill = (headers: Record<string, string>) => fetch(`${system.baseUrl}/cluster/kill-leader`, { method: 'POST', headers });

  it('refuses a page from another origin, and the leader lives on', async () => {
    const leader = await stableLeader();
    const pid = system.pids()[leader.id];
    const foreign: Record<string, string>[] = [
      { origin: 'http://evil.example' },
      { origin: 'http://evil.example', 'sec-fetch-site': 'cross-site' },
      { 'sec-fetch-site': 'cross-site' },
    ];
    for (const headers of foreign) {
      const res = await kill(headers);
      expect(res.status).toBe(403);
      expect(await res.json()).toEqual({ error: { code: 'FORBIDDEN_ORIGIN', message: expect.any(String) } });
    }
    // Longer than an election timeout and a restart: had the leader died, another would lead by now.
    await new Promise((r) => setTimeout(r, 1500));
    expect(await stableLeader()).toEqual(leader);
    expect(system.pids()[leader.id]).toBe(pid);
    expect(() => process.kill(pid, 0)).not.toThrow();
  });

  it('kills the leader for the shop’s own page', async () => {
    const leader = await stableLeader();
    const res = await kill({ origin: system.webUrl, 'sec-fetch-site': 'same-site' });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ killed: leader.id, term: leader.term });
    // The survivors elect a new leader, and the launcher restarts the killed one as a follower.
    expect((await stableLeader(leader.term)).term).toBeGreaterThan(leader.term);
  });
});
