import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { resolveStatic } from './static-files';

/**
 * A web root `…/web` beside a sibling `…/web-server` that shares its prefix (as dist/ has them), with a
 * symlink out of the root: nothing but the root's own files may ever be named.
 */
describe('resolveStatic', () => {
  let dist: string;
  let root: string;
  beforeAll(() => {
    dist = fs.mkdtempSync(path.join(os.tmpdir(), 'static-'));
    root = path.join(dist, 'web');
    fs.mkdirSync(path.join(root, 'assets'), { recursive: true });
    fs.mkdirSync(path.join(dist, 'web-server'));
    fs.writeFileSync(path.join(root, 'index.html'), '<!doctype html>');
    fs.writeFileSync(path.join(root, 'assets', 'app.js'), 'app');
    fs.writeFileSync(path.join(dist, 'web-server', 'main.js'), 'secret');
    fs.symlinkSync(path.join(dist, 'web-server', 'main.js'), path.join(root, 'assets', 'link.js'));
  });
  afterAll(() => fs.rmSync(dist, { recursive: true, force: true }));

  const pathname = (target: string) => new URL(target, 'http://localhost').pathname;

  it('serves the root’s files, and index.html for `/` and extensionless routes', () => {
    expect(resolveStatic(root, pathname('/assets/app.js'))).toEqual({ kind: 'file', file: fs.realpathSync(path.join(root, 'assets', 'app.js')) });
    expect(resolveStatic(root, pathname('/'))).toEqual({ kind: 'file', file: path.join(root, 'index.html') });
    expect(resolveStatic(root, pathname('/cluster'))).toEqual({ kind: 'file', file: path.join(root, 'index.html') });
  });

  it.each([
    ['/..%2fweb-server/main.js', 400],
    ['/..%2Fweb-server%2Fmain.js', 400],
    ['/%2e%2e%2fweb-server/main.js', 400],
    ['/assets/..%2f..%2fweb-server/main.js', 400],
    ['/%2e%2e/web-server/main.js', 404], // the URL parser resolves %2e%2e itself, inside the root
    ['/..%252fweb-server/main.js', 404], // decoded once only: a file literally named `..%2fweb-server`
    ['/..\\web-server/main.js', 404], // the URL parser turns `\` into `/` and resolves `..` inside the root
    ['/..%5cweb-server/main.js', 400],
    ['/assets/../../web-server/main.js', 404],
    ['/index.html%00.js', 400],
    ['/%E0%A4%A', 400],
    ['/%', 400],
    ['/assets/link.js', 404], // a symlink out of the root
    ['/assets/x.js', 404],
    ['/assets/', 404],
    ['/missing.js', 404],
  ])('refuses %s with %i', (target, status) => {
    expect(resolveStatic(root, pathname(target))).toEqual({ kind: 'refused', status, reason: expect.any(String) });
  });
});
