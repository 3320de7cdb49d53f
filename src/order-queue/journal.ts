import path from 'node:path';
import type { QueuedOrder } from '../gen/causeway/v1/order_queue';
import { CorruptFileError, RecordLog } from '../storage';
import { DEFAULT_ACKED_MEMORY, OrderQueueState, RecentIds } from './queue-state';

/**
 * The queue's durability: a record log (src/storage) of JSON records.
 * Replaying it rebuilds every order not yet acked and the highest term. Leases
 * are not journaled: after a restart every unacked order is ready again, and
 * consumers, being idempotent, tolerate the redelivery.
 *
 * The file replaced `journal.jsonl` (JSON lines, no checksums); an old file is
 * ignored, not migrated: Causeway is pre-1.0 and its data directories are
 * disposable between versions.
 */

export type JournalRecord =
  | { op: 'enqueue'; order: QueuedOrder }
  | { op: 'ack'; ids: string[] }
  | { op: 'term'; term: number };

export const JOURNAL_FILE = 'journal.log';

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

/** What a corrupt journal means for the queue, and what to do about it. */
export const journalRecovery = (dir: string): string =>
  `The order queue's journal is corrupt; stop the queue, move ${dir} aside and restart it: it starts empty. ` +
  `Orders already executed are safe in the executors' Raft logs; orders still waiting in the queue are lost, ` +
  `except as the intact records before the bad one in the moved file.`;

/** Ack ids per record when compaction rewrites the remembered acks, so no record grows huge. */
const ACK_IDS_PER_RECORD = 1000;

export class Journal {
  readonly file: string;
  private log: RecordLog | undefined;
  private readonly compactAfterAcks: number;
  private readonly ackedMemory: number;
  private readonly onFailure: (err: Error) => void;

  // What the file holds once every append made so far is written, kept apart
  // from the queue state. A compaction rewrites exactly this, and the log runs
  // it after the appends made before it: so it never loses one, nor makes
  // durable an order whose own append has not been written first.
  private readonly live = new Map<string, QueuedOrder>();
  private readonly acked: RecentIds;
  private term = 0;
  private records = 0;
  private ackedSinceCompaction = 0;

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

  /** How many records the file holds, counting appends still being written. */
  get size(): number {
    return this.records;
  }

  /** fsyncs so far: with group commit, fewer than the appends. */
  get fsyncs(): number {
    return this.log?.fsyncs ?? 0;
  }

  /**
   * Opens the journal (creating the directory and file if needed) and replays it
   * into a fresh queue state. A torn final record, from a crash in the middle of
   * a write, is cut off: its append was never acknowledged. Damage followed by
   * intact records throws CorruptFileError.
   */
  async load(): Promise<OrderQueueState> {
    if (this.log) throw new Error('journal already loaded');
    const recovery = journalRecovery(this.dir);
    const { log, records, repairedBytes } = await RecordLog.open(this.file, { recovery, onFailure: this.onFailure });
    const state = new OrderQueueState(this.ackedMemory);
    try {
      for (const { offset, payload } of records) {
        const record = parseRecord(payload);
        if (!record) throw new CorruptFileError(this.file, offset, 'a record that is not a journal record', recovery);
        replay(state, record);
        this.remember(record);
      }
    } catch (err) {
      await log.close();
      throw err;
    }
    this.log = log;
    this.truncatedBytes = repairedBytes;
    state.resetCounters();
    return state;
  }

  /**
   * Appends a record; resolves once it is on disk. Appends that arrive while a
   * write is in flight are batched into the next single write + fsync (group
   * commit), in arrival order.
   */
  append(record: JournalRecord): Promise<void> {
    if (!this.log) return Promise.reject(new Error('journal is not open'));
    const written = this.log.append(JSON.stringify(record));
    this.remember(record);
    if (this.worthCompacting()) this.compact();
    return written;
  }

  /** Waits for appends in flight, then closes the file. Later appends are refused. */
  async close(): Promise<void> {
    await this.log?.close();
  }

  private remember(record: JournalRecord): void {
    this.records++;
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
   * (so a duplicate enqueue is still recognised after a restart). The log does
   * it crash-safely: a crash at any point leaves one whole journal. A failure
   * reaches onFailure, like a failed append.
   */
  private compact(): void {
    const records: JournalRecord[] = [];
    if (this.term > 0) records.push({ op: 'term', term: this.term });
    const ackedIds = [...this.acked.values()];
    for (let i = 0; i < ackedIds.length; i += ACK_IDS_PER_RECORD) {
      records.push({ op: 'ack', ids: ackedIds.slice(i, i + ACK_IDS_PER_RECORD) });
    }
    for (const order of this.live.values()) records.push({ op: 'enqueue', order });
    this.log!.rewrite(records.map((r) => JSON.stringify(r))).catch(() => undefined);
    this.records = records.length;
    this.ackedSinceCompaction = 0;
  }
}

function parseRecord(payload: Buffer): JournalRecord | undefined {
  try {
    const value = JSON.parse(payload.toString('utf8')) as JournalRecord;
    const ok =
      (value?.op === 'enqueue' && typeof value.order?.orderId === 'string') ||
      (value?.op === 'ack' && Array.isArray(value.ids)) ||
      (value?.op === 'term' && typeof value.term === 'number');
    return ok ? value : undefined;
  } catch {
    return undefined;
  }
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
