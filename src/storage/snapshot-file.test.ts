import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CorruptFileError } from './corrupt-file-error';
import { readSnapshotFile, writeSnapshotFile } from './snapshot-file';

describe('snapshot files', () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'snapshot-file-'));
    file = path.join(dir, 'state.snapshot');
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('reads back what was written, and nothing when there is no snapshot', async () => {
    expect(await readSnapshotFile(file, 'recover')).toBeUndefined();
    await writeSnapshotFile(file, '{"index":7}');
    await writeSnapshotFile(file, '{"index":9}');
    expect((await readSnapshotFile(file, 'recover'))?.toString()).toBe('{"index":9}');
    expect(fs.readdirSync(dir)).toEqual(['state.snapshot']);
  });

  it('ignores and removes a temp file left by a crash before its rename', async () => {
    await writeSnapshotFile(file, 'previous');
    fs.writeFileSync(`${file}.tmp`, 'half of the next snap');
    expect((await readSnapshotFile(file, 'recover'))?.toString()).toBe('previous');
    expect(fs.readdirSync(dir)).toEqual(['state.snapshot']);
  });

  it('refuses a damaged or shortened snapshot with the file and the recovery', async () => {
    await writeSnapshotFile(file, 'the state machine');
    const whole = fs.readFileSync(file);
    const damaged = Buffer.from(whole);
    damaged[damaged.length - 3] ^= 0x01;
    for (const bad of [damaged, whole.subarray(0, whole.length - 1), Buffer.concat([whole, Buffer.from('x')]), Buffer.from('junk')]) {
      fs.writeFileSync(file, bad);
      const error = await readSnapshotFile(file, 'wipe this replica').catch((err: unknown) => err);
      expect(error).toBeInstanceOf(CorruptFileError);
      expect((error as Error).message).toMatch(new RegExp(`^${file}: .* at byte \\d+; refusing to start\\. wipe this replica$`));
    }
  });
});
