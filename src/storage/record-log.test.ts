import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { crashAtDiskStep } from '../testing/disk-crash';
import { CorruptFileError } from './corrupt-file-error';
import { encodeFrame } from './frames';
import { LOG_HEADER, RecordLog } from './record-log';

const RECOVERY = 'wipe it and let it catch up';
const open = (file: string) => RecordLog.open(file, { recovery: RECOVERY });
const texts = (records: { payload: Buffer }[]) => records.map((r) => r.payload.toString('utf8'));

/** Opens, reads every record, closes: what a restart would see. */
async function reopen(file: string): Promise<{ records: string[]; repairedBytes: number }> {
  const { log, records, repairedBytes } = await open(file);
  await log.close();
  return { records: texts(records), repairedBytes };
}

describe('RecordLog', () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'record-log-'));
    file = path.join(dir, 'nested', 'test.log');
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('creates the file (and its directory) with a header, and replays appends in order', async () => {
    const { log, records, repairedBytes } = await open(file);
    expect(records).toEqual([]);
    expect(repairedBytes).toBe(0);
    expect(fs.readFileSync(file)).toEqual(LOG_HEADER);
    await log.append('one');
    await log.append(Buffer.from('two'));
    await log.close();
    expect(await reopen(file)).toEqual({ records: ['one', 'two'], repairedBytes: 0 });
    await expect(log.append('late')).rejects.toThrow(/closed/);
  });

  it('repairs a torn last record at every byte offset: nothing lost, nothing glued', async () => {
    const { log } = await open(file);
    await log.append('{"first":true}');
    await log.append('{"second":"the one being torn"}');
    await log.close();
    const whole = fs.readFileSync(file);
    const lastStart = whole.length - encodeFrame('{"second":"the one being torn"}').length;

    for (let cut = lastStart; cut < whole.length; cut++) {
      fs.writeFileSync(file, whole.subarray(0, cut));
      const torn = await open(file);
      expect({ cut, records: texts(torn.records), repaired: torn.repairedBytes }).toEqual({ cut, records: ['{"first":true}'], repaired: cut - lastStart });
      await torn.log.append('{"third":true}');
      await torn.log.close();
      expect({ cut, ...(await reopen(file)) }).toEqual({ cut, records: ['{"first":true}', '{"third":true}'], repairedBytes: 0 });
    }
  });

  it('cuts off a last record that fails its checksum, and zeros left after the last write', async () => {
    const { log } = await open(file);
    await log.append('keep');
    await log.append('damaged');
    await log.close();
    const data = fs.readFileSync(file);
    data[data.length - 1] ^= 0xff;
    fs.writeFileSync(file, Buffer.concat([data, Buffer.alloc(4096)]));
    expect(await reopen(file)).toEqual({ records: ['keep'], repairedBytes: encodeFrame('damaged').length + 4096 });
    expect(fs.readFileSync(file)).toEqual(Buffer.concat([LOG_HEADER, encodeFrame('keep')]));
  });

  it('refuses to start on a bad record followed by good ones, naming the file, the offset and the recovery', async () => {
    const { log } = await open(file);
    for (const text of ['one', 'two', 'three']) await log.append(text);
    await log.close();
    const data = fs.readFileSync(file);
    const second = LOG_HEADER.length + encodeFrame('one').length;
    data[second + 8] ^= 0x20; // "two" -> "Two"
    fs.writeFileSync(file, data);

    const error = await open(file).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(CorruptFileError);
    expect(error).toMatchObject({ file, offset: second });
    expect((error as Error).message).toBe(
      `${file}: a record fails its checksum with intact records after it at byte ${second}; refusing to start. ${RECOVERY}`,
    );
    // Nothing is "repaired" away: the evidence stays for whoever investigates.
    expect(fs.readFileSync(file)).toEqual(data);
  });

  it('refuses a file without the header, such as a JSON-lines log of an older Causeway', async () => {
    fs.mkdirSync(path.dirname(file));
    fs.writeFileSync(file, '{"hs":{"term":1,"vote":null,"commit":0}}\n');
    await expect(open(file)).rejects.toMatchObject({ name: 'CorruptFileError', offset: 0 });
  });

  it('group-commits appends that arrive during a write into one write + fsync, resolving each in order', async () => {
    const { log } = await open(file);
    const resolved: number[] = [];
    await Promise.all(Array.from({ length: 100 }, (_, i) => log.append(`r${i}`).then(() => resolved.push(i))));
    // The first append is written at once; the other 99 arrive meanwhile and share the next fsync.
    expect(log.fsyncs).toBe(2);
    expect(resolved).toEqual(Array.from({ length: 100 }, (_, i) => i));
    await log.close();
    expect((await reopen(file)).records).toEqual(Array.from({ length: 100 }, (_, i) => `r${i}`));
  });

  it('writes an append that needs no durability without an fsync, unless its batch has one that does', async () => {
    const { log } = await open(file);
    await log.append('cheap', { sync: false });
    expect(log.fsyncs).toBe(0);
    await log.append('durable');
    expect(log.fsyncs).toBe(1);
    await Promise.all([log.append('a'), log.append('b', { sync: false }), log.append('c'), log.append('d', { sync: false })]);
    expect(log.fsyncs).toBe(3);
    await log.close();
    expect((await reopen(file)).records).toEqual(['cheap', 'durable', 'a', 'b', 'c', 'd']);
  });

  it('rewrites in call order: appends made before it are replaced, appends made after it follow', async () => {
    const { log } = await open(file);
    await log.append('old');
    const writes = [log.append('before'), log.rewrite(['compacted 1', 'compacted 2']), log.append('after')];
    await Promise.all(writes);
    await log.append('later');
    await log.close();
    expect((await reopen(file)).records).toEqual(['compacted 1', 'compacted 2', 'after', 'later']);
    expect(fs.readdirSync(path.dirname(file))).toEqual(['test.log']);
  });

  it('leaves the old contents or the new, whole, after a crash at any step of a rewrite', async () => {
    const seen: string[] = [];
    for (let step = 0; ; step++) {
      fs.rmSync(path.dirname(file), { recursive: true, force: true });
      const { log } = await open(file);
      await log.append('old 1');
      await log.append('old 2');
      const crash = await crashAtDiskStep(step);
      const result = await log.rewrite(['new']).catch((err: Error) => err);
      crash.restore();
      await log.close();
      const after = (await reopen(file)).records.join(' + ');
      seen.push(`${crash.step ?? 'no crash'}: ${after}`);
      // A leftover temp file is removed on open.
      expect(fs.readdirSync(path.dirname(file))).toEqual(['test.log']);
      if (!crash.crashed) {
        expect(result).toBeUndefined();
        break;
      }
      expect(result).toBeInstanceOf(Error);
    }
    // The old contents up to the rename, the new ones from then on: never a mixture, never nothing.
    expect(seen).toEqual([
      'open test.log.tmp w: old 1 + old 2',
      'write: old 1 + old 2',
      'fsync: old 1 + old 2',
      'rename test.log.tmp: old 1 + old 2',
      'fsync: new',
      'open test.log a: new',
      'no crash: new',
    ]);
  });

  it('refuses every append after a failed write, and says so once', async () => {
    const failures: Error[] = [];
    const { log } = await RecordLog.open(file, { recovery: RECOVERY, onFailure: (err) => failures.push(err) });
    await log.append('fine');
    const crash = await crashAtDiskStep(0);
    const [first, second] = await Promise.all([log.append('fails').catch((e: Error) => e), log.append('queued').catch((e: Error) => e)]);
    crash.restore();
    expect(first).toBeInstanceOf(Error);
    expect(second).toBe(first);
    await expect(log.append('after')).rejects.toBe(first);
    expect(failures).toEqual([first]);
    await log.close();
    expect((await reopen(file)).records).toEqual(['fine']);
  });
});
