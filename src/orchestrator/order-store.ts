import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import { systemTime, type TimeSource } from '../platform/time';
import type { CheckoutResult } from './api-types';

/**
 * Every order the HTTP API answered, in SQLite, so GET /orders/:id keeps
 * working across restarts: the answer as it was sent (events, clocks, trace
 * id, suggestions or rejection) and the order's state, `rejected` or `queued`
 * → `executed` once the executor cluster has run it.
 *
 * Durability: WAL with synchronous=FULL, so a commit is fsynced before it
 * returns and an answered order survives power loss, not only a process crash
 * (the queue makes the same promise for the order itself). Orders answered in
 * the same event-loop turn share one transaction, hence one fsync.
 */

export const ORDERS_DB = 'orders.db';

/** Injection token for the orchestrator's OrderStore. */
export const ORDER_STORE = Symbol('OrderStore');

type Failure = NonNullable<CheckoutResult['failure']>;

/** Where an order was decided, and why it failed if it did. */
export type Execution = NonNullable<CheckoutResult['execution']> & { failure?: Failure };

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
];

export const SCHEMA_VERSION = MIGRATIONS.length;

export interface OrderStoreOptions {
  /** Orders answered longer ago than this are deleted by `sweep`. */
  retentionMs: number;
  time?: TimeSource;
  /** FULL (the default) fsyncs every commit; NORMAL only reaches the OS (kept for measuring the difference). */
  synchronous?: 'FULL' | 'NORMAL';
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
}

interface Pending {
  result: CheckoutResult;
  answeredAtMs: number;
  resolve(): void;
  reject(err: unknown): void;
}

export class OrderStore {
  private pending: Pending[] = [];
  private readonly statements: ReturnType<typeof prepare>;
  private readonly insertBatch: (batch: readonly Pending[]) => void;
  private readonly markBatch: (executions: readonly (readonly [string, Execution])[]) => number;

  private constructor(
    private readonly db: Database.Database,
    private readonly options: Required<OrderStoreOptions>,
  ) {
    this.statements = prepare(db);
    this.insertBatch = db.transaction((batch: readonly Pending[]) => {
      for (const { result, answeredAtMs } of batch) {
        this.statements.insert.run(result.orderId, result.state, answeredAtMs, JSON.stringify(result));
      }
    });
    this.markBatch = db.transaction((executions: readonly (readonly [string, Execution])[]) => {
      let changed = 0;
      for (const [orderId, e] of executions) {
        changed += this.statements.markExecuted.run(e.failure ? 'failed' : 'executed', e.executor, e.term, e.index, e.failure?.code ?? null, e.failure?.message ?? null, orderId).changes;
      }
      return changed;
    });
  }

  /** Opens (creating and migrating as needed) `<dir>/orders.db`; `':memory:'` for a throwaway store. */
  static open(dir: string, options: OrderStoreOptions): OrderStore {
    const file = dir === ':memory:' ? dir : path.join(dir, ORDERS_DB);
    if (file !== ':memory:') fs.mkdirSync(dir, { recursive: true });
    const db = new Database(file);
    try {
      db.pragma('journal_mode = WAL');
      db.pragma(`synchronous = ${options.synchronous ?? 'FULL'}`);
      migrate(db, file);
    } catch (err) {
      db.close();
      throw err;
    }
    return new OrderStore(db, { time: systemTime, synchronous: 'FULL', ...options });
  }

  /**
   * Records an answered order; resolves once it is durable. Orders put in the same event-loop turn are
   * committed together. Putting an order id again changes nothing.
   */
  put(result: CheckoutResult): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pending.push({ result, answeredAtMs: this.options.time.now(), resolve, reject });
      if (this.pending.length === 1) setImmediate(() => this.flush());
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
    return result;
  }

  /** Marks queued orders executed (or failed, with a failure), in one transaction; returns how many changed (others were not queued). */
  markExecuted(executions: Iterable<readonly [string, Execution]>): number {
    const list = [...executions];
    return list.length === 0 ? 0 : this.markBatch(list);
  }

  /** Up to `limit` queued orders, oldest first, after `cursor` (from the oldest without one). */
  queued(limit: number, cursor?: QueuedCursor): QueuedCursor[] {
    return this.statements.queued
      .all(cursor?.answeredAtMs ?? -1, cursor?.orderId ?? '', limit)
      .map((r) => ({ orderId: r.order_id, answeredAtMs: r.answered_at_ms }));
  }

  /** Deletes up to `limit` orders older than the retention, oldest first; returns how many. */
  sweep(limit = 1000): number {
    return this.statements.sweep.run(this.options.time.now() - this.options.retentionMs, limit).changes;
  }

  /** Commits what is pending, then closes the database. */
  close(): void {
    if (this.pending.length > 0) this.flush();
    this.db.close();
  }

  private flush(): void {
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0) return;
    try {
      this.insertBatch(batch);
    } catch (err) {
      for (const p of batch) p.reject(err);
      return;
    }
    for (const p of batch) p.resolve();
  }
}

function prepare(db: Database.Database) {
  return {
    insert: db.prepare<[string, string, number, string]>(
      'INSERT INTO orders (order_id, state, answered_at_ms, answer) VALUES (?, ?, ?, ?) ON CONFLICT (order_id) DO NOTHING',
    ),
    get: db.prepare<[string], Row>('SELECT state, answer, executor, term, log_index, failure_code, failure_message FROM orders WHERE order_id = ?'),
    markExecuted: db.prepare<[string, string, number, number, string | null, string | null, string]>(
      "UPDATE orders SET state = ?, executor = ?, term = ?, log_index = ?, failure_code = ?, failure_message = ? WHERE order_id = ? AND state = 'queued'",
    ),
    queued: db.prepare<[number, string, number], { order_id: string; answered_at_ms: number }>(
      `SELECT order_id, answered_at_ms FROM orders
        WHERE state = 'queued' AND (answered_at_ms, order_id) > (?, ?)
        ORDER BY answered_at_ms, order_id LIMIT ?`,
    ),
    sweep: db.prepare<[number, number]>(
      'DELETE FROM orders WHERE order_id IN (SELECT order_id FROM orders WHERE answered_at_ms < ? ORDER BY answered_at_ms LIMIT ?)',
    ),
  };
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
