/**
 * Network faults for a system started with `{ hosts: true }`: the executors and
 * the queue are hosts on a bridge (src/dev/harness/netns.ts), and these cut real
 * links between them. Each fault returns the executor that must rejoin when it
 * heals, so callers can time "heal → follower of the current leader" (issue 15).
 */
import { createChannel, createClient, type Channel, type Client } from 'nice-grpc';
import { OrderExecutorDefinition, type ExecutorStatus } from '../../gen/causeway/v1/order_executor';
import { startSystem, type RunningSystem } from '../harness/system';
import type { HostNetwork } from '../harness/netns';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export const PARTITION_KINDS = [
  'isolate leader',
  'isolate follower',
  /** Asymmetric: the leader's packets to one follower are dropped; the follower's still reach the leader. */
  'drop leader → follower',
  /** Asymmetric: a follower hears the leader but cannot answer it. */
  'drop follower → leader',
  'flapping link',
  'isolate queue',
  /** Two-phase commit (issue 14): the leader executor cannot reach payment, a participant, nor payment it. */
  'cut leader ↔ payment',
  /** The leader executor cannot reach any books database replica (the replicas still reach each other). */
  'cut leader ↔ books database',
] as const;
export type PartitionKind = (typeof PARTITION_KINDS)[number];

/**
 * What every partition scenario runs with: the fraud velocity rules out of the way (the load sends thousands of
 * orders), and leases short enough that an order leased by a leader that was then cut off comes back soon.
 */
export const PARTITION_ENV: Readonly<Record<string, string>> = {
  FRAUD_CONTACT_VELOCITY_LIMIT: '100000000',
  FRAUD_CARD_VELOCITY_LIMIT: '100000000',
  ORDER_QUEUE_LEASE_MS: '2000',
  LOG_LEVEL: 'warn',
};

/** A system whose queue and executors are hosts on a bridge, with a Partitioner over it. */
export interface PartitionedSystem {
  system: RunningSystem;
  partitions: Partitioner;
  /** Heals every link, closes the Partitioner's channels and stops the system. */
  stop(): Promise<void>;
}

/** Starts a system with `{ hosts: true }` and PARTITION_ENV (overridden by `env`): the partition tests' fixture. */
export async function startPartitionedSystem(env: Record<string, string> = {}): Promise<PartitionedSystem> {
  const system = await startSystem({ ...PARTITION_ENV, ...env }, { hosts: true });
  const partitions = new Partitioner(system);
  return {
    system,
    partitions,
    async stop() {
      await partitions.close().catch(() => undefined);
      await system.stop();
    },
  };
}

export class Partitioner {
  readonly network: HostNetwork;
  private readonly clients: Record<string, Client<typeof OrderExecutorDefinition>>;
  private readonly channels: Channel[] = [];
  private flapping: Promise<void> | undefined;
  private flapStop = false;

  constructor(private readonly system: RunningSystem) {
    if (!system.network) throw new Error('partitions need a system started with { hosts: true }');
    this.network = system.network;
    this.clients = Object.fromEntries(
      Object.entries(system.executors).map(([id, address]) => {
        // Reconnects at least every 250 ms: with gRPC's default backoff (up to 2 minutes), a channel that failed
        // while its executor was being restarted could look at it seconds after it was back, and a rejoin would be
        // timed by the harness's channel rather than by the executor.
        const channel = createChannel(address, undefined, { 'grpc.initial_reconnect_backoff_ms': 50, 'grpc.max_reconnect_backoff_ms': 250 });
        this.channels.push(channel);
        return [id, createClient(OrderExecutorDefinition, channel)];
      }),
    );
  }

  /** Heals and closes the status channels. */
  async close(): Promise<void> {
    await this.heal();
    for (const channel of this.channels) channel.close();
  }

  get executors(): string[] {
    return Object.keys(this.system.executors);
  }

  /** Each executor's Status, or undefined where it does not answer within 300 ms. */
  async statuses(): Promise<Record<string, ExecutorStatus | undefined>> {
    const entries = await Promise.all(
      Object.entries(this.clients).map(async ([id, c]) => [id, await c.status({}, { signal: AbortSignal.timeout(300) }).catch(() => undefined)] as const),
    );
    return Object.fromEntries(entries);
  }

  /** The leader of the highest term any executor claims to lead. */
  async leader(): Promise<ExecutorStatus | undefined> {
    const leaders = Object.values(await this.statuses()).filter((s): s is ExecutorStatus => s?.role === 'leader');
    return leaders.sort((a, b) => b.term - a.term)[0];
  }

