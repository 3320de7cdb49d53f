import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { systemTime, type TimeSource } from '../platform/time';
import type { CheckoutResult } from './api-types';
import { commitView, paymentView, type CommitRecord } from './commit-view';
import { orderWrites, type WriteRequest, type WriteRunner, type WriterCall, type WriterData, type WriterReply } from './order-writes';

/**
 * Every order the HTTP API answered, in SQLite, so GET /orders/:id keeps
 * working across restarts: the answer as it was sent (events, clocks, trace
 * id, suggestions or rejection) and the order's state, `rejected` or `queued`
 * → `executed` once the executor cluster has run it.
 *
 * Durability: WAL with synchronous=FULL, so a commit is fsynced before it
 * returns and an answered order survives power loss, not only a process crash
 * (the queue makes the same promise for the order itself). Orders answered
 * while a commit is under way share the next transaction, hence one fsync. In
 * the orchestrator the commits run on a writer thread (order-store-writer.ts):
 * an fsync takes milliseconds, and on the event loop it would hold up every
 * checkout in flight, not only the ones waiting for it.
 */

export const ORDERS_DB = 'orders.db';

/** Injection token for the orchestrator's OrderStore. */
export const ORDER_STORE = Symbol('OrderStore');

type Failure = NonNullable<CheckoutResult['failure']>;

/** Where an order was decided, why it failed if it did, and the two-phase commit that decided it (if one did). */
export type Execution = NonNullable<CheckoutResult['execution']> & { failure?: Failure; commit?: CommitRecord };

/**
 * The schema's history: MIGRATIONS[v] takes a database at `PRAGMA user_version` v to v + 1. Append, never
 * edit: a database already migrated never runs a step again.
 */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE orders (
     order_id       TEXT PRIMARY KEY,
     state          TEXT NOT NULL CHECK (state IN ('rejected', 'queued', 'executed')),
     answered_at_ms INTEGER NOT NULL,
     answer         TEXT NOT NULL, -- the HTTP answer's JSON, as it was sent
     executor       TEXT,          -- where it was executed: the proposing leader, its term, the log index
     term           INTEGER,
     log_index      INTEGER
   ) STRICT;
   CREATE INDEX orders_by_age ON orders (answered_at_ms);
   CREATE INDEX queued_by_age ON orders (answered_at_ms, order_id) WHERE state = 'queued';`,
  // v1 → v2: an order the executors decided but could not execute (out of stock, unknown book) is 'failed', with
  // why. SQLite cannot change a CHECK constraint in place: the table is rebuilt (its indexes go with it).
  `CREATE TABLE orders_v2 (
     order_id        TEXT PRIMARY KEY,
     state           TEXT NOT NULL CHECK (state IN ('rejected', 'queued', 'executed', 'failed')),
     answered_at_ms  INTEGER NOT NULL,
     answer          TEXT NOT NULL,
     executor        TEXT,
     term            INTEGER,
     log_index       INTEGER,
     failure_code    TEXT,          -- 'failed' only: OUT_OF_STOCK or UNKNOWN_BOOK
     failure_message TEXT
   ) STRICT;
   INSERT INTO orders_v2 (order_id, state, answered_at_ms, answer, executor, term, log_index)
     SELECT order_id, state, answered_at_ms, answer, executor, term, log_index FROM orders;
   DROP TABLE orders;
   ALTER TABLE orders_v2 RENAME TO orders;
   CREATE INDEX orders_by_age ON orders (answered_at_ms);
   CREATE INDEX queued_by_age ON orders (answered_at_ms, order_id) WHERE state = 'queued';`,
  // v2 → v3 (issue 14): the two-phase commit that decided an executed or failed order, as the executors' ledger
  // records it (commit-view.ts CommitRecord as JSON: decision, participants, times, amount); NULL for an order
  // decided without one. Updated while it is not finished (its participants' states still votes).
  `ALTER TABLE orders ADD COLUMN commit_json TEXT;`,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

export interface OrderStoreOptions {
  /** Orders answered longer ago than this are deleted by `sweep`. */
  retentionMs: number;
  time?: TimeSource;
  /** FULL (the default) fsyncs every commit; NORMAL only reaches the OS (kept for measuring the difference). */
  synchronous?: 'FULL' | 'NORMAL';
  /** Where writes run (see WriterMode); inline unless told. An in-memory store always writes inline. */
  writer?: WriterMode;
  /** The writer thread died: the store can no longer record orders. Throws by default; the service stops. */
  onFatal?: (err: Error) => void;
}

/** A queued order's place in the age order, for paging through them. */
export interface QueuedCursor {
  answeredAtMs: number;
  orderId: string;
}

interface Row {
  state: CheckoutResult['state'];
  answer: string;
  executor: string | null;
  term: number | null;
  log_index: number | null;
  failure_code: string | null;
  failure_message: string | null;
  commit_json: string | null;
}

interface Pending {
  result: CheckoutResult;
  answeredAtMs: number;
  resolve(): void;
  reject(err: unknown): void;
}

/**
 * Where the store's writes run. `inline`: on the caller's thread (tests, in-memory stores). `worker`: on a writer
 * thread with its own connection, so a commit's fsync never blocks the event loop; the value is the compiled
 * order-store-writer.js to run (WRITER_SCRIPT beside this file once built).
 */
export type WriterMode = 'inline' | { worker: string };

/** The writer thread's script, beside this module in the build. */
export const WRITER_SCRIPT = path.join(__dirname, 'order-store-writer.js');

/** Sends write requests to whoever runs them and resolves with the rows changed. */
interface Writer {
  write(request: WriteRequest): Promise<number>;
  close(): Promise<void>;
}

class InlineWriter implements Writer {
  private readonly run: WriteRunner;

  constructor(db: Database.Database) {
    this.run = orderWrites(db);
  }

  async write(request: WriteRequest): Promise<number> {
    return this.run(request);
  }

  async close(): Promise<void> {}
}

/**
 * The writer thread's end of the store. A thread that dies or answers nonsense leaves the store unable to keep
 * its promise ("answered means recorded"): `onFatal` is told, and the owner stops the process.
 */
class ThreadWriter implements Writer {
  private readonly worker: Worker;
  private readonly calls = new Map<number, { resolve(changed: number): void; reject(err: Error): void }>();
  private nextId = 1;
  private failure: Error | undefined;
  private readonly exited: Promise<void>;

  constructor(script: string, data: WriterData, onFatal: (err: Error) => void) {
    this.worker = new Worker(script, { workerData: data });
    this.worker.on('message', (reply: WriterReply) => {
      const call = this.calls.get(reply.id);
      if (!call) return this.fail(new Error(`the order store's writer answered call ${reply.id}, which was never made`), onFatal);
      this.calls.delete(reply.id);
      if ('error' in reply) call.reject(new Error(reply.error));
      else call.resolve(reply.changed);
    });
    this.worker.on('error', (err) => this.fail(new Error(`the order store's writer thread failed: ${err.message}`), onFatal));
    this.exited = new Promise((resolve) =>
      this.worker.once('exit', (code) => {
        if (this.calls.size > 0 || !this.closing) this.fail(new Error(`the order store's writer thread exited (code ${code})`), onFatal);
        resolve();
      }),
    );
  }

  private closing = false;

  write(request: WriteRequest): Promise<number> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.closing) return Promise.reject(new Error('the order store is closed'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.calls.set(id, { resolve, reject });
      this.worker.postMessage({ id, request } satisfies WriterCall);
    });
  }

  /** Lets the writes already sent finish, then closes the writer's connection and ends the thread. */
  async close(): Promise<void> {
    if (this.closing) return this.exited;
    this.closing = true;
    this.worker.postMessage({ close: true } satisfies WriterCall);
    await this.exited;
  }

  private fail(err: Error, onFatal: (err: Error) => void): void {
    if (this.failure) return;
    this.failure = err;
    for (const call of this.calls.values()) call.reject(err);
    this.calls.clear();
    onFatal(err);
  }
}

