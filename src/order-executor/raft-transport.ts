import type { Channel } from 'nice-grpc';
import { OrderExecutorDefinition, type OrderExecutorClient } from '../gen/causeway/v1/order_executor';
import { createGrpcClient } from '../platform/grpc';
import type { Logger } from '../platform/logger';
import type { Message, NodeId } from '../raft/types';
import { messageToWire } from './wire';

/**
 * Sends Raft messages to peers over gRPC, one Step call per peer per Ready.
 * Fire and forget: Raft tolerates loss, so a failed send is only noted (once
 * per outage, not once per heartbeat).
 */
export class RaftTransport {
  private readonly clients = new Map<NodeId, OrderExecutorClient>();
  private readonly channels: Channel[] = [];
  private readonly unreachable = new Set<NodeId>();

  constructor(
    peers: Readonly<Record<NodeId, string>>,
    self: NodeId,
    deadlineMs: number,
    private readonly logger: Logger,
  ) {
    for (const [id, address] of Object.entries(peers)) {
      if (id === self) continue;
      // Raft traffic is not traced per message: heartbeats alone would be dozens of traces a second.
      const { client, channel } = createGrpcClient(OrderExecutorDefinition, address, { deadlineMs, traced: false });
      this.clients.set(id, client);
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
    for (const [peer, batch] of byPeer) {
      const client = this.clients.get(peer);
      if (!client) continue;
      client.step({ messages: batch.map(messageToWire) }).then(
        () => {
          if (this.unreachable.delete(peer)) this.logger.info(`peer ${peer} reachable again`, { peer });
        },
        (err: Error) => {
          if (!this.unreachable.has(peer)) {
            this.unreachable.add(peer);
            this.logger.warn(`peer ${peer} unreachable: ${err.message}`, { peer });
          }
        },
      );
    }
  }

  close(): void {
    for (const channel of this.channels) channel.close();
  }
}
