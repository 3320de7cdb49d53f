import { ClientError, Status } from 'nice-grpc';

/**
 * How a Raft cluster's replica that does not lead says so, and who it thinks leads: gRPC FAILED_PRECONDITION with
 * the message `NOT_LEADER leader=<id>` (`leader=` empty while no leader is known). Replicas throw it, clients
 * follow it (the books database's, the order executors').
 */
export const NOT_LEADER = 'NOT_LEADER';

export const notLeaderMessage = (leader: string | null): string => `${NOT_LEADER} leader=${leader ?? ''}`;

/** The leader a not-leader error names: an id, null when the replica knows of none; undefined for any other error. */
export function leaderHint(err: unknown): string | null | undefined {
  if (!(err instanceof ClientError) || err.code !== Status.FAILED_PRECONDITION) return undefined;
  const match = /^NOT_LEADER leader=(\S*)$/.exec(err.details);
  if (!match) return undefined;
  return match[1] === '' ? null : match[1];
}
