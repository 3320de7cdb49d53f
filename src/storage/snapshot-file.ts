import fs from 'node:fs';
import path from 'node:path';
import { CorruptFileError } from './corrupt-file-error';
import { removeLeftoverTemp, replaceFileDurably } from './durable-file';
import { encodeFrame, frameAt, FRAME_HEADER_BYTES, type Payload } from './frames';
import { makeDirDurable } from './fsync';

/**
 * A snapshot: one checksummed frame (frames.ts) after a header, replaced
 * whole. It is only ever written by rename, so unlike a log it can never be
 * legitimately torn: any damage refuses to start.
 */

export const SNAPSHOT_HEADER = Buffer.from('causeway snapshot v1\n', 'ascii');

/** Makes `payload` the snapshot at `file`, durably: temp file, fsync, rename, directory fsync. */
export async function writeSnapshotFile(file: string, payload: Payload): Promise<void> {
  await makeDirDurable(path.dirname(file));
  await replaceFileDurably(file, Buffer.concat([SNAPSHOT_HEADER, encodeFrame(payload)]));
}

/**
 * The snapshot at `file`, undefined if there is none. Removes a temp file left
 * by a crash mid-write (the previous snapshot, if any, is still whole).
 */
export async function readSnapshotFile(file: string, recovery: string): Promise<Buffer | undefined> {
  await removeLeftoverTemp(file);
  let data: Buffer;
  try {
    data = await fs.promises.readFile(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  if (!data.subarray(0, SNAPSHOT_HEADER.length).equals(SNAPSHOT_HEADER)) {
    throw new CorruptFileError(file, 0, `no "${SNAPSHOT_HEADER.toString().trim()}" header`, recovery);
  }
  const payload = frameAt(data, SNAPSHOT_HEADER.length);
  if (payload === undefined || SNAPSHOT_HEADER.length + FRAME_HEADER_BYTES + payload.length !== data.length) {
    throw new CorruptFileError(file, SNAPSHOT_HEADER.length, 'the snapshot fails its checksum', recovery);
  }
  return payload;
}
