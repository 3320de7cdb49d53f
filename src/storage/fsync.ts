import fs from 'node:fs';
import path from 'node:path';

/**
 * Creating, renaming or removing a file changes its directory, and that change
 * is only durable once the directory itself is fsynced: without it a crash can
 * forget a rename that the file's own fsync already made safe.
 */
export async function syncDir(dir: string): Promise<void> {
  const handle = await fs.promises.open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** mkdir -p, then makes each directory it created durable in its parent. */
export async function makeDirDurable(dir: string): Promise<void> {
  const target = path.resolve(dir);
  const first = await fs.promises.mkdir(target, { recursive: true });
  if (first === undefined) return;
  for (let created = target; ; created = path.dirname(created)) {
    await syncDir(path.dirname(created));
    if (created === path.resolve(first)) return;
  }
}

/** Writes a whole buffer: a single write() may write less than asked. */
export async function writeAll(handle: fs.promises.FileHandle, data: Buffer): Promise<void> {
  let offset = 0;
  while (offset < data.length) {
    const { bytesWritten } = await handle.write(data, offset, data.length - offset);
    offset += bytesWritten;
  }
}
