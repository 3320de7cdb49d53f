import type { Channel } from 'nice-grpc';
import type { OrderExecutorClient, StepRequest } from '../gen/causeway/v1/order_executor';
import { createLogger } from '../platform/logger';
import { DEAD_PEER_MS, PeerStream } from './raft-transport';

/** A dial that counts connections, each with a stream that swallows what it is sent (as a black hole does). */
function fakeDial() {
  const connections: { closed: boolean; received: StepRequest[] }[] = [];
  const dial = () => {
    const connection = { closed: false, received: [] as StepRequest[] };
    connections.push(connection);
    const client = {
      stream: async (requests: AsyncIterable<StepRequest>) => {
        for await (const r of requests) connection.received.push(r);
        return {};
      },
    } as unknown as OrderExecutorClient;
    const channel = { close: () => (connection.closed = true) } as unknown as Channel;
    return { client, channel };
  };
  return { dial, connections };
}

const batch: StepRequest = { messages: [] };
const logger = createLogger('test', 'error');

describe('PeerStream liveness (a partition black-holes a connection; only a new one gets through after the heal)', () => {
  it('gives up a connection whose messages go unanswered for DEAD_PEER_MS and dials a fresh one', () => {
    let now = 1_000;
    const { dial, connections } = fakeDial();
    const stream = new PeerStream('executor-2', dial, logger, () => now);
    stream.send(batch);
    now += DEAD_PEER_MS - 1;
    stream.checkLiveness();
    expect(connections).toHaveLength(1);
    now += 1;
    stream.checkLiveness();
    expect(connections).toHaveLength(2);
    expect(connections[0].closed).toBe(true);
    expect(stream.redials).toBe(1);
    stream.close();
  });

  it('keeps a connection the peer answers on', () => {
    let now = 1_000;
    const { dial, connections } = fakeDial();
    const stream = new PeerStream('executor-2', dial, logger, () => now);
    for (let i = 0; i < 20; i++) {
      stream.send(batch);
      now += DEAD_PEER_MS / 2;
      stream.heardFrom();
      stream.checkLiveness();
    }
    expect(connections).toHaveLength(1);
    stream.close();
  });

  it('does not redial a peer it has stopped talking to', () => {
    let now = 1_000;
    const { dial, connections } = fakeDial();
    const stream = new PeerStream('executor-3', dial, logger, () => now);
    stream.send(batch); // e.g. a vote request the peer ignores
    for (let i = 0; i < 10; i++) {
      now += DEAD_PEER_MS;
      stream.checkLiveness();
    }
    expect(connections).toHaveLength(2);
    stream.close();
  });

  it('sends on the new connection after a redial', async () => {
    let now = 1_000;
    const { dial, connections } = fakeDial();
    const stream = new PeerStream('executor-2', dial, logger, () => now);
    stream.send(batch);
    now += DEAD_PEER_MS;
    stream.checkLiveness();
    stream.send({ messages: [] });
    await new Promise((r) => setImmediate(r));
    expect(connections[1].received).toHaveLength(1);
    stream.close();
  });
});
