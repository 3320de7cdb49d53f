/**
 * Which file under the web root a request path names, if any. Only files inside
 * the root are ever served: the path is decoded once, refused if it could mean
 * anything else on another platform or after another decoding (NUL, backslash,
 * a `..` segment), then resolved and checked against the root plus the
 * separator (a bare prefix check would let `dist/web` serve `dist/web-server`).
 */
import fs from 'node:fs';
import path from 'node:path';

export type StaticTarget =
  | { kind: 'file'; file: string }
  /** 400: the path is not one a browser asks for (bad encoding, NUL, backslash, `..`); 404: no such file. */
  | { kind: 'refused'; status: 400 | 404; reason: string };

/**
 * `pathname` is the request target's path, still percent-encoded (as `new URL(req.url).pathname` gives it).
 * Unknown paths with no file extension get index.html (the app's routes are hashes, but a bookmark of a
 * path should still open the app); unknown files, and anything unknown under /assets/, are 404.
 */
export function resolveStatic(root: string, pathname: string): StaticTarget {
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return { kind: 'refused', status: 400, reason: 'malformed percent-encoding' };
  }
  if (decoded.includes('\0')) return { kind: 'refused', status: 400, reason: 'NUL in path' };
  // On Windows a backslash is a separator; nowhere is it a character the app's files use.
  if (decoded.includes('\\')) return { kind: 'refused', status: 400, reason: 'backslash in path' };
  // The URL parser already removed literal `..` segments, so one here was percent-encoded on purpose.
  if (decoded.split('/').some((segment) => segment === '..')) return { kind: 'refused', status: 400, reason: '`..` in path' };

  const file = path.resolve(root, `.${decoded}`);
  if (file !== root && !file.startsWith(root + path.sep)) return { kind: 'refused', status: 400, reason: 'outside the web root' };

  const found = regularFileInside(root, file);
  if (found) return { kind: 'file', file: found };
  if (decoded === '/assets' || decoded.startsWith('/assets/') || path.extname(decoded) !== '') {
    return { kind: 'refused', status: 404, reason: 'no such file' };
  }
  return { kind: 'file', file: path.join(root, 'index.html') };
}

/** The file's real path if it is a regular file whose real path is still inside the root (no symlink out). */
function regularFileInside(root: string, file: string): string | undefined {
  try {
    if (!fs.statSync(file).isFile()) return undefined;
    const real = fs.realpathSync(file);
    const realRoot = fs.realpathSync(root);
    return real.startsWith(realRoot + path.sep) ? real : undefined;
  } catch {
    return undefined;
  }
}