export class OrderStore {
  private pending: Pending[] = [];
  /** A batch of puts is with the writer: the next waits (group commit: one fsync for all put meanwhile). */
  private inserting = false;
  private readonly statements: ReturnType<typeof prepare>;

  private constructor(
    private readonly db: Database.Database,
    private readonly writer: Writer,
    private readonly options: Required<Omit<OrderStoreOptions, 'writer' | 'onFatal'>>,
  ) {
    this.statements = prepare(db);
  }

  /** Opens (creating and migrating as needed) `<dir>/orders.db`; `':memory:'` for a throwaway store (inline writes). */
  static open(dir: string, options: OrderStoreOptions): OrderStore {
    const file = dir === ':memory:' ? dir : path.join(dir, ORDERS_DB);
    if (file !== ':memory:') fs.mkdirSync(dir, { recursive: true });
    const synchronous = options.synchronous ?? 'FULL';
    const mode = file === ':memory:' ? 'inline' : (options.writer ?? 'inline');
    const db = new Database(file);
    try {
      db.pragma('journal_mode = WAL');
      db.pragma(`synchronous = ${synchronous}`);
      migrate(db, file);
    } catch (err) {
      db.close();
      throw err;
    }
    const fatal = options.onFatal ?? ((err: Error) => { throw err; });
    const writer = mode === 'inline' ? new InlineWriter(db) : new ThreadWriter(mode.worker, { file, synchronous }, fatal);
    return new OrderStore(db, writer, { time: systemTime, synchronous, retentionMs: options.retentionMs, ...(options.time ? { time: options.time } : {}) });
  }

