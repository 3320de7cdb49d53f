import type { Logger } from '../platform/logger';
import type { ClusterSnapshot } from './api-types';

export interface KilledLeader {
  killed: string;
  term: number;
}

/**
 * The web app's "kill the leader" button. A port: the HTTP API only asks for it, and the composition root
 * provides one where killing is possible (local mode) and none elsewhere.
 */
export interface LeaderKiller {
  /** `executors` (the default) or the `booksDatabase` replicas. */
  killLeader(cluster?: KillTarget): Promise<KilledLeader>;
}

/** Which Raft cluster's leader to kill: the keys of ClusterSnapshot that list one. */
export type KillTarget = 'executors' | 'booksDatabase';

/**
 * Local mode: the executors and the books database's replicas are processes on this machine and their supervisor
 * (`npm start`) publishes their pids, each under its id (`pidOf` reads them, see src/platform/process-table.ts). The leader is
 * SIGKILLed, a crash, not a shutdown; the supervisor restarts it.
 */
export class LocalLeaderKiller implements LeaderKiller {
  constructor(
    private readonly cluster: { snapshot(): Promise<ClusterSnapshot> },
    private readonly pidOf: (executorId: string) => number | undefined,
    private readonly logger: Logger,
    private readonly kill: (pid: number) => void = (pid) => process.kill(pid, 'SIGKILL'),
  ) {}

  async killLeader(target: KillTarget = 'executors'): Promise<KilledLeader> {
    const snapshot = await this.cluster.snapshot();
    const leader = snapshot[target].find((e) => e.role === 'leader');
    if (!leader) throw new Error('there is no leader right now (an election may be under way)');
    const pid = this.pidOf(leader.id);
    if (!pid) throw new Error(`no process id known for ${leader.id}`);
    this.kill(pid);
    this.logger.warn(`killed leader ${leader.id} (pid ${pid}, term ${leader.term}) on request`, { executor: leader.id, term: leader.term });
    return { killed: leader.id, term: leader.term };
  }
}
