import type { Channel } from 'nice-grpc';
import { inject, injectable } from 'tsyringe';
import { OrderExecutorDefinition, type OrderExecutorClient, type StepRequest } from '../gen/causeway/v1/order_executor';
import { createGrpcClient } from '../platform/grpc';
import { LOGGER, type Logger } from '../platform/logger';
import type { Message, NodeId } from '../raft/types';
import { EXECUTOR_ID, PEER_ADDRESSES } from './tokens';
import { messageToWire } from './wire';

/** After a failed stream, wait this long before dialling the peer again (messages meanwhile are dropped). */
const RECONNECT_MS = 50;
/** The channel's own redial back-off stays below an election timeout, so a restarted peer is heard from at once. */
const MAX_REDIAL_MS = 250;
/**
 * A peer that has not answered anything sent to it for this long is behind a dead
 * connection: start over on a fresh one. Heartbeats go out every 20 ms, so this is
 * a dozen unanswered ones.
 */
export const DEAD_PEER_MS = 250;

/** Where a peer stream gets its connection; a fresh one each time the old one is given up. */
export type Dial = () => { client: OrderExecutorClient; channel: Channel };

/**
 * One long-lived client stream to one peer. Raft tolerates loss, so while the
 * peer is unreachable messages are dropped rather than queued: the protocol
 * retransmits what matters (heartbeats carry the log position).
 *
 * A network partition drops packets without a reset, so TCP keeps a dead
 * connection (and a connection attempt) retransmitting with a growing back-off,
 * and after the partition heals nothing flows until the next retry, seconds
 * later. So the stream watches for answers: when what it sent has gone
 * unanswered for DEAD_PEER_MS, it abandons the connection and dials a new one,
 * which reaches the peer within a round trip of the heal.
 */
export class PeerStream {
  private pending: StepRequest[] = [];
  private wake: (() => void) | undefined;
  private open = false;
  private retryAt = 0;
  private reachable = true;
  private closed = false;
  private connection: { client: OrderExecutorClient; channel: Channel };
  /** Bumped with each new connection, so a stale stream's end does not touch its successor. */
  private generation = 0;
  /** When the oldest message not yet answered by the peer was sent (undefined: everything answered). */
  private unansweredSince: number | undefined;
  private connectedAt = 0;
  /** Connections given up as dead, for tests and logs. */
  redials = 0;

  constructor(
    private readonly peer: NodeId,
    private readonly dial: Dial,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {
    this.connection = dial();
  }

  send(batch: StepRequest): void {
    if (this.closed) return;
    const now = this.now();
    this.unansweredSince ??= now;
    if (!this.open) {
      if (now < this.retryAt) return;
      this.connect();
    }
    this.pending.push(batch);
    this.wake?.();
  }

  /** The peer sent us something, so it is up and what we sent got through. */
  heardFrom(): void {
    this.unansweredSince = undefined;
    if (!this.reachable) {
      this.reachable = true;
      this.logger.info(`peer ${this.peer} reachable again`, { peer: this.peer });
    }
  }

  /** Called periodically: gives up a connection whose messages have gone unanswered for too long. */
  checkLiveness(): void {
    const now = this.now();
    if (this.closed || this.unansweredSince === undefined) return;
    if (now - this.unansweredSince < DEAD_PEER_MS || now - this.connectedAt < DEAD_PEER_MS) return;
    this.redials++;
    // Counted again from the next message: a peer we stop talking to is not redialled forever.
    this.unansweredSince = undefined;
    this.replaceConnection();
  }

  close(): void {
    this.closed = true;
    this.stopStream();
    this.connection.channel.close();
  }

  private replaceConnection(): void {
    this.stopStream();
    this.connection.channel.close();
    this.connection = this.dial();
    this.retryAt = 0;
  }

  private connect(): void {
    this.open = true;
    this.connectedAt = this.now();
    const generation = ++this.generation;
    this.connection.client.stream(this.outgoing(generation)).then(
      () => this.disconnected(generation, undefined),
      (err: Error) => this.disconnected(generation, err),
    );
  }

  private async *outgoing(generation: number): AsyncGenerator<StepRequest> {
    while (this.open && generation === this.generation) {
      const batch = this.pending.shift();
      if (batch) {
        yield batch;
        continue;
      }
      await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = undefined;
    }
  }

  private stopStream(): void {
    this.open = false;
    this.pending = [];
    this.generation++;
    this.wake?.();
  }

  private disconnected(generation: number, err: Error | undefined): void {
    if (generation !== this.generation) return;
    this.stopStream();
    this.retryAt = this.now() + RECONNECT_MS;
    if (err && this.reachable && !this.closed) {
      this.reachable = false;
      this.logger.warn(`peer ${this.peer} unreachable: ${err.message}`, { peer: this.peer });
    }
  }
}

/**
 * Sends Raft messages to peers over gRPC: one client stream per peer, one
 * stream message per Ready. Cheaper by far than a unary call per batch, and
 * in order.
 */
@injectable()
export class RaftTransport {
  private readonly streams = new Map<NodeId, PeerStream>();
  private readonly liveness: NodeJS.Timeout;

  constructor(
    @inject(PEER_ADDRESSES) peers: Readonly<Record<NodeId, string>>,
    @inject(EXECUTOR_ID) self: NodeId,
    @inject(LOGGER) logger: Logger,
  ) {
    for (const [id, address] of Object.entries(peers)) {
      if (id === self) continue;
      // No deadline (the stream lives as long as the peer) and no per-message traces.
      // A channel of its own each time (not grpc-js's shared subchannel, which would still be retrying the old
      // connection attempt), so a redial really opens a new connection.
      const dial = () =>
        createGrpcClient(OrderExecutorDefinition, address, { deadlineMs: 0, traced: false, maxReconnectBackoffMs: MAX_REDIAL_MS, privateConnection: true });
      this.streams.set(id, new PeerStream(id, dial, logger));
    }
    this.liveness = setInterval(() => {
      for (const stream of this.streams.values()) stream.checkLiveness();
    }, DEAD_PEER_MS / 5);
    this.liveness.unref();
  }

  send(messages: readonly Message[]): void {
    const byPeer = new Map<NodeId, Message[]>();
    for (const m of messages) {
      const list = byPeer.get(m.to) ?? [];
      list.push(m);
      byPeer.set(m.to, list);
    }
    for (const [peer, batch] of byPeer) this.streams.get(peer)?.send({ messages: batch.map(messageToWire) });
  }

  /** A message arrived from this peer, so it is up. */
  heardFrom(peer: NodeId): void {
    this.streams.get(peer)?.heardFrom();
  }

  /** Connections given up as dead since start, per peer. */
  redials(): Record<NodeId, number> {
    return Object.fromEntries([...this.streams].map(([id, s]) => [id, s.redials]));
  }

  close(): void {
    clearInterval(this.liveness);
    for (const stream of this.streams.values()) stream.close();
  }
}