  /**
   * Records an answered order; resolves once it is durable. Orders put while a commit is under way (or in the
   * same event-loop turn) are committed together. Putting an order id again changes nothing.
   */
  put(result: CheckoutResult): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pending.push({ result, answeredAtMs: this.options.time.now(), resolve, reject });
      if (this.pending.length === 1 && !this.inserting) setImmediate(() => void this.flush());
    });
  }

  /** The order as it was answered, with its current state (and execution, once executed). */
  get(orderId: string): CheckoutResult | undefined {
    const row = this.statements.get.get(orderId);
    if (!row) return undefined;
    const result = JSON.parse(row.answer) as CheckoutResult;
    result.state = row.state;
    if (row.state === 'executed' || row.state === 'failed') result.execution = { executor: row.executor!, term: row.term!, index: row.log_index! };
    if (row.state === 'failed') result.failure = { code: row.failure_code as Failure['code'], message: row.failure_message ?? '' };
    if (row.commit_json !== null && (row.state === 'executed' || row.state === 'failed')) withCommit(result, JSON.parse(row.commit_json) as CommitRecord);
    return result;
  }

  /** The stored two-phase commit of an executed or failed order (undefined: none, or not decided yet). */
  commitOf(orderId: string): CommitRecord | undefined {
    const row = this.statements.commit.get(orderId);
    return row?.commit_json ? (JSON.parse(row.commit_json) as CommitRecord) : undefined;
  }

  /**
   * Records what the executors now say of decided orders' commits (their participants' final states, once
   * finished). A finished commit is never replaced; resolves with how many changed.
   */
  async updateCommits(commits: Iterable<readonly [string, CommitRecord]>): Promise<number> {
    const list = [...commits];
    return list.length === 0 ? 0 : this.writer.write({ op: 'commit', commits: list });
  }

  /** Marks queued orders executed (or failed, with a failure), in one transaction; resolves with how many changed (others were not queued). */
  async markExecuted(executions: Iterable<readonly [string, Execution]>): Promise<number> {
    const list = [...executions];
    return list.length === 0 ? 0 : this.writer.write({ op: 'mark', executions: list });
  }

  /** Up to `limit` queued orders, oldest first, after `cursor` (from the oldest without one). */
  queued(limit: number, cursor?: QueuedCursor): QueuedCursor[] {
    return this.statements.queued
      .all(cursor?.answeredAtMs ?? -1, cursor?.orderId ?? '', limit)
      .map((r) => ({ orderId: r.order_id, answeredAtMs: r.answered_at_ms }));
  }

  /** Deletes up to `limit` orders older than the retention, oldest first; resolves with how many. */
  sweep(limit = 1000): Promise<number> {
    return this.writer.write({ op: 'sweep', answeredBeforeMs: this.options.time.now() - this.options.retentionMs, limit });
  }

  /** Commits what is pending, then closes the writer and the database. */
  async close(): Promise<void> {
    while (this.inserting || this.pending.length > 0) await this.flush();
    await this.writer.close();
    this.db.close();
  }

  private flushing: Promise<void> | undefined;

  /** Sends the pending puts as one insert; when it is durable, resolves them and sends what came meanwhile. */
  private flush(): Promise<void> {
    if (this.flushing) return this.flushing;
    this.flushing = (async () => {
      while (this.pending.length > 0) {
        const batch = this.pending;
        this.pending = [];
        this.inserting = true;
        try {
          const rows = batch.map(({ result, answeredAtMs }) => [result.orderId, result.state, answeredAtMs, JSON.stringify(result)] as const);
          await this.writer.write({ op: 'insert', rows });
          for (const p of batch) p.resolve();
        } catch (err) {
          for (const p of batch) p.reject(err);
        } finally {
          this.inserting = false;
        }
      }
    })().finally(() => (this.flushing = undefined));
    return this.flushing;
  }
}

function prepare(db: Database.Database) {
  return {
    get: db.prepare<[string], Row>('SELECT state, answer, executor, term, log_index, failure_code, failure_message, commit_json FROM orders WHERE order_id = ?'),
    commit: db.prepare<[string], { commit_json: string | null }>("SELECT commit_json FROM orders WHERE order_id = ? AND state IN ('executed', 'failed')"),
    queued: db.prepare<[number, string, number], { order_id: string; answered_at_ms: number }>(
      `SELECT order_id, answered_at_ms FROM orders
        WHERE state = 'queued' AND (answered_at_ms, order_id) > (?, ?)
        ORDER BY answered_at_ms, order_id LIMIT ?`,
    ),
  };
}

/** Adds an order's two-phase commit and payment to its answer, as GET /orders/:id shows them. */
export function withCommit(result: CheckoutResult, record: CommitRecord): CheckoutResult {
  result.commit = commitView(record);
  const payment = paymentView(record);
  if (payment) result.payment = payment;
  else delete result.payment;
  return result;
}

function migrate(db: Database.Database, file: string): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > SCHEMA_VERSION) {
    throw new Error(
      `${file} has schema version ${version}, newer than this orchestrator's ${SCHEMA_VERSION}: run the newer build, or move the file away to start empty`,
    );
  }
  for (let v = version; v < SCHEMA_VERSION; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v]);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
}
