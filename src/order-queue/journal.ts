import fs from 'node:fs';
import path from 'node:path';
import type { QueuedOrder } from '../gen/causeway/v1/order_queue';
import { DEFAULT_ACKED_MEMORY, OrderQueueState, RecentIds } from './queue-state';

/**
 * The queue's durability: an append-only file of JSON lines, one record each.
 * Replaying it rebuilds every order not yet acked and the highest term. Leases
 * are not journaled: after a restart every unacked order is ready again, and
 * consumers, being idempotent, tolerate the redelivery.
 */

export type JournalRecord =
  | { op: 'enqueue'; order: QueuedOrder }
  | { op: 'ack'; ids: string[] }
  | { op: 'term'; term: number };

export const JOURNAL_FILE = 'journal.jsonl';

export interface JournalOptions {
  /**
   * Compaction happens once the file holds more acked orders than this and more
   * than half of its records are dead.
   */
  compactAfterAcks?: number;
  /** How many acked order ids to remember, here and in the state load() returns. */
  ackedMemory?: number;
  /** Called once when a write or fsync fails; the journal refuses every append after that. */
  onFailure?: (err: Error) => void;
}

export class JournalCorruptError extends Error {
  constructor(file: string, line: number, reason: string) {
    super(`${file}:${line} is not a journal record (${reason}); refusing to start on a corrupt journal`);
    this.name = 'JournalCorruptError';
  }
}

interface Pending {
  record: JournalRecord;
  resolve: () => void;
  reject: (err: Error) => void;
}

/** Ack ids per record when compaction rewrites the remembered acks, so no line grows huge. */
const ACK_IDS_PER_LINE = 1000;

export class Journal {
  readonly file: string;
  private handle: fs.promises.FileHandle | undefined;
  private readonly compactAfterAcks: number;
  private readonly ackedMemory: number;
  private readonly onFailure: (err: Error) => void;

  // What the file holds, kept apart from the queue state so that compaction
  // rewrites exactly what has been written, never an order not yet durable.
  private readonly live = new Map<string, QueuedOrder>();
  private readonly acked: RecentIds;
  private term = 0;
  private records = 0;
  private ackedSinceCompaction = 0;

  private queue: Pending[] = [];
  private flushing: Promise<void> | undefined;
  private failure: Error | undefined;
  private closed = false;

  constructor(
    readonly dir: string,
    options: JournalOptions = {},
  ) {
    this.file = path.join(dir, JOURNAL_FILE);
    this.compactAfterAcks = options.compactAfterAcks ?? 10_000;
    this.ackedMemory = options.ackedMemory ?? DEFAULT_ACKED_MEMORY;
    this.acked = new RecentIds(this.ackedMemory);
    this.onFailure = options.onFailure ?? (() => {});
  }

  /** Bytes of a torn final record that load() cut off (0 after a clean shutdown). */
  truncatedBytes = 0;

  /** How many records the file holds now. */
  get size(): number {
    return this.records;
  }

  /**
   * Opens the journal (creating the directory and file if needed) and replays it
   * into a fresh queue state. A torn final line, from a crash in the middle of a
   * write, is cut off: its append was never acknowledged.
   */
  async load(): Promise<OrderQueueState> {
    if (this.handle) throw new Error('journal already loaded');
    await fs.promises.mkdir(this.dir, { recursive: true });
    const created = !fs.existsSync(this.file);
    this.handle = await fs.promises.open(this.file, 'a+');
    if (created) await syncDir(this.dir);

    const state = new OrderQueueState(this.ackedMemory);
    const data = await this.handle.readFile();
    const lines = splitLines(data);
    let lastRecord = lines.length - 1;
    while (lastRecord >= 0 && lines[lastRecord].text.trim() === '') lastRecord--;
    let goodBytes = 0;
    for (let i = 0; i <= lastRecord; i++) {
      const { text, end } = lines[i];
      if (text.trim() !== '') {
        let record: JournalRecord;
        try {
          record = parseRecord(text);
        } catch (err) {
          if (i === lastRecord) break; // torn tail: never acknowledged, cut off below
          throw new JournalCorruptError(this.file, i + 1, (err as Error).message);
        }
        replay(state, record);
        this.remember(record);
        this.records++;
      }
      goodBytes = end;
    }
    this.truncatedBytes = data.length - goodBytes;
    if (goodBytes < data.length) await this.handle.truncate(goodBytes);
    // A whole last record without its newline: finish the line so appends start a new one.
    const unterminated = goodBytes > 0 && data[goodBytes - 1] !== NEWLINE;
    if (unterminated) await this.handle.write('\n');
    if (goodBytes < data.length || unterminated) await this.handle.sync();
    state.resetCounters();
    return state;
  }

