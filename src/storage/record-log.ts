import fs from 'node:fs';
import path from 'node:path';
import { CorruptFileError } from './corrupt-file-error';
import { removeLeftoverTemp, replaceFileDurably } from './durable-file';
import { encodeFrame, scanFrames, type Payload, type StoredRecord } from './frames';
import { makeDirDurable, writeAll } from './fsync';

/**
 * An append-only file of checksummed records (see frames.ts), after a header
 * that names the format: the storage under Raft and under the order queue.
 *
 * - Group commit: appends that arrive while a write + fsync is in flight share
 *   the next single write and fsync, in arrival order; each append resolves once
 *   its record is durable (or written, for an append that asked for no fsync).
 * - On open, a torn or damaged tail, from a crash mid-write, is cut off (never
 *   acknowledged, so nothing promised is lost); a bad record with good ones
 *   after it refuses to start (CorruptFileError).
 * - `rewrite` replaces the whole contents (compaction) crash-safely.
 * - After a failed write or fsync nothing more is accepted: the kernel may have
 *   dropped the dirty pages, so only a restart that reads the disk knows what is
 *   on it.
 */

/** The file's first bytes: a format that changes gets a new version, and an older file is refused, not misread. */
export const LOG_HEADER = Buffer.from('causeway log v1\n', 'ascii');

export interface RecordLogOptions {
  /** What an operator should do if the log is corrupt, in the words of whoever owns the data. */
  recovery: string;
  /** Called once, when a write or fsync fails (the log refuses every append after that). */
  onFailure?: (err: Error) => void;
}

export interface OpenedLog {
  log: RecordLog;
  /** Every intact record, in order. */
  records: StoredRecord[];
  /** Bytes of a torn or damaged tail cut off on open (0 after a clean shutdown), for the caller to log. */
  repairedBytes: number;
}

export interface AppendOptions {
  /**
   * false: written with its batch but not fsynced (unless another record of the
   * batch asks for it), for a record whose loss in a crash is harmless.
   */
  sync?: boolean;
}

interface Operation {
  kind: 'append' | 'rewrite';
  /** Frames to append, or the whole new file for a rewrite. */
  bytes: Buffer;
  sync: boolean;
  resolve: () => void;
  reject: (err: Error) => void;
}

export class RecordLog {
  private queue: Operation[] = [];
  private flushing: Promise<void> | undefined;
  private failure: Error | undefined;
  private closed = false;
  private syncCount = 0;

  private constructor(
    readonly file: string,
    private handle: fs.promises.FileHandle,
    private readonly onFailure: (err: Error) => void,
  ) {}

  /** Opens (creating it and its directory if needed) and scans the log, repairing a torn tail. */
  static async open(file: string, options: RecordLogOptions): Promise<OpenedLog> {
    await makeDirDurable(path.dirname(file));
    await removeLeftoverTemp(file);
    if (!fs.existsSync(file)) await replaceFileDurably(file, LOG_HEADER);

    const data = await fs.promises.readFile(file);
    if (!data.subarray(0, LOG_HEADER.length).equals(LOG_HEADER)) {
      throw new CorruptFileError(file, 0, `no "${LOG_HEADER.toString().trim()}" header (a file of an older Causeway, or not a log)`, options.recovery);
    }
    const scan = scanFrames(data, LOG_HEADER.length);
    if (scan.kind === 'corrupt') {
      throw new CorruptFileError(file, scan.offset, 'a record fails its checksum with intact records after it', options.recovery);
    }
    const handle = await fs.promises.open(file, 'a');
    const repairedBytes = data.length - scan.validEnd;
    if (repairedBytes > 0) {
      try {
        await handle.truncate(scan.validEnd);
        await handle.sync();
      } catch (err) {
        await handle.close();
        throw err;
      }
    }
    return { log: new RecordLog(file, handle, options.onFailure ?? (() => {})), records: scan.records, repairedBytes };
  }

  /** fsyncs of the log file so far: with group commit, fewer than the appends. */
  get fsyncs(): number {
    return this.syncCount;
  }

  /** Appends a record; resolves once it is durable (see AppendOptions.sync). */
  append(payload: Payload, options: AppendOptions = {}): Promise<void> {
    return this.enqueue('append', encodeFrame(payload), options.sync ?? true);
  }

  /**
   * Replaces the whole log with `payloads` (compaction), after every append made
   * before this call and before any made after it. A crash at any point leaves
   * the old contents or the new, whole.
   */
  rewrite(payloads: readonly Payload[]): Promise<void> {
    return this.enqueue('rewrite', Buffer.concat([LOG_HEADER, ...payloads.map(encodeFrame)]), true);
  }

  /** Waits for the operations in flight, then closes the file. Later appends are refused. */
  async close(): Promise<void> {
    this.closed = true;
    await this.flushing;
    await this.handle.close();
  }

  private enqueue(kind: Operation['kind'], bytes: Buffer, sync: boolean): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.closed) return Promise.reject(new Error(`${this.file} is closed`));
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ kind, bytes, sync, resolve, reject });
      // The first append starts writing at once; the ones that arrive meanwhile form the next batch.
      this.flushing ??= this.flush();
    });
  }

  private async flush(): Promise<void> {
    try {
      while (this.queue.length > 0 && !this.failure) {
        const batch = this.queue[0].kind === 'rewrite' ? this.queue.splice(0, 1) : this.queue.splice(0, leadingAppends(this.queue));
        try {
          if (batch[0].kind === 'rewrite') await this.replace(batch[0].bytes);
          else await this.write(batch);
        } catch (err) {
          this.fail(err as Error, batch);
          return;
        }
        for (const op of batch) op.resolve();
      }
    } finally {
      // Cleared in the same tick as the queue was last seen empty (no await in
      // between), so an append made from a resolved caller is never stranded.
      this.flushing = undefined;
    }
  }

  private async write(batch: Operation[]): Promise<void> {
    await writeAll(this.handle, Buffer.concat(batch.map((op) => op.bytes)));
    if (batch.some((op) => op.sync)) {
      await this.handle.sync();
      this.syncCount++;
    }
  }

  private async replace(contents: Buffer): Promise<void> {
    await replaceFileDurably(this.file, contents);
    // The old handle points at the file the rename just unlinked.
    await this.handle.close();
    this.handle = await fs.promises.open(this.file, 'a');
  }

  private fail(err: Error, batch: Operation[]): void {
    this.failure = err;
    for (const op of [...batch, ...this.queue.splice(0)]) op.reject(err);
    this.onFailure(err);
  }
}

function leadingAppends(queue: Operation[]): number {
  const rewrite = queue.findIndex((op) => op.kind === 'rewrite');
  return rewrite === -1 ? queue.length : rewrite;
}
