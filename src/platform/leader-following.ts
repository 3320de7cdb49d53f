import { ClientError, Status, type Channel, type CompatServiceDefinition } from 'nice-grpc';
import { createGrpcClient } from './grpc';
import { leaderHint } from './not-leader';

export interface LeaderFollowingOptions {
  /** Deadline of one call to one replica. */
  callDeadlineMs: number;
  /** How long one operation keeps following the leader and retrying before it gives up. */
  totalMs: number;
  /** Pause before trying again when no replica knows a leader (an election is under way). */
  backoffMs?: number;
  /** A trace span per call (false for tests and pollers). */
  traced?: boolean;
}

/** Statuses after which another replica (or the same one, later) may well succeed: the operation is retried. */
const RETRYABLE: ReadonlySet<Status> = new Set([Status.UNAVAILABLE, Status.DEADLINE_EXCEEDED, Status.CANCELLED, Status.UNKNOWN, Status.INTERNAL]);

/**
 * Calls to a Raft cluster's leader, one client per replica: an operation goes to the replica last known to lead,
 * follows a follower's `NOT_LEADER leader=<id>` hint (not-leader.ts), and tries the other replicas while no leader is
 * known or one is unreachable, until `totalMs` has passed. Any other error (refused input, UNIMPLEMENTED) is the
 * caller's. Only for operations that are safe to retry. Used by the books database's client and by the participants'
 * GetDecision client of the order executors.
 */
export class LeaderFollowingClients<Service extends CompatServiceDefinition> {
  private readonly replicas: Map<string, ReturnType<typeof createGrpcClient<Service>>>;
  private readonly ids: string[];
  private leader: string | undefined;
  private next = 0;

  /** `cluster` names it in errors ("books database", "order executors"). */
  constructor(
    definition: Service,
    peers: Readonly<Record<string, string>>,
    private readonly options: LeaderFollowingOptions,
    private readonly cluster: string,
  ) {
    this.ids = Object.keys(peers);
    if (this.ids.length === 0) throw new Error(`${cluster}: a client needs at least one replica`);
    this.replicas = new Map(
      Object.entries(peers).map(([id, address]) => [
        id,
        createGrpcClient(definition, address, { deadlineMs: options.callDeadlineMs, traced: options.traced ?? true, maxReconnectBackoffMs: 500 }),
      ]),
    );
  }

  /** The replica last known to lead, if any. */
  get knownLeader(): string | undefined {
    return this.leader;
  }

  /** Runs `operation` on the leader; `id` is the replica it was sent to. */
  async call<T>(operation: (client: ReturnType<typeof createGrpcClient<Service>>['client'], id: string) => Promise<T>): Promise<T> {
    const deadline = Date.now() + this.options.totalMs;
    let lastError: unknown;
    while (Date.now() < deadline) {
      const id = this.leader ?? this.ids[this.next++ % this.ids.length];
      try {
        const result = await operation(this.replicas.get(id)!.client, id);
        this.leader = id;
        return result;
      } catch (err) {
        lastError = err;
        const hint = leaderHint(err);
        if (hint !== undefined) {
          // A follower: go where it points, or, when it knows no leader, ask around after a pause.
          this.leader = hint !== null && hint !== id && this.replicas.has(hint) ? hint : undefined;
          if (this.leader === undefined) await this.pause();
          continue;
        }
        if (err instanceof ClientError && RETRYABLE.has(err.code)) {
          this.leader = undefined;
          await this.pause();
          continue;
        }
        throw err;
      }
    }
    throw lastError instanceof Error ? lastError : new Error(`${this.cluster}: no replica answered`);
  }

  close(): void {
    for (const { channel } of this.replicas.values()) (channel as Channel).close();
  }

  private pause(): Promise<void> {
    return new Promise((r) => setTimeout(r, this.options.backoffMs ?? 50));
  }
}