  async waitForLeader(timeoutMs = 10_000, above = 0): Promise<ExecutorStatus> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const leader = await this.leader();
      if (leader && leader.term > above) return leader;
      await sleep(20);
    }
    throw new Error(`no leader${above ? ` above term ${above}` : ''} within ${timeoutMs} ms`);
  }

  /** Waits until one executor leads and the others follow it in its term. */
  async waitForStableCluster(timeoutMs = 15_000): Promise<ExecutorStatus> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const all = Object.values(await this.statuses());
      const leader = all.find((s) => s?.role === 'leader');
      if (leader && all.every((s) => s && (s === leader || (s.role === 'follower' && s.leaderId === leader.id && s.term === leader.term)))) return leader;
      await sleep(20);
    }
    throw new Error(`the cluster did not settle (one leader, the others its followers) within ${timeoutMs} ms`);
  }

  /**
   * Injects one fault and returns the executor that must rejoin after the heal (none for the queue). The
   * flapping link keeps flapping in the background until `heal()`.
   */
  async inject(kind: PartitionKind, random: () => number = Math.random): Promise<{ rejoining?: string; description: string }> {
    const leader = (await this.waitForLeader()).id;
    const followers = this.executors.filter((e) => e !== leader);
    const follower = followers[Math.floor(random() * followers.length)];
    switch (kind) {
      case 'isolate leader':
        await this.network.cut(leader, followers);
        return { rejoining: leader, description: `${leader} (leader) cut off from ${followers.join(', ')}` };
      case 'isolate follower':
        await this.network.cut(follower, this.executors.filter((e) => e !== follower));
        return { rejoining: follower, description: `${follower} (follower) cut off from the other executors` };
      case 'drop leader → follower':
        await this.network.drop(leader, follower);
        return { rejoining: follower, description: `packets ${leader} (leader) → ${follower} dropped, the other way kept` };
      case 'drop follower → leader':
        await this.network.drop(follower, leader);
        return { rejoining: follower, description: `packets ${follower} → ${leader} (leader) dropped, the other way kept` };
      case 'flapping link':
        this.flap(leader, follower, 150 + Math.floor(random() * 250));
        return { rejoining: follower, description: `link ${leader} (leader) ↔ ${follower} flapping` };
      case 'isolate queue':
        await this.network.cut('order-queue', this.executors);
        return { description: 'order-queue cut off from every executor' };
      case 'cut leader ↔ payment':
        await this.network.cut('payment', [leader]);
        return { description: `${leader} (leader) cut off from payment` };
      case 'cut leader ↔ books database': {
        const replicas = Object.keys(this.system.booksDatabase);
        await this.network.cut(leader, replicas);
        return { description: `${leader} (leader) cut off from the books database (${replicas.join(', ')})` };
      }
    }
  }

  /** Cuts the link between `a` and `b` and restores it every `periodMs`, until `heal()`. */
  flap(a: string, b: string, periodMs: number): void {
    this.flapStop = false;
    this.flapping = (async () => {
      let down = false;
      while (!this.flapStop) {
        if (down) await this.network.heal();
        else await this.network.cut(a, [b]);
        down = !down;
        await sleep(periodMs);
      }
    })();
  }

  /** Ends every partition (and any flapping). */
  async heal(): Promise<void> {
    this.flapStop = true;
    await this.flapping;
    this.flapping = undefined;
    await this.network.heal();
  }

  /**
   * Milliseconds until `node` is a follower of the current leader, in that leader's term, and (with `caughtUpTo`)
   * has committed at least that index: polled every 10 ms, counted from `since` (a `performance.now()`; by
   * default now, so call it right after `heal()`).
   *
   * With `orLeading`, `node` has also rejoined when it leads and every other executor follows it in its term: an
   * election the majority held on its own (a busy machine can stall a leader's heartbeats) may have been won by
   * `node` once the heal let it take part. Measures of the heal itself (heals.ts) leave it off and re-run such
   * heals instead.
   */
  async rejoinMs(
    node: string,
    timeoutMs = 15_000,
    { since = performance.now(), caughtUpTo = 0, orLeading = false } = {},
  ): Promise<number> {
    let s: Record<string, ExecutorStatus | undefined> = {};
    while (performance.now() - since < timeoutMs) {
      s = await this.statuses();
      const me = s[node];
      const leader = Object.values(s).find((x) => x?.role === 'leader' && x.id !== node);
      const follows = (x: ExecutorStatus | undefined, l: ExecutorStatus) => x?.role === 'follower' && x.leaderId === l.id && x.term === l.term;
      if (me && leader && follows(me, leader) && me.commitIndex >= caughtUpTo) {
        return Math.round(performance.now() - since);
      }
      if (orLeading && me?.role === 'leader' && Object.values(s).every((x) => x === me || follows(x, me))) {
        return Math.round(performance.now() - since);
      }
      await sleep(10);
    }
    // What each executor said last, so that a failure tells which of the conditions above was not met.
    const seen = Object.entries(s)
      .map(([id, x]) => (x ? `${id} ${x.role} term ${x.term} leader ${x.leaderId || '-'} commit ${x.commitIndex}` : `${id} did not answer`))
      .join('; ');
    throw new Error(
      `${node} did not become a caught-up follower of the current leader within ${timeoutMs} ms of the heal (caught up to ${caughtUpTo}); last seen: ${seen}`,
    );
  }
}
