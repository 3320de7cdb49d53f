import fs from 'node:fs';
import path from 'node:path';
import { syncDir, writeAll } from './fsync';

/**
 * Replaces a file's contents so that a crash at any moment leaves either the
 * old file or the new one, whole: write a temporary file beside it, fsync it,
 * rename it over the target (atomic on POSIX), and fsync the directory so the
 * rename itself survives.
 */
export async function replaceFileDurably(file: string, contents: Buffer): Promise<void> {
  const tmp = tempFileOf(file);
  const out = await fs.promises.open(tmp, 'w');
  try {
    await writeAll(out, contents);
    await out.sync();
  } finally {
    await out.close();
  }
  await fs.promises.rename(tmp, file);
  await syncDir(path.dirname(file));
}

/** Where replaceFileDurably stages a file's next contents. */
export function tempFileOf(file: string): string {
  return `${file}.tmp`;
}

/** A temporary file left by a crash before its rename holds nothing anyone was promised: remove it. */
export async function removeLeftoverTemp(file: string): Promise<void> {
  try {
    await fs.promises.unlink(tempFileOf(file));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  await syncDir(path.dirname(file));
}
