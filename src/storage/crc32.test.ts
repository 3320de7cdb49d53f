import { crc32, tableCrc32 } from './crc32';

describe('crc32', () => {
  it('gives the standard check value for "123456789"', () => {
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
    expect(tableCrc32(Buffer.from('123456789'))).toBe(0xcbf43926);
  });

  it('the fallback table agrees with the built-in one, in one piece and continued', () => {
    const data = Buffer.from(Array.from({ length: 1000 }, (_, i) => (i * 7919) & 0xff));
    expect(tableCrc32(data)).toBe(crc32(data));
    expect(tableCrc32(data.subarray(400), tableCrc32(data.subarray(0, 400)))).toBe(crc32(data));
    expect(crc32(Buffer.alloc(0))).toBe(0);
  });
});
