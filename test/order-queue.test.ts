/**
 * The order queue as a real process: its journal survives SIGKILL, leases expire
 * into redeliveries, and the consumer term fence holds across restarts. A last
 * block drives the journal in-process for what a process cannot show (group
 * commit, compaction).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { ClientError, createChannel, createClient, Status, type Channel } from 'nice-grpc';
import { OrderQueueDefinition, type OrderQueueClient, type QueuedOrder } from '../src/gen/causeway/v1/order_queue';
import { Journal, JOURNAL_FILE, type JournalRecord } from '../src/order-queue/journal';
import { MAX_ORDERS_PER_BATCH } from '../src/order-queue/service';
import { RecordLog } from '../src/storage';
import { encodeFrame } from '../src/storage/frames';
import { freePort, requireBuild, ROOT, waitFor, type LogRecord } from './support/system';

const MAIN = path.join(ROOT, 'dist', 'order-queue', 'main.js');
const PRELOAD = path.join(ROOT, 'dist', 'platform', 'telemetry', 'preload.js');

interface QueueProcess {
  client: OrderQueueClient;
  lines: string[];
  records(): LogRecord[];
  kill(signal: NodeJS.Signals): Promise<void>;
}

const running: QueueProcess[] = [];

async function startQueue(dataDir: string, port: number): Promise<QueueProcess> {
  requireBuild();
  const child: ChildProcess = spawn(process.execPath, ['-r', PRELOAD, MAIN], {
    env: {
      ...process.env,
      OTEL_SDK_DISABLED: 'true',
      CAUSEWAY_HOST: '127.0.0.1',
      ORDER_QUEUE_PORT: String(port),
      ORDER_QUEUE_DATA_DIR: dataDir,
      LOG_LEVEL: 'debug',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  readline.createInterface({ input: child.stdout! }).on('line', (line) => lines.push(line));
  readline.createInterface({ input: child.stderr! }).on('line', (line) => lines.push(line));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (signal: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    await exited;
  };
  try {
    // Connect only once it listens: a refused first attempt would put the channel into a 1 s reconnect backoff.
    await waitFor('the order queue to listen', async () => {
      if (child.exitCode !== null) throw new Error(`exited with ${child.exitCode}`);
      return lines.some((line) => line.includes('order-queue listening on')) ? true : undefined;
    });
  } catch (err) {
    await stop('SIGKILL');
    throw new Error(`${(err as Error).message}\n--- order-queue output ---\n${lines.join('\n')}`);
  }
  const channel: Channel = createChannel(`127.0.0.1:${port}`);
  const queue: QueueProcess = {
    client: createClient(OrderQueueDefinition, channel),
    lines,
    records: () =>
      lines.flatMap((line) => {
        try {
          return [JSON.parse(line) as LogRecord];
        } catch {
          return [];
        }
      }),
    async kill(signal) {
      channel.close();
      await stop(signal);
    },
  };
  running.push(queue);
  return queue;
}

afterEach(async () => {
  await Promise.all(running.splice(0).map((q) => q.kill('SIGKILL')));
});

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

function freshDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'causeway-order-queue-'));
  dirs.push(dir);
  return dir;
}

const METHODS = ['Standard', 'Express', 'Next-Day'];

function order(orderId: string, shippingMethod = 'Standard'): Partial<QueuedOrder> {
  return {
    orderId,
    shippingMethod,
    items: [{ name: 'The Hobbit', quantity: 2 }],
    customerName: 'Zoë Ångström',
    maskedCard: '**** 1111',
    traceparent: '00-8ab763c5ceb7008161d6ba4b7c801da7-00f067aa0ba902b7-01',
  };
}

async function grpcError(call: Promise<unknown>): Promise<ClientError> {
  try {
    await call;
  } catch (err) {
    if (err instanceof ClientError) return err;
    throw err;
  }
  throw new Error('expected the call to fail');
}

describe('durability across SIGKILL', () => {
  it('keeps every acknowledged enqueue, forgets acked orders, and survives a torn last record', async () => {
    const dir = freshDir();
    const port = await freePort();
    const ids = Array.from({ length: 50 }, (_, i) => `ord_${String(i).padStart(2, '0')}`);

    let queue = await startQueue(dir, port);
    // Concurrent enqueues: group commit batches them, each still answered only after its fsync.
    const answers = await Promise.all(ids.map((id, i) => queue.client.enqueue({ order: order(id, METHODS[i % 3]) })));
    expect(answers.every((a) => !a.duplicate)).toBe(true);
    expect(Math.max(...answers.map((a) => a.depth))).toBe(50);
    await queue.kill('SIGKILL');

    queue = await startQueue(dir, port);
    expect(await queue.client.stats({})).toMatchObject({ depth: 50, ready: 50, leased: 0 });
    const { leases } = await queue.client.dequeue({ consumerId: 'executor-1', term: 1, max: 100, leaseMs: 60_000 });
    expect(leases.map((l) => l.order!.orderId).sort()).toEqual(ids);
    expect(leases.every((l) => l.delivery === 1)).toBe(true);
    // The 16 Next-Day orders first, then the 17 Express ones (enqueued well within 5 s: aging changes nothing).
    expect(leases.map((l) => l.order!.shippingMethod)).toEqual([
      ...Array(16).fill('Next-Day'),
      ...Array(17).fill('Express'),
      ...Array(17).fill('Standard'),
    ]);
    const hobbit = leases.find((l) => l.order!.orderId === 'ord_07')!.order!;
    expect(hobbit).toMatchObject({ ...order('ord_07', 'Express'), items: [{ name: 'The Hobbit', quantity: 2 }] });
    expect(hobbit.enqueuedAtMs).toBeGreaterThan(Date.now() - 60_000);

    const acked = ids.slice(0, 10);
    expect(await queue.client.ack({ consumerId: 'executor-1', term: 1, orderIds: acked })).toEqual({ acked: 10 });
    await queue.kill('SIGKILL');

    // A crash in the middle of a write leaves half a record at the end.
    const journal = path.join(dir, JOURNAL_FILE);
    const intact = fs.readFileSync(journal);
    const torn = encodeFrame(JSON.stringify({ op: 'enqueue', order: order('ord_torn') }));
    fs.appendFileSync(journal, torn.subarray(0, torn.length / 2));

    queue = await startQueue(dir, port);
    expect(await queue.client.stats({})).toMatchObject({ depth: 40, ready: 40, highestTerm: 1 });
    expect(fs.readFileSync(journal)).toEqual(intact);
    expect(queue.records().some((r) => r.level === 'warn' && /torn final record/.test(r.message))).toBe(true);
    const again = await queue.client.dequeue({ consumerId: 'executor-2', term: 1, max: 100 });
    expect(again.leases.map((l) => l.order!.orderId).sort()).toEqual(ids.slice(10));
    // Acked or queued, a known id is a duplicate: nothing changes.
    expect(await queue.client.enqueue({ order: order('ord_03') })).toEqual({ duplicate: true, depth: 40 });
    expect(await queue.client.enqueue({ order: order('ord_42') })).toEqual({ duplicate: true, depth: 40 });
    expect(await queue.client.enqueue({ order: order('ord_after_crash') })).toEqual({ duplicate: false, depth: 41 });
    await queue.kill('SIGKILL');

    // Appends after the cut are not glued to the fragment, so the journal replays whole.
    queue = await startQueue(dir, port);
    expect(await queue.client.stats({})).toMatchObject({ depth: 41, enqueuedTotal: 0 });
  });
});

describe('EnqueueBatch', () => {
  it('makes every order of a batch durable before answering, with a duplicate flag per order', async () => {
    const dir = freshDir();
    const port = await freePort();
    let queue = await startQueue(dir, port);
    expect(await queue.client.enqueue({ order: order('ord_known') })).toEqual({ duplicate: false, depth: 1 });
    const batch = ['ord_b1', 'ord_known', 'ord_b2', 'ord_b1'].map((id) => order(id, 'Express'));
    // A repeated id inside one batch is enqueued once: the second copy waits for the first and is a duplicate.
    expect(await queue.client.enqueueBatch({ orders: batch })).toEqual({ duplicate: [false, true, false, true], depth: 3 });
    await queue.kill('SIGKILL');

    queue = await startQueue(dir, port);
    const { leases } = await queue.client.dequeue({ consumerId: 'executor-1', term: 1, max: 10 });
    expect(leases.map((l) => l.order!.orderId).sort()).toEqual(['ord_b1', 'ord_b2', 'ord_known']);
    await queue.kill('SIGKILL');
  });

  it('refuses a batch as a whole when one order is invalid or the batch is too big', async () => {
    const queue = await startQueue(freshDir(), await freePort());
    const bad = await grpcError(
      queue.client.enqueueBatch({ orders: [order('ord_ok'), { ...order('ord_pan'), maskedCard: '4111111111111111' }] }),
    );
    expect(bad.code).toBe(Status.INVALID_ARGUMENT);
    expect(bad.details).not.toContain('41111');
    const huge = Array.from({ length: MAX_ORDERS_PER_BATCH + 1 }, (_, i) => order(`ord_${i}`));
    expect((await grpcError(queue.client.enqueueBatch({ orders: huge }))).code).toBe(Status.INVALID_ARGUMENT);
    expect(await queue.client.stats({})).toMatchObject({ depth: 0, enqueuedTotal: 0 });
    expect(await queue.client.enqueueBatch({ orders: [] })).toEqual({ duplicate: [], depth: 0 });
  });
});

describe('leases', () => {
  it('redelivers an order whose lease expired unacked, with delivery 2', async () => {
    const queue = await startQueue(freshDir(), await freePort());
    await queue.client.enqueue({ order: order('ord_slow', 'Next-Day') });

    const before = Date.now();
    const first = await queue.client.dequeue({ consumerId: 'executor-1', term: 1, leaseMs: 300 });
    expect(first.leases).toHaveLength(1);
    expect(first.leases[0].delivery).toBe(1);
    expect(first.leases[0].expiresAtMs).toBeGreaterThanOrEqual(before + 300);
    expect(first.leases[0].expiresAtMs).toBeLessThan(Date.now() + 300 + 50);
    // Invisible while leased.
    expect((await queue.client.dequeue({ consumerId: 'executor-2', term: 1 })).leases).toEqual([]);

    // The expiry timer (every 250 ms) makes it ready again without anyone asking.
    await waitFor('the lease to expire', async () => ((await queue.client.stats({})).ready === 1 ? true : undefined), 3000);
    expect(
      queue.records().some((r) => r.order_id === 'ord_slow' && r.level === 'debug' && /expired/.test(r.message)),
    ).toBe(true);

    const second = await queue.client.dequeue({ consumerId: 'executor-2', term: 1, leaseMs: 5000 });
    expect(second.leases.map((l) => [l.order!.orderId, l.delivery])).toEqual([['ord_slow', 2]]);
    expect(await queue.client.ack({ consumerId: 'executor-2', term: 1, orderIds: ['ord_slow'] })).toEqual({ acked: 1 });
    expect(await queue.client.stats({})).toMatchObject({ depth: 0, redeliveredTotal: 1, ackedTotal: 1 });
  });

  it('releases a nacked lease at once', async () => {
    const queue = await startQueue(freshDir(), await freePort());
    await queue.client.enqueue({ order: order('ord_a') });
    await queue.client.dequeue({ consumerId: 'executor-1', term: 1, leaseMs: 60_000 });
    expect(await queue.client.nack({ consumerId: 'executor-2', term: 1, orderIds: ['ord_a'] })).toEqual({ released: 0 });
    expect(await queue.client.nack({ consumerId: 'executor-1', term: 1, orderIds: ['ord_a'] })).toEqual({ released: 1 });
    const { leases } = await queue.client.dequeue({ consumerId: 'executor-2', term: 1 });
    expect(leases.map((l) => [l.order!.orderId, l.delivery])).toEqual([['ord_a', 2]]);
  });
});

describe('term fencing', () => {
  it('refuses a consumer with a stale term, also after a restart', async () => {
    const dir = freshDir();
    const port = await freePort();
    let queue = await startQueue(dir, port);
    await queue.client.enqueue({ order: order('ord_fenced') });
    const leader5 = await queue.client.dequeue({ consumerId: 'leader-5', term: 5, leaseMs: 60_000 });
    expect(leader5.leases).toHaveLength(1);

    const refused = await grpcError(queue.client.dequeue({ consumerId: 'leader-4', term: 4 }));
    expect(refused.code).toBe(Status.FAILED_PRECONDITION);
    expect(refused.details).toContain('term 4');
    expect(refused.details).toContain('term 5');
    const ack = await grpcError(queue.client.ack({ consumerId: 'leader-4', term: 4, orderIds: ['ord_fenced'] }));
    expect(ack.code).toBe(Status.FAILED_PRECONDITION);
    expect(
      queue.records().some((r) => r.level === 'warn' && r.consumer_id === 'leader-4' && r.highest_term === 5),
    ).toBe(true);
    // The deposed leader's ack changed nothing.
    expect(await queue.client.stats({})).toMatchObject({ depth: 1, highestTerm: 5 });
    await queue.kill('SIGKILL');

    queue = await startQueue(dir, port);
    expect(await queue.client.stats({})).toMatchObject({ highestTerm: 5, depth: 1 });
    expect((await grpcError(queue.client.dequeue({ consumerId: 'leader-4', term: 4 }))).code).toBe(
      Status.FAILED_PRECONDITION,
    );
    const leader6 = await queue.client.dequeue({ consumerId: 'leader-6', term: 6 });
    expect(leader6.leases.map((l) => l.order!.orderId)).toEqual(['ord_fenced']);
    expect((await grpcError(queue.client.dequeue({ consumerId: 'leader-5', term: 5 }))).code).toBe(
      Status.FAILED_PRECONDITION,
    );
  });
});

describe('input', () => {
  it('requires an order id and refuses anything that may be a card number', async () => {
    const queue = await startQueue(freshDir(), await freePort());
    expect((await grpcError(queue.client.enqueue({ order: order('') }))).code).toBe(Status.INVALID_ARGUMENT);
    expect((await grpcError(queue.client.enqueue({}))).code).toBe(Status.INVALID_ARGUMENT);
    const pan = await grpcError(queue.client.enqueue({ order: { ...order('ord_pan'), maskedCard: '4111111111111111' } }));
    expect(pan.code).toBe(Status.INVALID_ARGUMENT);
    expect(pan.details).not.toContain('41111');
    expect((await grpcError(queue.client.enqueue({ order: { ...order('ord_5'), maskedCard: '**** 11111' } }))).code).toBe(
      Status.INVALID_ARGUMENT,
    );
    expect((await grpcError(queue.client.dequeue({ term: 1 }))).code).toBe(Status.INVALID_ARGUMENT);
    expect(await queue.client.stats({})).toMatchObject({ depth: 0, enqueuedTotal: 0 });
    expect(queue.lines.join('\n')).not.toContain('41111');
  });
});

describe('journal (in process)', () => {
  /** The records in a closed journal's file, as a restart reads them. */
  async function recordsIn(file: string): Promise<JournalRecord[]> {
    const { log, records } = await RecordLog.open(file, { recovery: '' });
    await log.close();
    return records.map((r) => JSON.parse(r.payload.toString('utf8')));
  }

  it('group-commits concurrent appends into one write + fsync, resolving each after it', async () => {
    const dir = freshDir();
    const journal = new Journal(dir);
    await journal.load();
    const done: number[] = [];
    await Promise.all(
      Array.from({ length: 100 }, (_, i) => journal.append({ op: 'enqueue', order: order(`o${i}`) as QueuedOrder }).then(() => done.push(i))),
    );
    // The first append starts a write at once; the other 99 arrive meanwhile and share the next.
    expect(journal.fsyncs).toBe(2);
    expect(done).toEqual(Array.from({ length: 100 }, (_, i) => i));
    await journal.close();
    expect(await recordsIn(journal.file)).toHaveLength(100);
  });

  it('compacts a mostly dead journal into the live orders, term and acked ids', async () => {
    const dir = freshDir();
    const journal = new Journal(dir, { compactAfterAcks: 10 });
    await journal.load();
    await journal.append({ op: 'term', term: 3 });
    for (let i = 0; i < 30; i++) await journal.append({ op: 'enqueue', order: order(`o${i}`) as QueuedOrder });
    const acked = Array.from({ length: 25 }, (_, i) => `o${i}`);
    await journal.append({ op: 'ack', ids: acked });
    // Compaction is queued right after the ack; this append is written after it.
    await journal.append({ op: 'enqueue', order: order('after') as QueuedOrder });
    // 1 term + 1 ack record + 5 live orders + the new one, instead of 33 records.
    expect(journal.size).toBe(8);
    await journal.close();
    expect((await recordsIn(journal.file))[0]).toEqual({ op: 'term', term: 3 });
    expect(fs.readdirSync(dir)).toEqual([JOURNAL_FILE]);

    const reloaded = new Journal(dir);
    const state = await reloaded.load();
    await reloaded.close();
    expect(reloaded.size).toBe(8);
    expect(state.stats()).toMatchObject({ depth: 6, highestTerm: 3 });
    expect(state.knows('o0')).toBe(true); // remembered as acked: a late duplicate is still caught
    expect(state.enqueue(order('o0') as QueuedOrder, 0).duplicate).toBe(true);
    expect(state.lease('c', 3, 10, 1000, 0).map((l) => l.order!.orderId)).toEqual(['o25', 'o26', 'o27', 'o28', 'o29', 'after']);
  });

  it('loses no append made while a compaction is queued, before or after it', async () => {
    const dir = freshDir();
    const journal = new Journal(dir, { compactAfterAcks: 5 });
    await journal.load();
    for (let i = 0; i < 10; i++) await journal.append({ op: 'enqueue', order: order(`o${i}`) as QueuedOrder });
    // Not awaited one by one: the ack that triggers compaction and the enqueues around it share the queue.
    await Promise.all([
      journal.append({ op: 'enqueue', order: order('before') as QueuedOrder }),
      journal.append({ op: 'ack', ids: Array.from({ length: 8 }, (_, i) => `o${i}`) }),
      journal.append({ op: 'enqueue', order: order('after') as QueuedOrder }),
    ]);
    await journal.close();
    const reloaded = new Journal(dir);
    const state = await reloaded.load();
    await reloaded.close();
    expect(reloaded.size).toBeLessThan(13);
    expect(state.lease('c', 1, 10, 1000, 0).map((l) => l.order!.orderId).sort()).toEqual(['after', 'before', 'o8', 'o9']);
  });

  it('refuses to start on a damaged record followed by intact ones, saying what it means for the queue', async () => {
    const dir = freshDir();
    const journal = new Journal(dir);
    await journal.load();
    for (const id of ['o1', 'o2', 'o3']) await journal.append({ op: 'enqueue', order: order(id) as QueuedOrder });
    await journal.close();
    const data = fs.readFileSync(journal.file);
    data[data.indexOf('"o2"') + 2] = '9'.charCodeAt(0);
    fs.writeFileSync(journal.file, data);
    await expect(new Journal(dir).load()).rejects.toThrow(
      new RegExp(`^${journal.file}: a record fails its checksum with intact records after it at byte \\d+; refusing to start\\. The order queue's journal is corrupt; stop the queue, move ${dir} aside`),
    );
  });
});
