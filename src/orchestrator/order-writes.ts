import type Database from 'better-sqlite3';
import type { CommitRecord } from './commit-view';

/**
 * Every write the order store makes, as transactions over one connection. The orchestrator runs them on a
 * worker thread (order-store-writer.ts), so that a commit's fsync never stalls its event loop; tests and
 * in-memory stores run them inline. Both go through this one definition.
 */

/** One answered order, as a row: id, state, when it was answered, the answer's JSON. */
export type OrderRow = readonly [orderId: string, state: string, answeredAtMs: number, answer: string];

/** Where, when and by whom an order was executed; with a failure when it failed (state 'failed'). */
export interface ExecutionRow {
  executor: string;
  term: number;
  index: number;
  failure?: { code: string; message: string };
  /** The two-phase commit that decided it, if one did. */
  commit?: CommitRecord;
}

/** A write, as the store sends it to whoever runs its transactions. */
export type WriteRequest =
  | { op: 'insert'; rows: readonly OrderRow[] }
  | { op: 'mark'; executions: readonly (readonly [string, ExecutionRow])[] }
  | { op: 'sweep'; answeredBeforeMs: number; limit: number }
  /** Newer news of decided orders' commits (a finished one is final and never replaced). */
  | { op: 'commit'; commits: readonly (readonly [string, CommitRecord])[] };

/** Runs one write request in its own transaction; returns the rows it changed. */
export type WriteRunner = (request: WriteRequest) => number;

export function orderWrites(db: Database.Database): WriteRunner {
  const insert = db.prepare<[string, string, number, string]>(
    'INSERT INTO orders (order_id, state, answered_at_ms, answer) VALUES (?, ?, ?, ?) ON CONFLICT (order_id) DO NOTHING',
  );
  const markExecuted = db.prepare<[string, string, number, number, string | null, string | null, string | null, string]>(
    "UPDATE orders SET state = ?, executor = ?, term = ?, log_index = ?, failure_code = ?, failure_message = ?, commit_json = ? WHERE order_id = ? AND state = 'queued'",
  );
  const updateCommit = db.prepare<[string, string]>(
    `UPDATE orders SET commit_json = ?
      WHERE order_id = ? AND state IN ('executed', 'failed')
        AND (commit_json IS NULL OR json_extract(commit_json, '$.finished') IS NOT 1)`,
  );
  const sweep = db.prepare<[number, number]>(
    'DELETE FROM orders WHERE order_id IN (SELECT order_id FROM orders WHERE answered_at_ms < ? ORDER BY answered_at_ms LIMIT ?)',
  );
  const insertAll = db.transaction((rows: readonly OrderRow[]) => {
    let changed = 0;
    for (const [orderId, state, answeredAtMs, answer] of rows) changed += insert.run(orderId, state, answeredAtMs, answer).changes;
    return changed;
  });
  const markAll = db.transaction((executions: readonly (readonly [string, ExecutionRow])[]) => {
    let changed = 0;
    for (const [orderId, e] of executions) {
      const commit = e.commit ? JSON.stringify(e.commit) : null;
      changed += markExecuted.run(e.failure ? 'failed' : 'executed', e.executor, e.term, e.index, e.failure?.code ?? null, e.failure?.message ?? null, commit, orderId).changes;
    }
    return changed;
  });
  const updateCommits = db.transaction((commits: readonly (readonly [string, CommitRecord])[]) => {
    let changed = 0;
    for (const [orderId, commit] of commits) changed += updateCommit.run(JSON.stringify(commit), orderId).changes;
    return changed;
  });
  return (request) => {
    switch (request.op) {
      case 'insert':
        return insertAll(request.rows);
      case 'mark':
        return markAll(request.executions);
      case 'sweep':
        return sweep.run(request.answeredBeforeMs, request.limit).changes;
      case 'commit':
        return updateCommits(request.commits);
    }
  };
}

/** Messages between the store and its writer thread. */
export type WriterCall = { id: number; request: WriteRequest } | { close: true };
export type WriterReply = { id: number; changed: number } | { id: number; error: string };

/** What the writer thread is started with. */
export interface WriterData {
  file: string;
  synchronous: 'FULL' | 'NORMAL';
}
