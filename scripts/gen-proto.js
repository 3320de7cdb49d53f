#!/usr/bin/env node
// Generates TypeScript from proto/ with buf (binary shipped in its npm package,
// so this works offline) and the ts-proto plugin. Skips work when up to date.
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const out = path.join(root, 'src', 'gen');
const stamp = path.join(out, '.stamp');

function newestMtime(dir) {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(full) : fs.statSync(full).mtimeMs);
  }
  return newest;
}

const inputs = Math.max(
  newestMtime(path.join(root, 'proto')),
  fs.statSync(path.join(root, 'buf.gen.yaml')).mtimeMs,
);
if (fs.existsSync(stamp) && fs.statSync(stamp).mtimeMs >= inputs) process.exit(0);

const buf = path.join(root, 'node_modules', '.bin', 'buf');
if (!fs.existsSync(buf)) {
  console.error('gen-proto: node_modules/.bin/buf is missing; run `npm install` first.');
  process.exit(1);
}
fs.rmSync(out, { recursive: true, force: true });
execFileSync(buf, ['generate'], { cwd: root, stdio: 'inherit' });
fs.writeFileSync(stamp, new Date().toISOString() + '\n');
console.log('gen-proto: generated src/gen from proto/');
