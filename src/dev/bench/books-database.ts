/**
 * The books database's own figures for `npm run bench`, on its three replicas alone (src/dev/harness/
 * books-database.ts): no checkout traffic competes, so the numbers are the database's.
 *
 * - Write throughput: decrements of one copy each, with distinct order ids, by 64 concurrent clients through the
 *   leader-following client; each answered only once it is committed by a majority (fsync on each) and applied.
 * - Failover: the leader SIGKILLed under a trickle of decrements; the time from the kill to the first decrement
 *   answered by another replica (the client finds the new leader by itself). The victim is restarted and caught
 *   up before the next kill.
 */
import { BooksDatabaseClient } from '../../books-database-client/client';
import { startBooksDatabase, type BooksDatabaseCluster } from '../harness/books-database';
import { waitFor } from '../harness/system';
import { percentile } from './stats';

export interface BooksDatabaseBench {
  /** Committed single-copy decrements per second (64 concurrent clients). */
  writesPerSecond: number;
  writes: number;
  failover: { kills: number; p50Ms: number; p99Ms: number; maxMs: number; samples: number[] };
}

const BOOK = 'bk-001';

async function leaderOf(cluster: BooksDatabaseCluster): Promise<{ id: string; term: number; commit: number } | undefined> {
  const statuses = await Promise.all(
    Object.keys(cluster.peers)
      .filter((id) => cluster.isRunning(id))
      .map((id) => cluster.client(id).status({}, { signal: AbortSignal.timeout(500) }).catch(() => undefined)),
  );
  const leaders = statuses.filter((s) => s?.role === 'leader').sort((a, b) => b!.term - a!.term);
  return leaders[0] ? { id: leaders[0].id, term: leaders[0].term, commit: leaders[0].commitIndex } : undefined;
}

/** Every replica running, one leader, everyone applied up to the leader's commit index and seeded. */
async function settled(cluster: BooksDatabaseCluster) {
  return waitFor(
    'a settled books database: one leader, every replica caught up',
    async () => {
      const leader = await leaderOf(cluster);
      if (!leader) return undefined;
      const all = await Promise.all(Object.keys(cluster.peers).map((id) => cluster.client(id).status({}, { signal: AbortSignal.timeout(500) })));
      return all.every((s) => s.seeded && s.appliedIndex >= leader.commit) ? leader : undefined;
    },
    30_000,
  );
}

export async function measureBooksDatabase(kills: number, log: (line: string) => void): Promise<BooksDatabaseBench> {
  const cluster = await startBooksDatabase();
  const client = new BooksDatabaseClient(cluster.peers, { callDeadlineMs: 1000, totalMs: 15_000, traced: false });
  const run = `${process.pid}-${Date.now()}`;
  try {
    await settled(cluster);
    await client.setStock({ bookId: BOOK, stock: 10_000_000 });

    // Write throughput: warm up, then a measured run.
    let n = 0;
    const decrements = async (count: number, concurrency: number) => {
      let next = 0;
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (next < count) {
            next++;
            const answer = await client.decrement({ orderId: `bench-${run}-${n++}`, items: [{ bookId: BOOK, quantity: 1 }] });
            if (answer.outcome !== 'OK') throw new Error(`a bench decrement was refused: ${answer.outcome}`);
          }
        }),
      );
    };
    await decrements(1000, 64);
    const writes = Number(process.env.BENCH_DB_WRITES ?? 5000);
    const start = performance.now();
    await decrements(writes, 64);
    const writesPerSecond = Math.round(writes / ((performance.now() - start) / 1000));
    log(`  ${writes} decrements by 64 clients: ${writesPerSecond}/s`);

    // Failover: a trickle of decrements; after each kill, the first one another replica answers.
    const samples: number[] = [];
    for (let k = 0; k < kills; k++) {
      const leader = await settled(cluster);
      await new Promise((r) => setTimeout(r, 200));
      let answeredBy: { id: string; at: number } | undefined;
      let killedAt = Infinity;
      let trickling = true;
      const trickle = (async () => {
        while (trickling) {
          const answer = await client.decrement({ orderId: `bench-${run}-${n++}`, items: [{ bookId: BOOK, quantity: 1 }] });
          const at = performance.now();
          if (answer.outcome !== 'OK') throw new Error(`a bench decrement was refused: ${answer.outcome}`);
          if (!answeredBy && at > killedAt && client.knownLeader && client.knownLeader !== leader.id) answeredBy = { id: client.knownLeader, at };
          await new Promise((r) => setTimeout(r, 5));
        }
      })();
      await new Promise((r) => setTimeout(r, 100));
      killedAt = performance.now();
      await cluster.kill(leader.id, 'SIGKILL');
      await waitFor('a decrement answered by the new leader', async () => answeredBy, 30_000);
      trickling = false;
      await trickle;
      const ms = Math.round(answeredBy!.at - killedAt);
      samples.push(ms);
      log(`  kill ${k + 1}/${kills}: ${leader.id} (term ${leader.term}) → ${answeredBy!.id} answered a decrement after ${ms} ms`);
      cluster.start(leader.id);
    }
    return {
      writesPerSecond,
      writes,
      failover: { kills, p50Ms: percentile(samples, 50), p99Ms: percentile(samples, 99), maxMs: Math.max(...samples), samples },
    };
  } finally {
    client.close();
    await cluster.stop();
  }
}

/** `npm run bench:books`: this step alone (BENCH_DB_KILLS kills, default 20), printed, not written. */
async function main(): Promise<void> {
  const kills = Number(process.env.BENCH_DB_KILLS ?? 20);
  const log = (s: string) => process.stdout.write(`${s}\n`);
  const result = await measureBooksDatabase(kills, log);
  const f = result.failover;
  log(`books database: ${result.writesPerSecond} decrements/s; failover (kill → first decrement answered) p50 / p99 / max ${f.p50Ms} / ${f.p99Ms} / ${f.maxMs} ms over ${f.kills} kills`);
  process.exit(0);
}

if (require.main === module) {
  main().catch((err: Error) => {
    process.stderr.write(`bench failed: ${err.stack ?? err.message}\n`);
    process.exit(1);
  });
}
