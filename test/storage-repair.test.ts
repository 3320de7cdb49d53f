/**
 * Torn writes, repaired for real: with the system down, the last record of an
 * executor's Raft log and of the queue journal is torn, as a crash mid-write
 * leaves it. The system restarts cleanly (the torn bytes cut off, with a
 * warning), takes orders, restarts cleanly again, and every replica agrees on
 * every execution. Before the storage module, the next append was glued to the
 * fragment and the second restart refused to start.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createChannel, createClient } from 'nice-grpc';
import { OrderExecutorDefinition, type Execution } from '../src/gen/causeway/v1/order_executor';
import { RAFT_LOG_FILE } from '../src/platform/raft-host/storage';
import { JOURNAL_FILE } from '../src/order-queue/journal';
import { encodeFrame } from '../src/storage/frames';
import { settledLedgers } from './support/ledgers';
import { coursePageOrder, postCheckout, startSystem, type RunningSystem } from './support/system';

const ENV = { FRAUD_CONTACT_VELOCITY_LIMIT: '1000000', FRAUD_CARD_VELOCITY_LIMIT: '1000000', CAUSEWAY_RESTART_DELAY_MS: '300' };

let dataDir: string;
let system: RunningSystem | undefined;
beforeAll(() => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'causeway-repair-'));
});
afterAll(async () => {
  await system?.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

async function restart(): Promise<RunningSystem> {
  await system?.stop();
  system = await startSystem(ENV, { dataDir });
  return system;
}

/** Appends the first part of a record's frame: what a crash in the middle of its write leaves. */
function tearTail(file: string, record: unknown): number {
  const frame = encodeFrame(JSON.stringify(record));
  const torn = frame.subarray(0, frame.length - 7);
  fs.appendFileSync(file, torn);
  return torn.length;
}

async function placeOrders(running: RunningSystem, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const { body } = await postCheckout(running.baseUrl, coursePageOrder());
    expect(body.status).toBe('Order Approved');
    ids.push(body.orderId);
  }
  return ids;
}

/** Every executor's executions once each has executed every order in `ids` and finished its commit. */
function executionsEverywhere(running: RunningSystem, ids: string[]): Promise<Record<string, Execution[]>> {
  const clients = Object.fromEntries(Object.entries(running.executors).map(([id, address]) => [id, createClient(OrderExecutorDefinition, createChannel(address))]));
  return settledLedgers(clients, ids, 30000);
}

function expectAgreement(ledgers: Record<string, Execution[]>, ids: string[]): void {
  const byOrder = (list: Execution[]) => Object.fromEntries(list.map((e) => [e.orderId, e]));
  const reference = byOrder(ledgers['executor-1']);
  expect(Object.keys(reference).sort()).toEqual([...ids].sort());
  for (const list of Object.values(ledgers)) expect(byOrder(list)).toEqual(reference);
}

const repairWarnings = (running: RunningSystem) =>
  running.records().filter((r) => r.level === 'warn' && /bytes of a torn final record/.test(r.message));

describe('a torn tail written while the system is down', () => {
  it('is cut on restart; the system takes orders, restarts cleanly again, and all replicas agree', async () => {
    const placed = await placeOrders(await restart(), 3);
    await executionsEverywhere(system!, placed);
    await system!.stop();
    system = undefined;

    const raftLog = path.join(dataDir, 'order-executor', 'executor-2', RAFT_LOG_FILE);
    const tornRaft = tearTail(raftLog, { hs: { term: 99, vote: 'executor-2', commit: 0 } });
    const tornJournal = tearTail(path.join(dataDir, 'order-queue', JOURNAL_FILE), { op: 'ack', ids: ['ord_torn'] });

    const repaired = await restart();
    const warnings = repairWarnings(repaired);
    expect(warnings).toHaveLength(2);
    expect(warnings).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ service: 'order-executor', executor: 'executor-2', message: `cut ${tornRaft} bytes of a torn final record off the raft log` }),
        expect.objectContaining({ service: 'order-queue', message: `cut ${tornJournal} bytes of a torn final record off the journal` }),
      ]),
    );
    expect(repaired.lines.join('\n')).not.toMatch(/failed to start|CorruptFileError/);
    // Written after the repair: with the fragment still there, these would be glued to it.
    placed.push(...(await placeOrders(repaired, 3)));
    await executionsEverywhere(repaired, placed);

    const again = await restart();
    expect(repairWarnings(again)).toEqual([]);
    placed.push(...(await placeOrders(again, 2)));
    expectAgreement(await executionsEverywhere(again, placed), placed);
    expect(again.lines.join('\n')).not.toMatch(/failed to start|CorruptFileError/);
  });
});
