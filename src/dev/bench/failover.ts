import { clusterExecutors, coursePageOrder, postCheckout, waitFor, type RunningSystem } from '../harness/system';
import { percentile } from './stats';

export interface FailoverResult {
  kills: number;
  /** SIGKILL of the leader → first order committed and executed by the new leader. */
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** SIGKILL → the new leader announces itself. */
  electionP50Ms: number;
  samples: number[];
}

/**
 * Kills the leader `kills` times under a steady trickle of orders and times how
 * long until the new leader commits and executes an order, read from the
 * executors' own log lines (their timestamps, on this same machine).
 */
export async function measureFailover(system: RunningSystem, kills: number, log: (s: string) => void): Promise<FailoverResult> {
  let running = true;
  const load = (async () => {
    while (running) {
      await postCheckout(system.baseUrl, coursePageOrder()).catch(() => undefined);
      await new Promise((r) => setTimeout(r, 5));
    }
  })();
  const samples: number[] = [];
  const elections: number[] = [];
  try {
    for (let k = 0; k < kills; k++) {
      const leader = await waitFor(
        'a stable cluster: one leader, every executor back',
        async () => {
          const executors = await clusterExecutors(system);
          const leaders = executors.filter((e) => e.role === 'leader');
          return leaders.length === 1 && executors.every((e) => e.role === 'leader' || e.role === 'follower') ? leaders[0] : undefined;
        },
        30_000,
      );
      // Let the restarted node catch up and the leader settle into normal work.
      await new Promise((r) => setTimeout(r, 300));
      const from = system.lines.length;
      const killedAt = Date.now();
      process.kill(system.pids()[leader.id], 'SIGKILL');
      const firstCommit = await waitFor(
        'an order executed by the new leader',
        async () => {
          for (const record of system.records().slice(from)) {
            if (/^Order \S+ executed/.test(record.message) && record.executor === record.leader && Number(record.term) > leader.term) {
              return record;
            }
          }
          return undefined;
        },
        30_000,
      );
      const elected = system
        .records()
        .slice(from)
        .find((r) => /^became leader for term/.test(r.message) && Number(r.term) > leader.term);
      const ms = Date.parse(String(firstCommit.timestamp)) - killedAt;
      samples.push(ms);
      if (elected) elections.push(Date.parse(String(elected.timestamp)) - killedAt);
      log(`  kill ${k + 1}/${kills}: ${leader.id} (term ${leader.term}) → ${firstCommit.executor} committed an order after ${ms} ms`);
    }
  } finally {
    running = false;
    await load;
  }
  return {
    kills,
    p50Ms: percentile(samples, 50),
    p99Ms: percentile(samples, 99),
    maxMs: Math.max(...samples),
    electionP50Ms: percentile(elections, 50),
    samples,
  };
}
