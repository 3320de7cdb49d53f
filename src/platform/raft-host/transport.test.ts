import { ClientError, Status, type Channel } from 'nice-grpc';
import type { StepRequest } from '../../gen/causeway/v1/raft';
import { createLogger } from '../logger';
import type { MessageType } from '../../raft/types';
import { DEAD_PEER_MS, PeerStream, type RaftStreamClient } from './transport';
import { messageToWire } from './wire';

/**
 * A dial that counts connections, each with a stream that swallows what it is sent (as a black hole does). With
 * `comesUp: false` no connection ever comes up (a connection attempt whose SYN a partition drops).
 */
function fakeDial({ comesUp = true } = {}) {
  const connections: { closed: boolean; received: StepRequest[] }[] = [];
  const dial = () => {
    const connection = { closed: false, received: [] as StepRequest[] };
    connections.push(connection);
    const client = {
      stream: async (requests: AsyncIterable<StepRequest>) => {
        for await (const r of requests) connection.received.push(r);
        return {};
      },
    } as unknown as RaftStreamClient;
    const channel = { close: () => (connection.closed = true) } as unknown as Channel;
    return { client, channel, ready: comesUp ? Promise.resolve() : new Promise<void>(() => undefined) };
  };
  return { dial, connections };
}

const of = (type: MessageType): StepRequest => ({ messages: [messageToWire({ type, from: 'executor-1', to: 'executor-2', term: 3 })] });
/** A heartbeat: the peer answers it with an AppendResponse. */
const batch = of('Append');
/** Let the fake connection's `ready` settle. */
const settle = () => new Promise((r) => setImmediate(r));
const logger = createLogger('test', 'error');

/** A PeerStream to `peer` over fakeDial's connections, on a clock the test moves by hand (`clock.now`). */
function openStream(peer: string, options?: { comesUp?: boolean }) {
  const clock = { now: 1_000 };
  const { dial, connections } = fakeDial(options);
  return { stream: new PeerStream(peer, dial, logger, () => clock.now), connections, clock };
}

describe('PeerStream liveness (a partition black-holes a connection; only a new one gets through after the heal)', () => {
  it('gives up a connection whose requests go unanswered for DEAD_PEER_MS and dials a fresh one', async () => {
    const { stream, connections, clock } = openStream('executor-2');
    await settle();
    stream.send(batch);
    clock.now += DEAD_PEER_MS - 1;
    stream.checkLiveness();
    expect(connections).toHaveLength(1);
    clock.now += 1;
    stream.checkLiveness();
    expect(connections).toHaveLength(2);
    expect(connections[0].closed).toBe(true);
    expect(stream.redials).toBe(1);
    stream.close();
  });

  it('keeps a connection the peer answers on', async () => {
    const { stream, connections, clock } = openStream('executor-2');
    await settle();
    for (let i = 0; i < 20; i++) {
      stream.send(batch);
      clock.now += DEAD_PEER_MS / 2;
      stream.heardFrom('AppendResponse');
      stream.checkLiveness();
    }
    expect(connections).toHaveLength(1);
    stream.close();
  });

  it('does not redial a peer it has stopped talking to', async () => {
    const { stream, connections, clock } = openStream('executor-3');
    await settle();
    stream.send(of('PreVote')); // a pre-vote the peer ignores (it hears a live leader)
    for (let i = 0; i < 10; i++) {
      clock.now += DEAD_PEER_MS;
      stream.checkLiveness();
    }
    expect(connections).toHaveLength(2);
    stream.close();
  });

  it('sends on the new connection after a redial', async () => {
    const { stream, connections, clock } = openStream('executor-2');
    await settle();
    stream.send(batch);
    clock.now += DEAD_PEER_MS;
    stream.checkLiveness();
    stream.send(of('AppendResponse'));
    await new Promise((r) => setImmediate(r));
    expect(connections[1].received).toHaveLength(1);
    stream.close();
  });

  // Issue 15, seen in the heal test: a leader's connection to a follower, dialled during the partition, was an
  // attempt whose SYN had been dropped; after the heal the follower's pre-votes reached the leader over the
  // follower's own fresh connection, and counting them as answers kept the leader on its dead attempt until
  // TCP sent the SYN again a second later.
  it("does not take the peer's own requests for answers: they came over the peer's connection, not ours", async () => {
    const { stream, connections, clock } = openStream('executor-2');
    await settle();
    stream.send(batch);
    for (let i = 0; i < 5; i++) {
      clock.now += DEAD_PEER_MS / 5;
      stream.heardFrom('PreVote');
      stream.heardFrom('Append');
      stream.checkLiveness();
    }
    expect(connections).toHaveLength(2);
    stream.close();
  });

  it('gives up a connection that has not come up within DEAD_PEER_MS of dialling, whatever arrives from the peer', () => {
    const { stream, connections, clock } = openStream('executor-2', { comesUp: false });
    // A follower only answers, so nothing it sends arms the unanswered-request timer: the dead attempt is caught
    // by its age alone.
    stream.send(of('AppendResponse'));
    clock.now += DEAD_PEER_MS - 1;
    stream.checkLiveness();
    expect(connections).toHaveLength(1);
    clock.now += 1;
    stream.checkLiveness();
    expect(connections).toHaveLength(2);
    expect(connections[0].closed).toBe(true);
    stream.close();
  });

  it('keeps a connection that came up while it carries only answers', async () => {
    const { stream, connections, clock } = openStream('executor-1');
    await settle();
    for (let i = 0; i < 20; i++) {
      stream.heardFrom('Append');
      stream.send(of('AppendResponse'));
      clock.now += DEAD_PEER_MS / 2;
      stream.checkLiveness();
    }
    expect(connections).toHaveLength(1);
    stream.close();
  });

  it('gives up an attempt that is not up at once when the peer is heard from again: the network works again', () => {
    const { stream, connections, clock } = openStream('executor-2', { comesUp: false });
    stream.send(batch);
    clock.now += 10;
    stream.heardFrom('PreVote');
    expect(connections).toHaveLength(2);
    expect(connections[0].closed).toBe(true);
    stream.close();
  });

  // The first version of the rule gave up any attempt older than 50 ms while the peer was heard from: on a machine at
  // load average 17 an attempt took longer than that to come up, every one was killed, and a healed follower never
  // came back (heal test, 15 s timeout).
  it('lets an attempt dialled while the peer is heard from take its time to come up', () => {
    const { stream, connections, clock } = openStream('executor-2', { comesUp: false });
    stream.send(batch);
    clock.now += 10;
    stream.heardFrom('PreVote'); // the peer is back: the attempt made before is given up
    expect(connections).toHaveLength(2);
    stream.send(batch);
    for (let i = 0; i < 12; i++) {
      clock.now += 20; // the peer's heartbeats keep coming while the new attempt is slow to come up
      stream.heardFrom('Append');
    }
    expect(connections).toHaveLength(2);
    // Still, an attempt that never comes up is given up after DEAD_PEER_MS.
    clock.now += DEAD_PEER_MS;
    stream.checkLiveness();
    expect(connections).toHaveLength(3);
    stream.close();
  });

  // At load average 19 the heal runs showed links inside the majority redialled every few hundred ms: the
  // liveness check ran 300 ms late and found the answers to the last heartbeats not yet read.
  it('does not hold against the peer the time this process itself did not run', async () => {
    const { stream, connections, clock } = openStream('executor-2');
    await settle();
    stream.send(batch);
    clock.now += DEAD_PEER_MS - 1 + 300; // the event loop was blocked for 300 ms past the check that was due
    stream.checkLiveness(300);
    expect(connections).toHaveLength(1);
    clock.now += 50;
    stream.checkLiveness(); // still no answer after DEAD_PEER_MS of our own running time
    expect(connections).toHaveLength(2);
    stream.close();
  });
});

