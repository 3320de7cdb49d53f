/**
 * Causeway's durable storage, one module for every durable thing: checksummed
 * record logs with group commit and torn-tail repair, and snapshot files
 * replaced by rename. The order queue's journal and each executor's Raft log
 * are built on it.
 */
export { CorruptFileError } from './corrupt-file-error';
export type { Payload, StoredRecord } from './frames';
export { RecordLog, type AppendOptions, type OpenedLog, type RecordLogOptions } from './record-log';
export { readSnapshotFile, writeSnapshotFile } from './snapshot-file';
