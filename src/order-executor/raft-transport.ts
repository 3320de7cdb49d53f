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
 * One long-lived client stream to one peer. Raft tolerates loss, so while the
 * peer is unreachable messages are dropped rather than queued: the protocol
 * retransmits what matters (heartbeats carry the log position).
 */
class PeerStream {
  private pending: StepRequest[] = [];
  private wake: (() => void) | undefined;
  private open = false;
  private retryAt = 0;
  private reachable = true;
  private closed = false;

  constructor(
    private readonly peer: NodeId,
    private readonly client: OrderExecutorClient,
    private readonly logger: Logger,
  ) {}

  send(batch: StepRequest): void {
    if (this.closed) return;
    if (!this.open) {
      if (Date.now() < this.retryAt) return;
      this.connect();
    }
    this.pending.push(batch);
    this.wake?.();
  }

  close(): void {
    this.closed = true;
    this.open = false;
    this.wake?.();
  }

  private connect(): void {
    this.open = true;
    const messages = this.outgoing();
    this.client.stream(messages).then(
      () => this.disconnected(undefined),
      (err: Error) => this.disconnected(err),
    );
  }

  private async *outgoing(): AsyncGenerator<StepRequest> {
    while (this.open) {
      const batch = this.pending.shift();
      if (batch) {
        yield batch;
        continue;
      }
      await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = undefined;
    }
  }

  private disconnected(err: Error | undefined): void {
    this.open = false;
    this.pending = [];
    this.wake?.();
    this.retryAt = Date.now() + RECONNECT_MS;
    if (err && this.reachable && !this.closed) {
      this.reachable = false;
      this.logger.warn(`peer ${this.peer} unreachable: ${err.message}`, { peer: this.peer });
    }
  }

  /** The peer answered (its stream took our messages): note a recovery once. */
  markReachable(): void {
    if (!this.reachable) {
      this.reachable = true;
      this.logger.info(`peer ${this.peer} reachable again`, { peer: this.peer });
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
  private readonly channels: Channel[] = [];

  constructor(
    @inject(PEER_ADDRESSES) peers: Readonly<Record<NodeId, string>>,
    @inject(EXECUTOR_ID) self: NodeId,
    @inject(LOGGER) private readonly logger: Logger,
  ) {
    for (const [id, address] of Object.entries(peers)) {
      if (id === self) continue;
      // No deadline (the stream lives as long as the peer) and no per-message traces.
      const { client, channel } = createGrpcClient(OrderExecutorDefinition, address, { deadlineMs: 0, traced: false, maxReconnectBackoffMs: MAX_REDIAL_MS });
      this.streams.set(id, new PeerStream(id, client, logger));
      this.channels.push(channel);
    }
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
    this.streams.get(peer)?.markReachable();
  }

  close(): void {
    for (const stream of this.streams.values()) stream.close();
    for (const channel of this.channels) channel.close();
  }
}
