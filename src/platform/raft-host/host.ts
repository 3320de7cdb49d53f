import { RaftNode } from '../../raft/node';
import type { NodeId } from '../../raft/types';
import type { Logger } from '../logger';
import type { RaftConfig } from './config';
import type { StepRequest } from '../../gen/causeway/v1/raft';
import type { RaftDriver, RaftDriverHooks } from './driver';
import type { ElectionTelemetry } from './election-telemetry';
import { RaftFileStorage } from './storage';
import type { RaftTransport } from './transport';
import { messageFromWire, type Membership } from './wire';

/**
 * What every Raft cluster's composition root does alike (the order executors, the books database): open the
 * replica's durable state, start its pure core with the settings all clusters share, and wire the driver's hooks
 * that do not depend on the state machine.
 */

/** The replica's storage and recovered state, and its core; a torn final record cut off on open is logged. */
export async function openRaftReplica(options: { id: NodeId; peers: readonly NodeId[]; dataDir: string; raft: RaftConfig; logger: Logger }) {
  const { storage, state, repairedBytes } = await RaftFileStorage.open(options.dataDir);
  if (repairedBytes > 0) {
    // A crash tore the last write; it was never acknowledged, so cutting it loses nothing promised.
    options.logger.warn(`cut ${repairedBytes} bytes of a torn final record off the raft log`, { dir: options.dataDir });
  }
  const node = new RaftNode(
    {
      id: options.id,
      peers: [...options.peers],
      electionTicks: options.raft.electionTicks,
      heartbeatTicks: options.raft.heartbeatTicks,
      random: Math.random,
      preVote: true,
      checkQuorum: true,
    },
    state,
  );
  return { storage, state, node };
}

/** The hooks that are the same for every state machine: the transport, the compaction log line, elections, fail-stop. */
export function sharedRaftHooks(
  transport: RaftTransport,
  elections: ElectionTelemetry,
  logger: Logger,
): Pick<RaftDriverHooks, 'send' | 'heardFrom' | 'compacted' | 'observe' | 'fatal'> {
  return {
    send: (messages) => transport.send(messages),
    heardFrom: (peer, type) => transport.heardFrom(peer, type),
    compacted: (snapshot, bytes, { captureMs, totalMs }) =>
      logger.info(
        `snapshot at index ${snapshot.index} (${Math.round(bytes / 1024)} KiB; captured in ${captureMs.toFixed(0)} ms, on disk ${totalMs.toFixed(0)} ms after the capture began); log before it dropped`,
        { snapshot_index: snapshot.index, snapshot_capture_ms: Math.round(captureMs) },
      ),
    observe: (events) => elections.observe(events),
    fatal: (error) => {
      // Fail-stop: a supervisor (the launcher, Kubernetes) restarts us from what is on disk.
      logger.error(`stopping: ${error.message}`, { stack: error.stack });
      process.exit(1);
    },
  };
}

/**
 * A peer's stream of Raft messages, for as long as it stays connected. Each batch is decoded whole before any of it
 * is stepped, so a malformed message changes nothing: it ends the stream with INVALID_ARGUMENT (the peer reconnects).
 */
export async function stepPeerStream(driver: RaftDriver, members: Membership, requests: AsyncIterable<StepRequest>): Promise<Record<string, never>> {
  for await (const request of requests) driver.receive(request.messages.map((m) => messageFromWire(m, members)));
  return {};
}

/** The Raft part of a replica's Status answer, the same fields in both clusters' protos. */
export function raftStatusFields(driver: RaftDriver) {
  const s = driver.status();
  return {
    id: s.id,
    role: s.role,
    term: s.term,
    leaderId: s.leader ?? '',
    commitIndex: s.commit,
    appliedIndex: s.applied,
    logLength: s.lastIndex,
    snapshotIndex: s.snapshotIndex,
    lastHeartbeatMs: driver.lastHeartbeatMs,
  };
}