describe('PeerStream: a lost peer (its connection reset or refused: the process is gone)', () => {
  /** A dial whose streams fail with `code` once the first batch is sent, as grpc-js reports a reset connection. */
  function failingStream(code: Status) {
    let lost = 0;
    const dial = () => {
      const client = {
        stream: async (requests: AsyncIterable<StepRequest>) => {
          for await (const _ of requests) throw new ClientError('/causeway.v1.OrderExecutor/Stream', code, 'read ECONNRESET');
          return {};
        },
      } as unknown as RaftStreamClient;
      return { client, channel: { close: () => undefined } as unknown as Channel };
    };
    const clock = { now: 1_000 };
    const stream = new PeerStream('executor-2', dial, logger, () => clock.now, () => lost++);
    return { stream, clock, lost: () => lost };
  }

  it('reports the loss once when the stream fails with UNAVAILABLE, and again only after the peer was heard from', async () => {
    const { stream, clock, lost } = failingStream(Status.UNAVAILABLE);
    stream.send(batch);
    await settle();
    expect(lost()).toBe(1);
    clock.now += 100; // past RECONNECT_MS: the next send dials again, and fails again
    stream.send(batch);
    await settle();
    expect(lost()).toBe(1);
    stream.heardFrom('Append'); // back (restarted)
    clock.now += 100;
    stream.send(batch);
    await settle();
    expect(lost()).toBe(2);
    stream.close();
  });

  it('does not take other failures, or its own redials, for a lost peer', async () => {
    const refused = failingStream(Status.INVALID_ARGUMENT); // the peer refused a batch: it is alive
    refused.stream.send(batch);
    await settle();
    expect(refused.lost()).toBe(0);
    refused.stream.close();
    const { dial } = fakeDial();
    const clock = { now: 1_000 };
    let lost = 0;
    const silent = new PeerStream('executor-2', dial, logger, () => clock.now, () => lost++);
    await settle();
    silent.send(batch);
    clock.now += DEAD_PEER_MS;
    silent.checkLiveness(); // unanswered: redialled, which ends the old stream without an error of its own
    await settle();
    expect(silent.redials).toBe(1);
    expect(lost).toBe(0);
    silent.close();
  });
});
