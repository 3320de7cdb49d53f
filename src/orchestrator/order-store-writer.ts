/**
 * The order store's writer thread: owns the write connection to orders.db and runs each write the store sends
 * (order-writes.ts) in its own transaction, fsync included, then answers. The main thread only reads.
 */
import Database from 'better-sqlite3';
import { parentPort, workerData } from 'node:worker_threads';
import { orderWrites, type WriterCall, type WriterData, type WriterReply } from './order-writes';

const { file, synchronous } = workerData as WriterData;
const db = new Database(file);
db.pragma('journal_mode = WAL');
db.pragma(`synchronous = ${synchronous}`);
const run = orderWrites(db);

parentPort!.on('message', (call: WriterCall) => {
  if ('close' in call) {
    // Every write sent before this one has been answered: close the database and let the thread end.
    db.close();
    parentPort!.close();
    return;
  }
  let reply: WriterReply;
  try {
    reply = { id: call.id, changed: run(call.request) };
  } catch (err) {
    reply = { id: call.id, error: (err as Error).message };
  }
  parentPort!.postMessage(reply);
});
