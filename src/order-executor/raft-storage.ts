import fs from 'node:fs';
import path from 'node:path';
import type { Entry, HardState, Ready, Storage } from '../raft/types';

/**
 * Raft's stable storage: one append-only file of JSON lines, each either a hard
 * state `{"hs": …}` or a run of entries `{"e": […]}`. A run starting at index i
 * replaces everything from i on, which is how a conflicting suffix is dropped
 * without rewriting the file. One Ready = one write + one fsync.
 */
export class RaftFileStorage {
  private synced: HardState | undefined;

  private constructor(
    private readonly file: fs.promises.FileHandle,
    readonly path: string,
  ) {}

  static async open(dir: string): Promise<{ storage: RaftFileStorage; state: Storage }> {
    await fs.promises.mkdir(dir, { recursive: true });
    const file = path.join(dir, 'raft.log');
    const state = await RaftFileStorage.replay(file);
    const handle = await fs.promises.open(file, 'a');
    // Make the file itself durable in its directory.
    const dirHandle = await fs.promises.open(dir, 'r');
    await dirHandle.sync();
    await dirHandle.close();
    return { storage: new RaftFileStorage(handle, file), state };
  }

  static async replay(file: string): Promise<Storage> {
    let hardState: HardState = { term: 0, vote: null, commit: 0 };
    const entries: Entry[] = [];
    let text = '';
    try {
      text = await fs.promises.readFile(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    const lines = text.split('\n');
    for (const [i, line] of lines.entries()) {
      if (line === '') continue;
      let record: { hs?: HardState; e?: Entry[] };
      try {
        record = JSON.parse(line);
      } catch (err) {
        // A crash can tear the last write; anything torn was never acknowledged.
        if (i >= lines.length - 2) break;
        throw new Error(`${file}: line ${i + 1} is corrupt: ${(err as Error).message}`);
      }
      if (record.hs) hardState = record.hs;
      if (record.e && record.e.length > 0) {
        entries.length = record.e[0].index - 1;
        entries.push(...record.e);
      }
    }
    return { hardState: { ...hardState, commit: Math.min(hardState.commit, entries.length) }, entries };
  }

  /**
   * Persists what a Ready asks for; resolves once it is durable. Entries, term
   * and vote are fsynced before anything is sent. A change of the commit index
   * alone is written but not fsynced: after a crash a lower commit index is
   * harmless (the leader tells us again), and it saves an fsync per commit.
   */
  async persist(rd: Ready): Promise<void> {
    let out = '';
    if (rd.hardState) out += JSON.stringify({ hs: rd.hardState }) + '\n';
    if (rd.entries.length > 0) out += JSON.stringify({ e: rd.entries }) + '\n';
    if (out === '') return;
    await this.file.write(out);
    const hs = rd.hardState;
    const voteOrTermChanged = hs !== undefined && (hs.term !== this.synced?.term || hs.vote !== this.synced?.vote);
    if (rd.entries.length > 0 || voteOrTermChanged) {
      await this.file.sync();
      if (hs) this.synced = hs;
    }
  }

  async close(): Promise<void> {
    await this.file.close();
  }
}
