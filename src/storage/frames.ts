import { crc32 } from './crc32';

/**
 * One record on disk: a frame of
 *
 *   length  u32 little-endian   bytes in the payload
 *   crc     u32 little-endian   CRC-32 of the length field and the payload
 *   payload length bytes        whatever the caller stored (JSON, for Causeway's logs)
 *
 * The checksum covers the length too, so a damaged length is caught as surely
 * as a damaged payload, and a run of zero bytes (what a file system may leave
 * past the last write after a power cut) is never a valid empty record.
 */
export const FRAME_HEADER_BYTES = 8;

export type Payload = Buffer | string;

export function encodeFrame(payload: Payload): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + body.length);
  frame.writeUInt32LE(body.length, 0);
  frame.writeUInt32LE(crc32(body, crc32(frame.subarray(0, 4))), 4);
  body.copy(frame, FRAME_HEADER_BYTES);
  return frame;
}

/** The payload of the frame at `offset`, or undefined if no whole, intact frame starts there. */
export function frameAt(data: Buffer, offset: number): Buffer | undefined {
  if (offset + FRAME_HEADER_BYTES > data.length) return undefined;
  const length = data.readUInt32LE(offset);
  const end = offset + FRAME_HEADER_BYTES + length;
  if (end > data.length) return undefined;
  const payload = data.subarray(offset + FRAME_HEADER_BYTES, end);
  return crc32(payload, crc32(data.subarray(offset, offset + 4))) === data.readUInt32LE(offset + 4) ? payload : undefined;
}

export interface StoredRecord {
  /** Where the record's frame starts in the file, for error messages. */
  offset: number;
  payload: Buffer;
}

export type Scan =
  /** Every byte from `start` is a valid frame, except perhaps a bad tail from `validEnd` on (nothing valid after it). */
  | { kind: 'clean'; records: StoredRecord[]; validEnd: number }
  /** The frame at `offset` is bad but a valid one starts later: damage in the middle, not a torn write. */
  | { kind: 'corrupt'; records: StoredRecord[]; offset: number };

/**
 * Reads frames from `start` until the first one that is cut short or fails its
 * checksum. Whether that is a torn tail or damage in the middle is told by
 * looking for a valid frame starting at any later byte: a crash can only tear
 * the end of an append-only file, so if one exists, records that were once
 * written whole follow the bad one and the file cannot be repaired by cutting.
 * A stray match would need 32 checksum bits to agree by chance, and cannot
 * come from inside a text (JSON) payload: its length field would need control
 * bytes. After a power cut a file system may have written a batch's pages out
 * of order; that looks like damage in the middle and stops the process, the
 * safe side of the mistake.
 */
export function scanFrames(data: Buffer, start: number): Scan {
  const records: StoredRecord[] = [];
  let offset = start;
  while (offset < data.length) {
    const payload = frameAt(data, offset);
    if (payload === undefined) break;
    records.push({ offset, payload });
    offset += FRAME_HEADER_BYTES + payload.length;
  }
  for (let later = offset + 1; later + FRAME_HEADER_BYTES <= data.length; later++) {
    if (frameAt(data, later) !== undefined) return { kind: 'corrupt', records, offset };
  }
  return { kind: 'clean', records, validEnd: offset };
}
