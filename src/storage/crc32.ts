import zlib from 'node:zlib';

/**
 * CRC-32 (IEEE 802.3, the one zip and zlib use). Node has it built in from 20.15;
 * the package allows any Node 20, so older ones fall back to the classic table.
 * `previous` continues a checksum over more bytes: crc32(b, crc32(a)) === crc32(a ‖ b).
 */
export const crc32: (data: Uint8Array, previous?: number) => number =
  typeof zlib.crc32 === 'function' ? (data, previous = 0) => zlib.crc32(data, previous) : tableCrc32;

const TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c;
  }
  return table;
})();

/** Byte at a time over the reflected polynomial 0xEDB88320. Exported so its test can hold it to zlib's. */
export function tableCrc32(data: Uint8Array, previous = 0): number {
  let c = ~previous >>> 0;
  for (const byte of data) c = TABLE[(c ^ byte) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}