  /**
   * Appends a record; resolves once it is on disk. Appends that arrive while a
   * write is in flight are batched into the next single write + fsync (group
   * commit), in arrival order.
   */
  append(record: JournalRecord): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.closed || !this.handle) return Promise.reject(new Error('journal is not open'));
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ record, resolve, reject });
      this.flushing ??= this.flush();
    });
  }

  /** Waits for appends in flight, then closes the file. Later appends are refused. */
  async close(): Promise<void> {
    this.closed = true;
    await this.flushing;
    await this.handle?.close();
    this.handle = undefined;
  }

  private async flush(): Promise<void> {
    try {
      while (this.queue.length > 0 && !this.failure) {
        const batch = this.queue;
        this.queue = [];
        try {
          await writeAll(this.handle!, batch.map((p) => JSON.stringify(p.record) + '\n').join(''));
          await this.handle!.sync();
        } catch (err) {
          this.fail(err as Error, batch);
          return;
        }
        for (const pending of batch) {
          this.remember(pending.record);
          this.records++;
          pending.resolve();
        }
        if (this.worthCompacting()) {
          try {
            await this.compact();
          } catch (err) {
            this.fail(err as Error, []);
            return;
          }
        }
      }
    } finally {
      // Cleared in the same tick as the queue was last seen empty (no await in
      // between), so an append made from a resolved caller is never stranded.
      this.flushing = undefined;
    }
  }

  /**
   * After a failed write or fsync the file's state is unknown (the kernel may
   * have dropped the dirty pages), so the journal stops: the process should
   * restart and replay what did reach the disk.
   */
  private fail(err: Error, batch: Pending[]): void {
    this.failure = err;
    for (const pending of [...batch, ...this.queue.splice(0)]) pending.reject(err);
    this.onFailure(err);
  }

  private remember(record: JournalRecord): void {
    switch (record.op) {
      case 'enqueue':
        if (!this.acked.has(record.order.orderId)) this.live.set(record.order.orderId, record.order);
        break;
      case 'ack':
        for (const id of record.ids) {
          if (this.live.delete(id)) this.ackedSinceCompaction++;
          this.acked.add(id);
        }
        break;
      case 'term':
        this.term = Math.max(this.term, record.term);
        break;
    }
  }

  private worthCompacting(): boolean {
    const dead = this.records - this.live.size;
    return this.ackedSinceCompaction > this.compactAfterAcks && dead * 2 > this.records;
  }

  /**
   * Rewrites the file as the live orders, the term and the remembered acked ids
   * (so a duplicate enqueue is still recognised after a restart): write a temp
   * file, fsync it, rename it over the journal, fsync the directory so the
   * rename itself is durable. A crash at any point leaves one whole journal.
   */
  private async compact(): Promise<void> {
    const records: JournalRecord[] = [];
    if (this.term > 0) records.push({ op: 'term', term: this.term });
    const ackedIds = [...this.acked.values()];
    for (let i = 0; i < ackedIds.length; i += ACK_IDS_PER_LINE) {
      records.push({ op: 'ack', ids: ackedIds.slice(i, i + ACK_IDS_PER_LINE) });
    }
    for (const order of this.live.values()) records.push({ op: 'enqueue', order });

    const tmp = `${this.file}.tmp`;
    const out = await fs.promises.open(tmp, 'w');
    try {
      await writeAll(out, records.map((r) => JSON.stringify(r) + '\n').join(''));
      await out.sync();
    } finally {
      await out.close();
    }
    await fs.promises.rename(tmp, this.file);
    await syncDir(this.dir);
    await this.handle!.close();
    this.handle = await fs.promises.open(this.file, 'a');
    this.records = records.length;
    this.ackedSinceCompaction = 0;
  }
}

const NEWLINE = 0x0a;

/** The file's lines with the byte offset each one ends at (after its newline, if any). */
function splitLines(data: Buffer): { text: string; end: number }[] {
  const lines: { text: string; end: number }[] = [];
  let start = 0;
  while (start < data.length) {
    const newline = data.indexOf(NEWLINE, start);
    const end = newline === -1 ? data.length : newline + 1;
    lines.push({ text: data.subarray(start, newline === -1 ? end : newline).toString('utf8'), end });
    start = end;
  }
  return lines;
}

function parseRecord(line: string): JournalRecord {
  const value = JSON.parse(line) as JournalRecord;
  const ok =
    (value?.op === 'enqueue' && typeof value.order?.orderId === 'string') ||
    (value?.op === 'ack' && Array.isArray(value.ids)) ||
    (value?.op === 'term' && typeof value.term === 'number');
  if (!ok) throw new Error('unknown record shape');
  return value;
}

function replay(state: OrderQueueState, record: JournalRecord): void {
  switch (record.op) {
    case 'enqueue':
      state.enqueue(record.order, record.order.enqueuedAtMs);
      break;
    case 'ack':
      state.markAcked(record.ids);
      break;
    case 'term':
      if (record.term > state.term) state.observeTerm(record.term);
      break;
  }
}

async function writeAll(handle: fs.promises.FileHandle, text: string): Promise<void> {
  const buffer = Buffer.from(text, 'utf8');
  let offset = 0;
  while (offset < buffer.length) {
    const { bytesWritten } = await handle.write(buffer, offset, buffer.length - offset);
    offset += bytesWritten;
  }
}

/** Makes a directory entry change (create, rename) durable. */
async function syncDir(dir: string): Promise<void> {
  const handle = await fs.promises.open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
