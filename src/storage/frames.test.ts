import { encodeFrame, scanFrames } from './frames';

const file = (...frames: Buffer[]) => Buffer.concat(frames);

describe('scanFrames', () => {
  it('reads every frame of an intact file', () => {
    const data = file(encodeFrame('a'), encodeFrame(Buffer.from([0, 1, 2])), encodeFrame(''));
    const scan = scanFrames(data, 0);
    expect(scan).toMatchObject({ kind: 'clean', validEnd: data.length });
    expect(scan.records.map((r) => [r.offset, r.payload.toString('hex')])).toEqual([
      [0, Buffer.from('a').toString('hex')],
      [9, '000102'],
      [20, ''],
    ]);
  });

  it('treats a bad frame with nothing valid after it as a torn tail', () => {
    const whole = file(encodeFrame('first'), encodeFrame('second'));
    expect(scanFrames(whole.subarray(0, whole.length - 1), 0)).toMatchObject({ kind: 'clean', validEnd: 13 });
    // Zeros past the last write, as a file system may leave after a power cut, are not empty records.
    expect(scanFrames(file(encodeFrame('first'), Buffer.alloc(64)), 0)).toMatchObject({ kind: 'clean', validEnd: 13 });
  });

  it('reports a bad frame followed by a good one as corrupt, at the bad frame', () => {
    const data = file(encodeFrame('first'), encodeFrame('second'), encodeFrame('third'));
    data[13 + 8] ^= 0x01; // a bit of "second" flips
    expect(scanFrames(data, 0)).toMatchObject({ kind: 'corrupt', offset: 13 });
    const lengthHit = file(encodeFrame('first'), encodeFrame('second'), encodeFrame('third'));
    lengthHit[13] ^= 0x01; // the checksum covers the length too
    expect(scanFrames(lengthHit, 0)).toMatchObject({ kind: 'corrupt', offset: 13 });
  });
});
